"""A marketplace that prints its own label (Trendyol), in real Chromium at tablet and phone sizes,
with and without JavaScript: once every item is picked the cursor waits in "Scan the marketplace
label", a scanner's burst of the label's barcode fills the tracking number and packs the package,
with no label link to type. The package page shows the store's local time."""

from __future__ import annotations

from datetime import datetime

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import Package, Shipment, TransitionLog
from tests import factories
from tests.browser.test_store_flow import shoot, sign_in, state_of
from tests.browser.test_store_handoffs import SHIRT, open_page, scan, slow_network  # noqa: F401 (a fixture)
from tests.browser.test_store_phone import assert_fits_the_phone
from tests.services.builders import make_package

pytestmark = pytest.mark.browser

LABEL_BARCODE = "TY7340012345678"


def marketplace_package() -> int:
    store = factories.location("IST-KDK", name="Kadıköy Store", time_zone="Europe/Istanbul")
    factories.user("ayse", "staff", [store])
    factories.product("TSHIRT-M", SHIRT, name="Cotton T-shirt, navy, M")
    trendyol = factories.channel("trendyol", name="Trendyol", provides_shipping_label=True)
    db.session.commit()
    package = make_package("preparing", location=store, channel=trendyol, items=[("TSHIRT-M", 2)])
    package.order.placed_at = datetime(2026, 12, 6, 19, 30)
    db.session.commit()
    return package.id


def shipment_of(package_id: int) -> Shipment | None:
    db.session.rollback()
    return db.session.scalar(select(Shipment).where(Shipment.package_id == package_id))


@pytest.mark.parametrize("size", ["tablet", "phone"])
@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_scanning_the_marketplace_label_fills_the_tracking_number_and_packs(app, open_page, size, js):  # noqa: F811
    package_id = marketplace_package()
    page = open_page(size, js)
    sign_in(page, "ayse")
    page.wait_for_url("**/store/IST-KDK/")
    page.goto(f"/store/IST-KDK/packages/{package_id}")
    expect(page.locator("#package .package-when")).to_contain_text("6 Dec 2026, 22:30 +03")  # Istanbul time
    label_field = page.locator("#complete_packing_channel-tracking_number")
    expect(label_field).to_be_visible()
    if size == "phone" and js:
        assert_fits_the_phone(page, "the marketplace package")
    if js:
        expect(page.locator("#scan-field")).to_be_focused()  # items first
        slow_network(page)
    for _ in range(2):
        scan(page, SHIRT, js)
    expect(page.locator("#package")).to_contain_text("Picked 2 of 2")
    if js:
        # The next scan is the label's: the cursor moved to its field by itself, and a scanner's
        # burst (keys with no pause, then Enter) submits it.
        expect(label_field).to_be_focused()
        page.keyboard.type(LABEL_BARCODE, delay=0)
        page.keyboard.press("Enter")
    else:
        expect(page.locator("#scan-field")).to_have_count(0)  # nothing left to pick: the label is next
        expect(label_field).to_have_attribute("autofocus", "")
        page.fill("#complete_packing_channel-tracking_number", LABEL_BARCODE)
        page.locator("#complete_packing_channel-tracking_number").press("Enter")
    expect(page.locator("#package .package-head .chip")).to_have_text("Packed")
    expect(page.locator("#package .notice" if js else ".flash")).to_contain_text("Packed with the marketplace's label")
    expect(page.locator("button[data-command=ship]")).to_have_class("btn btn-big btn-primary")
    assert state_of(package_id) == "packed"
    shipment = shipment_of(package_id)
    assert (shipment.status, shipment.tracking_number, shipment.label_url) == ("label_ready", LABEL_BARCODE, None)
    if size == "tablet" and js:
        shoot(page, "store-marketplace-label")


def test_packing_without_the_label_says_to_scan_it_and_changes_nothing(app, open_page):  # noqa: F811
    package_id = marketplace_package()
    db.session.get(Package, package_id).items[0].picked_quantity = 2
    db.session.commit()
    page = open_page("tablet")
    sign_in(page, "ayse")
    page.wait_for_url("**/store/IST-KDK/")
    page.goto(f"/store/IST-KDK/packages/{package_id}")
    page.locator("#complete_packing_channel-tracking_number").evaluate("field => field.removeAttribute('required')")
    page.click("button[data-command=complete_packing_channel]")
    expect(page.locator(".flash-error, .field-error").first).to_contain_text(
        "Scan the barcode on the marketplace's label, or type its tracking number.")
    assert state_of(package_id) == "preparing" and shipment_of(package_id) is None
    db.session.rollback()
    assert not db.session.scalar(select(TransitionLog.id).where(TransitionLog.entity_id == package_id,
                                                                 TransitionLog.command == "complete_packing_channel"))
