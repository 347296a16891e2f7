"""An inbound shipment's running count on the receiving screen is kept on its lines, as a purchase
order's is: a reload or another tablet starts from it, and any booking — of the shipment, or of a
purchase order it carries — sets it back to 0. A page counting from before such a booking keeps
nothing and books nothing (no unit booked twice)."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from app.extensions import db
from app.models import InboundShipment, InboundShipmentLine, PurchaseOrderLine
from app.services.inbound.receiving import receive_purchase_order
from tests import factories
from tests.services.inbound.helpers import purchase_order, staff_of
from tests.views.test_store_queue import HX, login

BARCODE = "8690000000301"


def _world(code="WH-08", quantity=5):
    warehouse = factories.location(code, type="warehouse")
    tea = factories.product("TEA", BARCODE)
    factories.user("ayse", "staff", [warehouse])
    po = purchase_order(warehouse, [(tea, quantity)])
    shipment = InboundShipment(number="CONT-9", destination=warehouse, status="departed")
    shipment.lines = [InboundShipmentLine(purchase_order_line=po.lines[0], quantity=quantity)]
    db.session.add(shipment)
    db.session.commit()
    return warehouse, po, shipment


def _form(page: str) -> dict[str, str]:
    def hidden(name):
        return page.split(f'name="{name}" value="')[1].split('"')[0]
    return {"receipt_key": hidden("receipt_key"), "version": hidden("version"), "basis": hidden("basis"),
            "damaged-TEA": "0"}


def _count_field(page: str) -> str:
    return page.split('name="count-TEA"')[1][:120].split('value="')[1].split('"')[0]


def _line() -> tuple[int, int]:
    """(received on the purchase order line, the shipment line's kept count)"""
    db.session.rollback()
    received = db.session.scalar(select(func.sum(PurchaseOrderLine.received)))
    return received, db.session.scalar(select(func.sum(InboundShipmentLine.scanned)))


def _scan(client, url, form, count):
    return client.post(url, data={**form, "count-TEA": str(count), "action": "scan", "barcode": BARCODE}, headers=HX)


def test_scans_survive_a_reload_and_another_tablet_and_finish_starts_the_next_count_at_zero(app, client):
    warehouse, po, shipment = _world()
    login(client)
    url = f"/store/WH-08/receiving/inbound-shipments/{shipment.id}"
    form = _form(client.get(url).get_data(as_text=True))
    for count in (0, 1, 2):
        assert _scan(client, url, form, count).status_code == 200
    assert _line() == (0, 3)
    reloaded = client.get(url).get_data(as_text=True)  # F5: the scans are still there
    assert _count_field(reloaded) == "3" and "Counted 3 of 5" in reloaded
    tablet = app.test_client()
    login(tablet)
    assert _count_field(tablet.get(url).get_data(as_text=True)) == "3"

    done = client.post(url, data={**_form(reloaded), "count-TEA": "3", "action": "finish"})
    assert done.status_code == 303
    assert _line() == (3, 0)


def test_a_page_counting_from_before_a_booking_of_its_purchase_order_keeps_and_books_nothing(app, client):
    """Tablet A counts the container; meanwhile the same 2 units are booked on the purchase order
    at the dock. A's next scan must not put its count back, and its Finish books nothing."""
    warehouse, po, shipment = _world("WH-09")
    login(client)
    url = f"/store/WH-09/receiving/inbound-shipments/{shipment.id}"
    form = _form(client.get(url).get_data(as_text=True))
    for count in (0, 1):
        _scan(client, url, form, count)
    assert _line() == (0, 2)
    receive_purchase_order(po.id, [{"sku": "TEA", "quantity": 2}], staff_of(warehouse))  # booked at the dock
    assert _line() == (2, 0)  # the booking cleared the shipment's running count

    _scan(client, url, form, 2)  # A still counts from before the booking
    assert _line() == (2, 0)  # A's 3 was not kept
    assert _count_field(client.get(url).get_data(as_text=True)) == "0"  # a new page starts at 0
    refused = client.post(url, data={**form, "count-TEA": "3", "action": "finish"}, headers=HX)
    assert refused.status_code == 409 and "nothing was booked" in refused.get_data(as_text=True)
    assert _line() == (2, 0)


def test_keeping_a_count_and_a_booking_at_the_same_moment_never_leave_an_old_count(app, client):
    """Threads: one tablet keeps its count while the purchase order is booked at the dock. Either
    the count was kept before the booking (and the booking cleared it) or it was refused after;
    never an old count left on the shipment after the booking."""
    warehouse, po, shipment = _world("WH-10", quantity=400)
    login(client)
    url = f"/store/WH-10/receiving/inbound-shipments/{shipment.id}"
    form = _form(client.get(url).get_data(as_text=True))
    flask_app = app
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def tablet():
        try:
            with flask_app.app_context():
                other = flask_app.test_client()
                login(other)
                start.wait()
                for count in range(0, 40):
                    _scan(other, url, form, count)
        except BaseException as exc:  # noqa: BLE001 — reported below
            errors.append(exc)

    def dock():
        try:
            with flask_app.app_context():
                start.wait()
                for _ in range(5):
                    receive_purchase_order(po.id, [{"sku": "TEA", "quantity": 1}], staff_of(warehouse))
                db.session.remove()
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=tablet), threading.Thread(target=dock)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    received, kept = _line()
    assert received == 5
    # Every kept count began at the first basis; after the first booking nothing may be kept.
    assert kept == 0
