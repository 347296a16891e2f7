"""Two receivers finishing at the same moment (threads with their own sessions; run against
PostgreSQL too): the same count finished twice, and two tablets that counted the same goods,
book the goods once."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models import InboundShipment, InboundShipmentLine, PurchaseOrder, PurchaseOrderReceipt, Stock, StockLedger
from app.services.errors import Conflict
from app.services.inbound.receiving import receive_inbound_shipment, receive_purchase_order
from tests import factories
from tests.services.inbound.helpers import purchase_order, staff_of, supplier, warehouse
from tests.threads import at_once


def _setup():
    wh = warehouse()
    tea = factories.product("TEA")
    supplier()
    db.session.commit()
    po = purchase_order(wh, [(tea, 10)], state="confirmed")
    return wh, tea, po


def _stock(wh_id: int, tea_id: int) -> int:
    db.session.rollback()
    return db.session.scalar(select(Stock.on_hand).where(Stock.location_id == wh_id, Stock.product_id == tea_id))


def test_the_same_count_finished_by_four_threads_at_once_is_booked_once(app):
    wh, tea, po = _setup()
    clerk, po_id, wh_id, tea_id = staff_of(wh), po.id, wh.id, tea.id
    lines = [{"sku": "TEA", "quantity": 7}]

    results, errors = at_once(app, [
        lambda: receive_purchase_order(po_id, lines, clerk, receipt_key="tablet-session-9").replayed
        for _ in range(4)])

    assert errors == []
    assert sorted(results) == [False, True, True, True]
    assert _stock(wh_id, tea_id) == 7
    assert db.session.scalar(select(func.count()).select_from(PurchaseOrderReceipt)) == 1
    assert db.session.scalar(select(func.sum(StockLedger.on_hand_delta)).where(StockLedger.reason == "receipt")) == 7
    assert db.session.get(PurchaseOrder, po_id).lines[0].received == 7


def test_two_tablets_that_counted_the_same_goods_book_them_once(app):
    wh, tea, po = _setup()
    clerk, po_id, wh_id, tea_id, version = staff_of(wh), po.id, wh.id, tea.id, po.version
    lines = [{"sku": "TEA", "quantity": 10}]

    results, errors = at_once(app, [
        lambda key=key: receive_purchase_order(po_id, lines, clerk, receipt_key=key, expected_version=version).replayed
        for key in ("tablet-a", "tablet-b")])

    assert results == [False]
    assert [type(e) for e in errors] == [Conflict] and errors[0].code == "stale"
    assert _stock(wh_id, tea_id) == 10
    po = db.session.get(PurchaseOrder, po_id)
    assert (po.state, po.lines[0].received) == ("received", 10)


def test_an_inbound_shipment_received_by_two_docks_at_once_is_booked_once(app):
    wh, tea, po = _setup()
    shipment = InboundShipment(number="CONT-1", destination=wh, status="arrived",
                               lines=[InboundShipmentLine(purchase_order_line=po.lines[0], quantity=10)])
    db.session.add(shipment)
    db.session.commit()
    clerk, shipment_id, wh_id, tea_id = staff_of(wh), shipment.id, wh.id, tea.id
    lines = [{"sku": "TEA", "quantity": 10}]

    results, errors = at_once(app, [
        lambda: receive_inbound_shipment(shipment_id, lines, clerk, receipt_key="dock-session").replayed
        for _ in range(3)])

    assert errors == []
    assert sorted(results) == [False, True, True]
    assert _stock(wh_id, tea_id) == 10
