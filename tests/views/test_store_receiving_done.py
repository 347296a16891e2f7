"""Supplier deliveries with nothing more to come leave the receiving list: a purchase order
received in full, closed short or cancelled, and the inbound shipments carrying its lines (a
shipment whose lines have all arrived is marked delivered). Scanning on one says so plainly, in
the reader's language, and counts nothing."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import InboundShipment, InboundShipmentLine, PurchaseOrder
from app.services.errors import Conflict
from app.services.inbound.purchase_orders import run_purchase_order_command
from app.services.inbound.receiving import receive_inbound_shipment, receive_purchase_order
from tests import factories
from tests.services.builders import stock_of
from tests.services.inbound.helpers import SUPERVISOR, purchase_order, staff_of
from tests.views.test_store_queue import HX, login

TURKISH = {"Accept-Language": "tr-TR,tr;q=0.9"}


def _setup(lines=(("TEA", 10),)):
    warehouse = factories.location("WH-01", type="warehouse")
    products = [factories.product(sku, f"86900000{n:05d}") for n, (sku, _q) in enumerate(lines, 1)]
    factories.user("ayse", "staff", [warehouse])
    po = purchase_order(warehouse, [(p, q) for p, (_s, q) in zip(products, lines, strict=True)])
    return warehouse, po


def _shipment(warehouse, po, number, quantity, status="booked") -> InboundShipment:
    shipment = InboundShipment(number=number, destination=warehouse, status=status)
    shipment.lines = [InboundShipmentLine(purchase_order_line=po.lines[0], quantity=quantity)]
    db.session.add(shipment)
    db.session.commit()
    return shipment


def _status(shipment_id: int) -> str:
    db.session.rollback()
    return db.session.scalar(select(InboundShipment.status).where(InboundShipment.id == shipment_id))


def test_a_purchase_order_received_in_full_takes_its_shipment_off_the_list(app, client):
    warehouse, po = _setup()
    shipment = _shipment(warehouse, po, "CONT-1", 10, status="departed")
    login(client)
    listing = client.get("/store/WH-01/receiving").get_data(as_text=True)
    assert 'id="inbound-shipment-row-' in listing and "CONT-1" in listing

    receive_purchase_order(po.id, [{"sku": "TEA", "quantity": 10}], staff_of(warehouse))  # at the dock, not scanned
    assert _status(shipment.id) == "delivered"
    listing = client.get("/store/WH-01/receiving").get_data(as_text=True)
    assert "CONT-1" not in listing and po.number not in listing

    url = f"/store/WH-01/receiving/inbound-shipments/{shipment.id}"
    page = client.get(url)
    assert page.status_code == 200 and "Nothing more is expected on CONT-1" in page.get_data(as_text=True)
    assert 'name="barcode"' not in page.get_data(as_text=True)
    scan = client.post(url, data={"action": "scan", "barcode": "8690000000001", "count-TEA": "0"}, headers=HX)
    assert scan.status_code == 409 and "Nothing more is expected on CONT-1" in scan.get_data(as_text=True)
    finish = client.post(url, data={"action": "finish", "count-TEA": "3", "damaged-TEA": "0"}, headers=HX)
    assert finish.status_code == 409 and "Nothing more is expected on CONT-1" in finish.get_data(as_text=True)
    assert stock_of(warehouse, "TEA") == (10, 0)


def test_a_shipment_whose_lines_arrived_on_another_shipment_is_delivered(app, client):
    warehouse, po = _setup()
    first, second = _shipment(warehouse, po, "CONT-1", 6), _shipment(warehouse, po, "CONT-2", 4)
    receive_inbound_shipment(first.id, [{"sku": "TEA", "quantity": 10}], staff_of(warehouse))  # all came at once
    assert (_status(first.id), _status(second.id)) == ("delivered", "delivered")
    partly_first, partly_second = "CONT-3", "CONT-4"
    warehouse2 = factories.location("WH-02", type="warehouse")
    other = purchase_order(warehouse2, [(po.lines[0].product, 10)])
    a, b = _shipment(warehouse2, other, partly_first, 6), _shipment(warehouse2, other, partly_second, 4)
    receive_inbound_shipment(a.id, [{"sku": "TEA", "quantity": 6}], SUPERVISOR)
    assert (_status(a.id), _status(b.id)) == ("delivered", "booked")  # 4 still to come on CONT-4


def test_a_closed_or_cancelled_purchase_order_takes_its_shipments_off_and_scanning_says_so_in_turkish(app, client):
    warehouse, po = _setup()
    shipment = _shipment(warehouse, po, "CONT-1", 10)
    run_purchase_order_command(po.id, "close_short", {"reason": "Supplier has no more"}, SUPERVISOR)
    assert db.session.get(PurchaseOrder, po.id).state == "closed"
    login(client)
    listing = client.get("/store/WH-01/receiving").get_data(as_text=True)
    assert "CONT-1" not in listing and po.number not in listing
    assert _status(shipment.id) == "booked"  # nothing arrived: not delivered, only nothing more to receive

    for url, number in ((f"/store/WH-01/receiving/inbound-shipments/{shipment.id}", "CONT-1"),
                        (f"/store/WH-01/receiving/purchase-orders/{po.id}", po.number)):
        scan = client.post(url, data={"action": "scan", "barcode": "8690000000001"}, headers={**HX, **TURKISH})
        text = scan.get_data(as_text=True)
        assert scan.status_code == 409, text
        assert f"{number} için artık beklenen bir şey yok" in text
        for english in ("Nothing more", "closed", "cancel", "receive"):
            assert english not in re.sub(r"<[^>]+>", " ", text.split('id="inbound"')[1]), english
    assert stock_of(warehouse, "TEA") == (0, 0)


def test_a_refused_receipt_names_the_state_in_the_readers_words(app):
    warehouse, po = _setup()
    run_purchase_order_command(po.id, "close_short", {"reason": "No more"}, SUPERVISOR)
    with pytest.raises(Conflict) as refused:
        receive_purchase_order(po.id, [{"sku": "TEA", "quantity": 1}], staff_of(warehouse))
    assert refused.value.code == "command_not_allowed"
    assert refused.value.message == "A purchase order in state 'Closed short' cannot 'Receive'."
