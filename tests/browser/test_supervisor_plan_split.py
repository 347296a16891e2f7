"""Manual planning in real Chromium: a supervisor splits one line over two stores (the split's
inputs sit in a <details> that works without JavaScript), at tablet and phone sizes."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import Package
from tests import factories
from tests.browser import test_first_run
from tests.browser.test_first_run import sign_in, unexpected, visit
from tests.services.builders import get_product, make_package, set_stock

pytestmark = pytest.mark.browser
open_page = test_first_run.open_page  # the same fixture: pages of either size that collect console problems


@pytest.mark.parametrize(("size", "js"), [("tablet", True), ("phone", False)])
def test_a_supervisor_splits_one_line_over_two_stores(app, open_page, size, js):
    home = factories.location("WH-01")
    stores = factories.location("IST-A"), factories.location("IST-B")
    package = make_package("out_of_stock", location=home, items=[("SHIRT", 3)], spare=0)
    for store in stores:
        set_stock(store, get_product("SHIRT"), 2)
    factories.user("sup", "supervisor")
    db.session.commit()
    item_id, order_id = package.items[0].id, package.order_id
    page = open_page(size, js)
    sign_in(page, "sup", factories.PASSWORD)
    visit(page, f"/supervisor/packages/{package.id}/plan")

    page.click("summary:has-text('Split over locations')")
    page.fill(f"#split-{item_id}-IST-A", "2")
    page.fill(f"#split-{item_id}-IST-B", "2")
    page.click("text=Plan here")
    expect(page.locator(f"#location-{item_id}-error")).to_contain_text("The units add up to 4")

    page.fill(f"#split-{item_id}-IST-B", "1")
    page.click("text=Plan here")
    page.wait_for_url(f"**/supervisor/orders/{order_id}/")
    expect(page.locator("tr[data-package]")).to_have_count(3)
    db.session.rollback()
    live = db.session.scalars(select(Package).where(Package.order_id == order_id, Package.state == "waiting")
                              .order_by(Package.id)).all()
    assert [(p.location.code, p.items[0].quantity) for p in live] == [("IST-A", 2), ("IST-B", 1)]
    assert unexpected(page.problems) == []
