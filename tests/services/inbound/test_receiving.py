"""Receiving purchase orders and inbound shipments: stock through the ledger, partial receipts,
close short, damaged and over-receipts, bad counts changing nothing, and parked orders re-planned."""

from __future__ import annotations

import pytest
from rq import Queue, SimpleWorker
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    InboundShipment,
    InboundShipmentLine,
    OutboxEvent,
    Package,
    PurchaseOrder,
    PurchaseOrderReceipt,
    Stock,
    StockLedger,
)
from app.queues import redis_connection
from app.services.errors import Conflict, NotFound, ValidationFailed
from app.services.inbound.purchase_orders import run_purchase_order_command
from app.services.inbound.receiving import (
    expected_inbound_shipment_lines,
    expected_purchase_order_lines,
    receivable_purchase_orders,
    receive_inbound_shipment,
    receive_purchase_order,
)
from app.services.planning import plan_order
from tests import factories
from tests.services.inbound.helpers import SUPERVISOR, purchase_order, staff_of, warehouse_tea_mug
from tests.services.planning.network import order, scenario


def _on_hand(location, product) -> int:
    db.session.rollback()
    return db.session.scalar(select(Stock.on_hand).where(Stock.location_id == location.id,
                                                         Stock.product_id == product.id)) or 0


@pytest.fixture
def wh_tea_mug(app):
    return warehouse_tea_mug()


def test_partial_receipts_then_close_short(wh_tea_mug):
    wh, tea, mug = wh_tea_mug
    po = purchase_order(wh, [(tea, 10), (mug, 4)], state="confirmed")
    clerk = staff_of(wh)

    first = receive_purchase_order(po.id, [{"sku": "TEA", "quantity": 6, "damaged": 1, "reason": "crushed box"}], clerk)
    assert first.purchase_order.state == "partially_received"
    assert first.stocked == {"TEA": 5}
    receive_purchase_order(po.id, [{"sku": "TEA", "quantity": 2}, {"sku": "MUG", "quantity": 3}], clerk)
    db.session.expire_all()
    po = db.session.get(PurchaseOrder, po.id)
    assert [(line.sku, line.received, line.damaged) for line in po.lines] == [("TEA", 8, 1), ("MUG", 3, 0)]
    assert po.state == "partially_received"
    assert (_on_hand(wh, tea), _on_hand(wh, mug)) == (7, 3)
    ledger = db.session.scalars(select(StockLedger).order_by(StockLedger.id)).all()
    assert [(r.reason, r.on_hand_delta, r.reference) for r in ledger] == [
        ("receipt", 5, po.number), ("receipt", 2, po.number), ("receipt", 3, po.number)]

    closed = run_purchase_order_command(po.id, "close_short", {"reason": "Supplier has no more mugs"}, SUPERVISOR)
    assert (closed.state, closed.close_reason) == ("closed", "Supplier has no more mugs")
    with pytest.raises(Conflict):
        receive_purchase_order(po.id, [{"sku": "MUG", "quantity": 1}], clerk)
    assert _on_hand(wh, mug) == 3


def test_receiving_everything_makes_it_received_with_events(wh_tea_mug):
    wh, tea, mug = wh_tea_mug
    po = purchase_order(wh, [(tea, 2), (mug, 1)], state="in_transit")
    done = receive_purchase_order(po.id, [{"sku": "TEA", "quantity": 2}, {"sku": "MUG", "quantity": 1}], SUPERVISOR)
    assert done.purchase_order.state == "received"
    types = db.session.scalars(select(OutboxEvent.type).where(OutboxEvent.aggregate_type == "purchase_order")
                               .order_by(OutboxEvent.id)).all()
    assert types == ["purchase_order.state_changed", "purchase_order.received"]


