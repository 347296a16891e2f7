"""Store-floor screens a new-user tester found saying something untrue, in real Chromium, English
and Turkish: Back after Take the return says the return is taken and waits to be received (not
that everything has come back); a cancelled package shows no "0 of 0" pick count, on its page
nor on its batch's totes; a purchase order whose goods come in a container sends the counting
there, and the container's page says it is where they are counted."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models import InboundShipment, InboundShipmentLine
from app.services.orders import cancel_order
from tests import factories
from tests.browser.test_store_flow import sign_in
from tests.browser.test_store_tablet_floor import (
    _ayse_signed_in,
    _store_with_a_delivered_cap,
    take_the_cap_back_and_go_back,
)
from tests.services.builders import make_package, supervisor
from tests.services.inbound.helpers import purchase_order

pytestmark = pytest.mark.browser

CAP = "8690000000024"


def _turkish(username: str) -> None:
    db.session.execute(db.text("UPDATE users SET language = 'tr' WHERE username = :u"), {"u": username})
    db.session.commit()


@pytest.mark.parametrize("language", ["en", "tr"])
def test_back_after_taking_a_return_says_it_is_taken_not_come_back(app, page, language):
    _store, delivered = _store_with_a_delivered_cap()
    number = delivered.order.number
    if language == "tr":
        _turkish("ayse")
    _ayse_signed_in(page, "IST-01")
    take_the_cap_back_and_go_back(page, number)
    nothing = page.locator("#nothing-returnable")
    if language == "en":
        expect(nothing).to_contain_text(f"Everything shipped on order {number} is on a return already, taken "
                                        "and waiting to be received: nothing more can be returned.")
        expect(nothing).not_to_contain_text("has come back")
    else:
        expect(nothing).to_contain_text("teslim alınmayı bekliyor")
        expect(nothing).not_to_contain_text("geri geldi")
    expect(page.locator("button[data-command=create-return]")).to_have_count(0)


@pytest.mark.parametrize("language", ["en", "tr"])
def test_a_cancelled_package_shows_no_pick_count_on_its_page_nor_on_its_batch(app, page, language):
    from app.services.batches import start_batch
    from tests.services.builders import staff

    store = factories.location("IST-01", name="Kadıköy Store")
    factories.user("ayse", "staff", [store])
    db.session.commit()
    kept = make_package("waiting", location=store, items=[("SKU-A", 1)])
    gone = make_package("waiting", location=store, items=[("SKU-B", 2)])
    db.session.commit()
    batch = start_batch(store.id, [kept.id, gone.id], staff(store))
    cancel_order(gone.order_id, {"reason": "customer"}, supervisor())
    db.session.commit()
    if language == "tr":
        _turkish("ayse")
    picked = "picked" if language == "en" else "toplandı"
    sign_in(page, "ayse")
    page.wait_for_url("**/store/IST-01/")

    page.goto(f"/store/IST-01/packages/{gone.id}")
    expect(page.locator("#package")).to_be_visible()
    expect(page.locator("#pick-progress")).to_have_count(0)
    expect(page.locator("#package")).not_to_contain_text("0 of 0")
    expect(page.locator("#package")).not_to_contain_text("0 / 0")

    page.goto(f"/store/IST-01/batches/{batch.batch_id}")
    totes = page.locator("ol.totes li")
    expect(totes).to_have_count(2)
    removed = page.locator("li.tote-removed")
    expect(removed).to_contain_text(gone.number)
    expect(removed).not_to_contain_text(picked)
    expect(page.locator("li.tote-to_pick")).to_contain_text(picked)  # the package still in the walk keeps its count


@pytest.mark.parametrize("language", ["en", "tr"])
def test_a_purchase_order_coming_in_a_container_is_counted_on_the_containers_page(app, page, language):
    warehouse = factories.location("WH-01", name="Tuzla Warehouse", type="warehouse")
    factories.user("wendy", "staff", [warehouse])
    cap = factories.product("CAP-BLK", CAP, name="Baseball cap, black")
    po = purchase_order(warehouse, [(cap, 5)])
    shipment = InboundShipment(number="CONT-7", destination=warehouse, status="departed")
    shipment.lines = [InboundShipmentLine(purchase_order_line=po.lines[0], quantity=3)]
    db.session.add(shipment)
    db.session.commit()
    po_number, po_id, shipment_id = po.number, po.id, shipment.id
    if language == "tr":
        _turkish("wendy")
    sign_in(page, "wendy")
    page.wait_for_url("**/store/WH-01/")
    page.goto("/store/WH-01/receiving")
    row = page.locator(f"#purchase-order-row-{po_id}")
    expect(row).to_contain_text("CONT-7")

    row.click()
    page.wait_for_url(f"**/receiving/purchase-orders/{po_id}")
    carried = page.locator(f"#carried-by-{shipment_id}")
    if language == "en":
        expect(carried).to_contain_text("3 units of this order come in container CONT-7: count them on the "
                                        "container's page when the container arrives, not here.")
    else:
        expect(carried).to_contain_text("CONT-7")
        expect(carried).not_to_contain_text("container")
    carried.locator("a").click()
    page.wait_for_url(f"**/receiving/inbound-shipments/{shipment_id}")
    here = page.locator("#counted-here")
    expect(here).to_contain_text(po_number)
    if language == "en":
        expect(here).to_contain_text("Count these goods here")
    else:
        expect(here).not_to_contain_text("Count these goods")
    expect(page.locator("button[data-command=finish]")).to_be_visible()
