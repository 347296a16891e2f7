"""The receiving screen in real Chromium at tablet size, with a "scanner": barcodes typed into
the focused field, each followed by Enter, as a USB/Bluetooth scanner does."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import Return
from app.services.returns import create_return
from tests import factories
from tests.browser.test_store_flow import shoot, sign_in
from tests.services.builders import make_package, staff, stock_of

pytestmark = pytest.mark.browser

SHIRT, CAP = "8690000000017", "8690000000024"


def test_a_return_is_scanned_checked_and_finished_with_a_typed_scanner(app, page):
    store = factories.location("IST-01", name="Kadıköy Store")
    factories.user("ayse", "staff", [store])
    factories.product("TSHIRT-M", SHIRT, name="Cotton T-shirt, navy, M")
    factories.product("CAP-BLK", CAP, name="Baseball cap, black")
    db.session.commit()
    package = make_package("delivered", items=(("TSHIRT-M", 2), ("CAP-BLK", 1)), location=store, spare=0)
    ret = create_return({"order": package.order_id, "location": "IST-01",
                         "items": [{"sku": "TSHIRT-M", "quantity": 2, "reason": "too small"},
                                   {"sku": "CAP-BLK", "quantity": 1}]}, staff(store))
    number, return_id = ret.number, ret.id

    sign_in(page, "ayse")
    page.wait_for_url("**/store/IST-01/")
    page.click("nav >> text=Receiving")
    expect(page.locator(f"#return-row-{return_id}")).to_be_visible()
    page.click(f"text={number}")
    page.wait_for_url(f"**/receiving/returns/{return_id}")
    field = page.locator("#scan-field")
    expect(field).to_be_focused()
    # The scanner types fast, Enter after each barcode; the queue counts every one once.
    for barcode in (SHIRT, CAP, SHIRT):
        page.keyboard.type(barcode, delay=5)
        page.keyboard.press("Enter")
    expect(page.locator("#return-progress")).to_contain_text("Counted 3 of 3")
    page.keyboard.type("0000000000000", delay=5)
    page.keyboard.press("Enter")
    expect(page.locator("#scan-feedback")).to_contain_text("not on this return")
    expect(page.locator("#return-progress")).to_contain_text("Counted 3 of 3")
    shoot(page, "store-receiving-return")

    page.click("[data-command=review]")
    shirt_item = ret.items[0].id
    expect(page.locator(f"#received-{shirt_item}")).to_have_value("2")
    page.fill(f"#damaged-{shirt_item}", "1")
    page.click("button[data-command=finish]")
    expect(page.locator(".field-error")).to_contain_text("damaged")  # a reason is asked for
    page.fill(f"#note-{shirt_item}", "Stain on the front")
    page.click("button[data-command=finish]")
    expect(page.locator("#return .package-head .chip")).to_have_text("Restocked")
    # Done: the address is the return's page and the way back is the Receiving list, not counting.
    page.wait_for_url(f"**/receiving/returns/{return_id}")
    expect(page.locator("#back-link a")).to_have_attribute("href", "/store/IST-01/receiving")
    expect(page.locator("#back-link")).not_to_contain_text("Back to counting")

    db.session.rollback()
    assert db.session.scalar(select(Return.state).where(Return.id == return_id)) == "restocked"
    assert stock_of(store, "TSHIRT-M") == (1, 0) and stock_of(store, "CAP-BLK") == (1, 0)


def test_the_receiving_list_and_a_counter_return_at_tablet_size(app, page):
    store = factories.location("IST-02", name="Beşiktaş Store")
    factories.user("rita", "staff", [store])
    factories.product("TSHIRT-M", SHIRT, name="Cotton T-shirt, navy, M")
    db.session.commit()
    package = make_package("delivered", items=(("TSHIRT-M", 1),), spare=0)  # packed at another store
    number = package.order.number

    sign_in(page, "rita")
    page.wait_for_url("**/store/IST-02/")
    page.click("nav >> text=Receiving")
    page.click("text=Customer return at the counter")
    page.wait_for_url("**/returns/new")
    expect(page.locator("#order-search")).to_be_focused()
    page.keyboard.type(number, delay=5)  # the order barcode, scanned
    page.keyboard.press("Enter")
    page.click(f"a.row:has-text('{number}')")
    page.fill(f"#quantity-{package.items[0].product_id}", "1")
    page.fill(f"#reason-{package.items[0].product_id}", "Wrong size")
    page.click("button[data-command=create-return]")
    expect(page.locator("#return .package-head h1")).to_have_text(f"{number}-R1")
    expect(page.locator("#scan-field")).to_be_focused()  # a scan before the field has focus is lost
    page.keyboard.type(SHIRT, delay=5)
    page.keyboard.press("Enter")
    expect(page.locator("#return-progress")).to_contain_text("Counted 1 of 1")
    page.click("[data-command=review]")
    # The review is a page of its own: wait until it has loaded (htmx included), or on a busy
    # machine the click posts the form before htmx takes it over and the browser follows the
    # no-JavaScript answer (back to the receiving list) instead of showing the finished return.
    page.wait_for_url("**/finish")
    page.wait_for_load_state("load")
    page.click("button[data-command=finish]")
    expect(page.locator("#return .package-head .chip")).to_have_text("Restocked")
    page.click("nav >> text=Receiving")
    shoot(page, "store-receiving")
    db.session.rollback()
    assert stock_of(store, "TSHIRT-M") == (1, 0)


def test_a_purchase_order_is_counted_with_a_typed_scanner_and_booked(app, page):
    from app.models import PurchaseOrder
    from tests.services.inbound.helpers import purchase_order

    warehouse = factories.location("WH-01", name="Tuzla Warehouse", type="warehouse")
    factories.user("wendy", "staff", [warehouse])
    shirt = factories.product("TSHIRT-M", SHIRT, name="Cotton T-shirt, navy, M")
    cap = factories.product("CAP-BLK", CAP, name="Baseball cap, black")
    po = purchase_order(warehouse, [(shirt, 2), (cap, 1)])
    po_id = po.id

    sign_in(page, "wendy")
    page.wait_for_url("**/store/WH-01/")
    page.click("nav >> text=Receiving")
    page.click(f"text={po.number}")
    page.wait_for_url(f"**/receiving/purchase-orders/{po_id}")
    for barcode in (SHIRT, CAP):
        expect(page.locator("#scan-field")).to_be_focused()
        page.keyboard.type(barcode, delay=5)
        page.keyboard.press("Enter")
        expect(page.locator("#notice")).to_contain_text("Counted")
    expect(page.locator("#inbound .progress-text")).to_contain_text("Counted 2 of 3")
    page.click("button[data-command=finish]")
    page.wait_for_url("**/store/WH-01/receiving")
    expect(page.locator(".flash-success")).to_contain_text(f"{po.number} partly received: 1 unit still expected")
    db.session.rollback()
    assert stock_of(warehouse, "TSHIRT-M") == (1, 0) and stock_of(warehouse, "CAP-BLK") == (1, 0)
    assert db.session.get(PurchaseOrder, po_id).state == "partially_received"