@pytest.mark.parametrize(("lines", "field"), [
    ([{"sku": "GHOST", "quantity": 1}], "lines.0.sku"),
    ([{"sku": "TEA", "quantity": 1}, {"sku": "SPOON", "quantity": 1}], "lines.1.sku"),  # not on this PO
    ([{"sku": "TEA", "quantity": 0}], "lines.0.quantity"),
    ([{"sku": "TEA", "quantity": -2}], "lines.0.quantity"),
    ([{"sku": "TEA", "quantity": 2, "damaged": 3}], "lines.0"),
    ([{"sku": "TEA", "quantity": 11}], "lines.0.reason"),  # over without a reason
    ([{"sku": "TEA", "quantity": 1}, {"sku": "TEA", "quantity": 1}], "lines"),
    ([], "lines"),
])
def test_bad_counts_are_refused_per_line_and_change_nothing(wh_tea_mug, lines, field):
    wh, tea, _ = wh_tea_mug
    factories.product("SPOON")
    po = purchase_order(wh, [(tea, 10)], state="confirmed")
    with pytest.raises(ValidationFailed) as exc:
        receive_purchase_order(po.id, lines, staff_of(wh))
    assert any(key.startswith(field) for key in exc.value.details), exc.value.details
    assert _on_hand(wh, tea) == 0
    assert db.session.get(PurchaseOrder, po.id).state == "confirmed"
    assert db.session.scalar(select(func.count()).select_from(PurchaseOrderReceipt)) == 0


def test_an_over_receipt_with_a_reason_is_stocked_and_recorded(wh_tea_mug):
    wh, tea, _ = wh_tea_mug
    po = purchase_order(wh, [(tea, 10)], state="confirmed")
    done = receive_purchase_order(po.id, [{"sku": "TEA", "quantity": 12, "reason": "Supplier sent 2 extra"}], SUPERVISOR)
    assert (done.purchase_order.state, done.purchase_order.lines[0].received) == ("received", 12)
    assert _on_hand(wh, tea) == 12


@pytest.mark.parametrize("state", ["draft", "cancelled", "closed", "received"])
def test_a_purchase_order_that_is_not_expecting_goods_is_refused(wh_tea_mug, state):
    wh, tea, _ = wh_tea_mug
    po = purchase_order(wh, [(tea, 10)], state=state)
    with pytest.raises(Conflict) as exc:
        receive_purchase_order(po.id, [{"sku": "TEA", "quantity": 1}], SUPERVISOR)
    assert exc.value.details["state"] == state
    assert _on_hand(wh, tea) == 0


def test_finishing_the_same_count_twice_counts_once(wh_tea_mug):
    wh, tea, _ = wh_tea_mug
    po = purchase_order(wh, [(tea, 10)], state="confirmed")
    lines = [{"sku": "TEA", "quantity": 4}]
    first = receive_purchase_order(po.id, lines, staff_of(wh), receipt_key="session-1")
    again = receive_purchase_order(po.id, lines, staff_of(wh), receipt_key="session-1")
    assert (first.replayed, again.replayed, again.receipt_id) == (False, True, first.receipt_id)
    assert _on_hand(wh, tea) == 4
    with pytest.raises(Conflict) as exc:
        receive_purchase_order(po.id, [{"sku": "TEA", "quantity": 5}], staff_of(wh), receipt_key="session-1")
    assert exc.value.code == "receipt_key_reused"
    with pytest.raises(Conflict) as stale:
        receive_purchase_order(po.id, lines, staff_of(wh), receipt_key="session-2", expected_version=first.purchase_order.version - 1)
    assert stale.value.code == "stale"
    assert _on_hand(wh, tea) == 4


def test_staff_of_another_location_cannot_see_or_receive(wh_tea_mug):
    wh, tea, _ = wh_tea_mug
    other = factories.location("IST-09")
    db.session.commit()
    po = purchase_order(wh, [(tea, 10)], state="confirmed")
    with pytest.raises(NotFound):
        receive_purchase_order(po.id, [{"sku": "TEA", "quantity": 1}], staff_of(other))
    with pytest.raises(NotFound):
        expected_purchase_order_lines(po.id, staff_of(other))
    assert receivable_purchase_orders(staff_of(other)) == []
    assert [p.id for p in receivable_purchase_orders(staff_of(wh))] == [po.id]
    assert _on_hand(wh, tea) == 0


