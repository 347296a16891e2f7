"""A transfer in real Chromium: one store dispatches it, the other receives it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import Package, Transfer
from tests import factories
from tests.browser.test_store_flow import shoot, sign_in
from tests.services.builders import make_transfer

pytestmark = pytest.mark.browser


def test_one_store_dispatches_a_transfer_and_the_other_receives_it(app, page):
    sender = factories.location("IST-01", name="Beşiktaş Store")
    receiver = factories.location("IST-02", name="Kadıköy Store")
    factories.user("sam", "staff", [sender])
    factories.user("rita", "staff", [receiver])
    factories.cargo_company("demo", name="Demo Cargo")
    factories.product("TSHIRT-M", "8690000000017", name="Cotton T-shirt, navy, M")
    factories.product("CAP-BLK", "8690000000024", name="Baseball cap, black")
    db.session.commit()
    transfer = make_transfer(items=[("TSHIRT-M", 2), ("CAP-BLK", 1)], source=sender, destination=receiver)
    make_transfer(items=[("CAP-BLK", 1)], source=sender, destination=receiver)

    sign_in(page, "sam")
    page.wait_for_url("**/store/IST-01/")
    page.click("nav >> text=Transfers")
    page.click("a.tab:has-text('Dispatch')")
    expect(page.locator("#transfers .row")).to_have_count(2)
    shoot(page, "store-transfers")
    page.click(f"text={transfer.number}")
    page.wait_for_url(f"**/transfers/{transfer.id}")
    expect(page.locator("button[data-command=receive]")).to_have_count(0)
    page.select_option("#ready_for_dispatch-cargo_company", "demo")
    page.fill("#ready_for_dispatch-tracking_number", "DM-777")
    page.click("button[data-command=ready_for_dispatch]")
    expect(page.locator("#transfer .package-head .chip")).to_have_text("Ready for dispatch")
    expect(page.locator("#transfer")).to_contain_text("DM-777")
    shoot(page, "store-transfer")
    page.click("button[data-command=dispatch]")
    expect(page.locator("#transfer .package-head .chip")).to_have_text("In transit")
    page.click("text=Sign out")

    sign_in(page, "rita")
    page.wait_for_url("**/store/IST-02/")
    page.click("a.count-tile:has-text('Expected')")
    page.click(f"text={transfer.number}")
    expect(page.locator("button[data-command=dispatch]")).to_have_count(0)
    page.click("button[data-command=receive]")
    expect(page.locator("#transfer .package-head .chip")).to_have_text("Received")

    db.session.rollback()
    assert db.session.scalar(select(Transfer.state).where(Transfer.id == transfer.id)) == "received"
    assert db.session.scalar(select(Package.state).where(Package.id == transfer.package_id)) == "waiting"
