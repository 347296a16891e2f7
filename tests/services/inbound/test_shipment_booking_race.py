"""Two supervisors booking shipments for the same purchase order line at the same moment (threads
with their own sessions; run against PostgreSQL too): together they may not carry more than is
open on the line — one is booked, the other refused with the line's 422 and nothing saved."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models import InboundShipment, InboundShipmentLine
from app.services.errors import ValidationFailed
from app.services.inbound.shipments import create_inbound_shipment, run_inbound_shipment_command
from tests import factories
from tests.services.inbound.helpers import SUPERVISOR, purchase_order, supplier, warehouse
from tests.threads import at_once


def test_two_shipments_booked_at_once_never_carry_more_than_is_open(app):
    wh = warehouse()
    tea = factories.product("TEA")
    supplier()
    db.session.commit()
    po = purchase_order(wh, [(tea, 10)], state="confirmed", number="PO-RACE")

    def book(number: str):
        return create_inbound_shipment({"number": number, "lines": [
            {"purchase_order": "PO-RACE", "sku": "TEA", "quantity": 6}]}, SUPERVISOR).number

    for attempt in range(3):  # a few rounds: the threads meet at a barrier, then race for the lock
        results, errors = at_once(app, [lambda n=n, a=attempt: book(f"C-{a}-{n}") for n in ("a", "b")])
        assert len(results) == 1, (results, errors)
        assert len(errors) == 1 and isinstance(errors[0], ValidationFailed), errors
        assert "lines.0.quantity" in errors[0].details
        db.session.rollback()
        carried = db.session.scalar(select(func.sum(InboundShipmentLine.quantity)).join(InboundShipment).where(
            InboundShipment.status == "booked"))
        assert carried == 6
        # Cancel the booked one, for the next round to race again
        booked = db.session.scalar(select(InboundShipment.id).where(InboundShipment.number == results[0]))
        run_inbound_shipment_command(booked, "cancel", {}, SUPERVISOR)
    db.session.rollback()
    assert db.session.get(type(po), po.id).lines[0].received == 0