def test_receiving_re_plans_a_parked_out_of_stock_order(wh_tea_mug):
    wh, tea, _ = wh_tea_mug
    scenario(wh, [{}])
    db.session.commit()
    parked_id = order([(tea, 2)]).id
    plan_order(parked_id)
    db.session.expire_all()
    assert [p.state for p in db.session.scalars(select(Package).where(Package.order_id == parked_id))] == ["out_of_stock"]
    po = purchase_order(wh, [(tea, 5)], state="in_transit")
    wh_id, tea_id = wh.id, tea.id

    receive_purchase_order(po.id, [{"sku": "TEA", "quantity": 5}], staff_of(wh))
    conn = redis_connection()
    SimpleWorker([Queue("planning", connection=conn)], connection=conn).work(burst=True)

    db.session.expire_all()
    states = sorted(p.state for p in db.session.scalars(select(Package).where(Package.order_id == parked_id)))
    assert states == ["cancelled", "waiting"]
    assert db.session.scalar(select(Stock.reserved).where(Stock.location_id == wh_id, Stock.product_id == tea_id)) == 2


def _shipment(wh, po, lines) -> InboundShipment:
    shipment = InboundShipment(number="CONT-1", destination=wh, carrier="Sea Lines", container_number="MSCU1234567",
                               status="arrived")
    by_sku = {line.product.sku: line for line in po.lines}
    shipment.lines = [InboundShipmentLine(purchase_order_line=by_sku[sku], quantity=q) for sku, q in lines]
    db.session.add(shipment)
    db.session.commit()
    return shipment


def test_an_inbound_shipment_is_received_against_its_purchase_orders_once(wh_tea_mug):
    wh, tea, mug = wh_tea_mug
    po = purchase_order(wh, [(tea, 10), (mug, 4)], state="in_transit")
    shipment = _shipment(wh, po, [("TEA", 6), ("MUG", 4)])
    # The screen expects what the shipment carries (6 of the 10 open TEA), not the PO line's rest.
    assert [(e.sku, e.ordered, e.outstanding) for e in expected_inbound_shipment_lines(shipment.id, staff_of(wh))] == [
        ("TEA", 6, 6), ("MUG", 4, 4)]
    lines = [{"sku": "TEA", "quantity": 6}, {"sku": "MUG", "quantity": 4, "damaged": 1}]

    done = receive_inbound_shipment(shipment.id, lines, staff_of(wh), receipt_key="dock-3")
    again = receive_inbound_shipment(shipment.id, lines, staff_of(wh), receipt_key="dock-3")

    assert (done.shipment.status, again.replayed) == ("delivered", True)
    assert (_on_hand(wh, tea), _on_hand(wh, mug)) == (6, 3)
    po = db.session.get(PurchaseOrder, po.id)
    assert (po.state, [(line.received, line.damaged) for line in po.lines]) == ("partially_received", [(6, 0), (4, 1)])
    with pytest.raises(Conflict):
        receive_inbound_shipment(shipment.id, lines, staff_of(wh), receipt_key="dock-4")
    with pytest.raises(ValidationFailed):
        receive_inbound_shipment(_shipment_two(wh, po).id, [{"sku": "MUG", "quantity": 1}], staff_of(wh))


def _shipment_two(wh, po) -> InboundShipment:
    shipment = InboundShipment(number="CONT-2", destination=wh, status="booked")
    shipment.lines = [InboundShipmentLine(purchase_order_line=po.lines[0], quantity=4)]
    db.session.add(shipment)
    db.session.commit()
    return shipment
