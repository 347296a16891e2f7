"""Supervisor and admin flows in Chromium: manual planning of an out-of-stock package, and a stock
import with one bad line whose progress bar finishes while a real RQ worker runs."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Package, Scenario
from tests import factories
from tests.factories import PASSWORD
from tests.services.builders import get_product, make_package, set_stock, stock_of
from tests.views.test_admin_imports import start_worker

pytestmark = pytest.mark.browser


def sign_in(page, username: str) -> None:
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()


def test_supervisor_plans_an_out_of_stock_package_manually(app, page):
    home = factories.location("WH-01", name="Warehouse")
    store = factories.location("IST-01", name="Kadikoy")
    package = make_package("out_of_stock", location=home, items=[("SKU-A", 2)], spare=0)
    set_stock(store, get_product("SKU-A"), 4)
    factories.user("sup", "supervisor")
    db.session.commit()
    package_id, order_id, store_id = package.id, package.order_id, store.id
    sign_in(page, "sup")
    page.click("nav >> text=Out of stock")
    page.click(f"text={package.number}")
    page.click("text=Plan manually")
    row = page.locator('tr[data-location="IST-01"]')
    assert row.locator("td.ok").inner_text() == "4"
    page.click("text=Plan here")  # nothing chosen yet: the error appears next to the item
    assert "Choose a location for this item" in page.inner_text("#plan-form .field-error")
    page.select_option("#all_location", "IST-01")
    page.click("text=Plan here")
    page.wait_for_url(f"**/supervisor/orders/{order_id}/")
    assert "Plan manually" in page.inner_text("table.history")  # the command in words
    db.session.rollback()
    packages = db.session.scalars(select(Package).where(Package.order_id == order_id).order_by(Package.id)).all()
    assert [(p.id == package_id, p.state) for p in packages] == [(True, "cancelled"), (False, "waiting")]
    assert packages[1].location_id == store_id and stock_of(store_id, "SKU-A") == (4, 2)


def test_admin_imports_a_stock_csv_and_watches_the_progress_bar_finish(app, page, tmp_path):
    loc = factories.location("IST-01")
    factories.product("MUG-1")
    factories.product("CUP-1")
    factories.user("root", "admin")
    db.session.commit()
    loc_id = loc.id
    csv = tmp_path / "stock.csv"
    csv.write_text("location,sku,quantity\nIST-01,MUG-1,5\nIST-01,GHOST,3\nIST-01,CUP-1,9\n", encoding="utf-8")
    sign_in(page, "root")
    page.goto("/admin/imports/")
    page.select_option("#kind", "stock")
    page.set_input_files("#file", str(csv))
    page.click("text=Upload and import")
    page.wait_for_selector('#import-progress[data-status="queued"]')
    worker = start_worker()
    page.wait_for_selector('#import-progress[data-status="finished"]', timeout=20000)
    worker.join(timeout=30)
    bar = page.locator("#import-bar")
    assert bar.get_attribute("value") == bar.get_attribute("max") == "3"
    assert page.inner_text("[data-rejected]") == "1" and page.inner_text("[data-updated]") == "2"
    assert "Unknown SKU 'GHOST'" in page.inner_text('tr[data-line="3"]')
    db.session.rollback()
    assert stock_of(loc_id, "MUG-1") == (5, 0) and stock_of(loc_id, "CUP-1") == (9, 0)


def test_admin_builds_a_scenario_with_two_rules_reorders_them_and_dry_runs_an_order(app, page):
    factories.location("WH-01", name="Warehouse", type="warehouse")
    store = factories.location("IST-01", name="Kadikoy")
    factories.channel("web")
    set_stock(store, get_product("SKU-A"), 5)
    from tests.services.builders import make_order

    make_order([("SKU-A", 1)], number="WEB-42")
    factories.user("root", "admin")
    db.session.commit()
    sign_in(page, "root")
    page.goto("/admin/scenarios/")
    page.click("text=New scenario")
    page.fill("#name", "Web orders")
    page.select_option("#default_location", "WH-01")
    page.fill("#rules-0-name", "Warehouse first")
    page.fill("#rules-0-locations", "WH-01")
    page.click("text=Add rule")
    page.wait_for_selector("#rules-1-name")
    page.fill("#rules-1-name", "Any store")
    page.select_option("#rules-1-location_type", "store")
    page.select_option("#rules-1-sort-0-by", "stock")
    page.select_option("#rules-1-sort-0-order", "desc")
    page.locator("li.rule").nth(1).locator('button[value="up-1"]').click()
    page.wait_for_selector('li.rule[data-rule="Any store"]:first-child')
    assert page.input_value("#rules-0-name") == "Any store"
    assert page.input_value("#rules-0-sort-0-by") == "stock"  # the rule's settings moved with it
    page.click("text=Save scenario")
    page.wait_for_selector("#scenario-form .alert-ok")
    db.session.rollback()
    assert [r.name for r in db.session.scalar(select(Scenario)).rules] == ["Any store", "Warehouse first"]
    page.fill("#order_number", "WEB-42")
    page.click("#dry-run >> text=Dry-run")
    page.wait_for_selector(".dry-run-result")
    trace = page.inner_text(".dry-run-result .trace-text")
    assert "Scenario 'Web orders' matches." in trace and "IST-01" in trace
