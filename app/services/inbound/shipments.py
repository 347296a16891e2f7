"""Inbound shipments (containers / ASNs, SPEC §14): which purchase order lines travel together,
by which carrier, under which container or tracking number, and when they should arrive.

Status events are the commands of `transitions.INBOUND_SHIPMENT_TRANSITIONS` (`depart`,
`arrive`, `update_eta`, `cancel`; `receive` is `receiving.receive_inbound_shipment`), each
written to the transition log (entity `inbound_shipment`, with `occurred_at` when given) and
announced as `inbound_shipment.status_changed`. When a shipment departs, the purchase orders it
carries that were only sent or confirmed become `in_transit`.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models import InboundShipment, InboundShipmentLine, PurchaseOrder, PurchaseOrderLine
from app.models.base import iso
from app.schemas.common import validate
from app.schemas.inbound import InboundShipmentIn, ReceiveParams, ShipmentEventParams
from app.services import events
from app.services.actors import Actor
from app.services.db import committed
from app.services.errors import Conflict, NotFound, ValidationFailed
from app.services.inbound.data import inbound_shipment_dict
from app.services.inbound.lifecycle import (
    check_shipment_command,
    lock_inbound_shipment,
    lock_purchase_order,
    move_inbound_shipment,
    move_purchase_order,
    require_manager,
)
from app.services.inbound.receiving import receive_inbound_shipment
from app.services.transitions import INBOUND_SHIPMENT_TRANSITIONS, RECEIVABLE_PURCHASE_ORDER_STATES

INVALID = "Some fields are not valid."


def add_inbound_shipment(data: Any, actor: Actor) -> InboundShipment:
    """A new `booked` shipment carrying purchase order lines (all to one destination). Flushes.
    422 naming the line for an unknown PO or SKU, a PO not open for goods, or mixed destinations;
    409 `duplicate` for a taken number; 403 for staff."""
    require_manager(actor)
    body = validate(InboundShipmentIn, data, INVALID).model_dump(mode="python")
    if db.session.scalar(select(InboundShipment.id).where(InboundShipment.number == body["number"])) is not None:
        raise Conflict(f"Inbound shipment {body['number']} already exists.",
                       {"number": "Another inbound shipment already uses this number."}, code="duplicate")
    numbers = {line["purchase_order"] for line in body["lines"]}
    pos = {po.number: po for po in db.session.scalars(select(PurchaseOrder).where(PurchaseOrder.number.in_(numbers)))
           if actor.can_see(po.destination_id)}
    problems: dict[str, str] = {}
    carried: list[InboundShipmentLine] = []
    seen: set[int] = set()
    for i, line in enumerate(body["lines"]):
        po = pos.get(line["purchase_order"])
        if po is None:
            problems[f"lines.{i}.purchase_order"] = f"There is no purchase order {line['purchase_order']}."
            continue
        if po.state not in RECEIVABLE_PURCHASE_ORDER_STATES:
            problems[f"lines.{i}.purchase_order"] = (f"Purchase order {po.number} is {po.state}: only sent or "
                                                     "confirmed orders can be shipped.")
            continue
        po_line = next((pl for pl in po.lines if pl.product.sku == line["sku"]), None)
        if po_line is None:
            problems[f"lines.{i}.sku"] = f"SKU {line['sku']} is not on purchase order {po.number}."
        elif po_line.id in seen:
            problems[f"lines.{i}.sku"] = "This purchase order line is already on the shipment."
        else:
            seen.add(po_line.id)
            carried.append(InboundShipmentLine(purchase_order_line=po_line, quantity=line["quantity"]))
    destinations = {pos[n].destination_id for n in numbers if n in pos}
    if len(destinations) > 1:
        problems["lines"] = "All purchase orders on one shipment must go to the same location."
    if problems:
        raise ValidationFailed(INVALID, problems)
    shipment = InboundShipment(number=body["number"], destination_id=destinations.pop(), carrier=body["carrier"],
                               container_number=body["container_number"], tracking_number=body["tracking_number"],
                               eta=body["eta"], documents=body["documents"], status="booked", lines=carried)
    db.session.add(shipment)
    db.session.flush()
    events.log_transition("inbound_shipment", shipment.id, None, "booked", "create", {}, actor.label)
    events.emit("inbound_shipment.created", "inbound_shipment", shipment.id, inbound_shipment_dict(shipment))
    return shipment


def create_inbound_shipment(data: Any, actor: Actor) -> InboundShipment:
    return committed(add_inbound_shipment, data, actor)


def _carried_purchase_orders(shipment: InboundShipment, actor: Actor) -> list[PurchaseOrder]:
    ids = sorted(set(db.session.scalars(
        select(PurchaseOrderLine.purchase_order_id).join(InboundShipmentLine)
        .where(InboundShipmentLine.shipment_id == shipment.id))))
    return [lock_purchase_order(po_id, actor) for po_id in ids]


def run_inbound_shipment_command(shipment_id: int, command: str, params: dict[str, Any] | None, actor: Actor,
                                 expected_version: int | None = None) -> InboundShipment:
    """Record a status event (or receive the goods) in one transaction; errors as for purchase
    order commands (404, 403, 409 naming the status and allowed commands, 422)."""
    transition = INBOUND_SHIPMENT_TRANSITIONS.get(command)
    if transition is None:
        raise NotFound(f"Unknown inbound shipment command {command!r}.", code="unknown_command",
                       details={"commands": list(INBOUND_SHIPMENT_TRANSITIONS)})
    if command == "receive":
        body = validate(ReceiveParams, params or {}, "The command parameters are not valid.")
        return receive_inbound_shipment(shipment_id, [line.model_dump() for line in body.lines], actor,
                                        receipt_key=body.receipt_key, expected_version=expected_version).shipment

    def work() -> InboundShipment:
        shipment = lock_inbound_shipment(shipment_id, actor)
        check_shipment_command(shipment, transition, actor, expected_version)
        validated = validate(ShipmentEventParams, params or {}, "The command parameters are not valid.")
        logged = validated.model_dump(mode="json", exclude_none=True)
        shipment.version += 1
        old_eta = shipment.eta
        if validated.eta is not None:
            shipment.eta = validated.eta
        if transition.target is None:  # update_eta: a new date, same status
            events.log_transition("inbound_shipment", shipment.id, shipment.status, shipment.status, command, logged,
                                  actor.label)
            db.session.flush()
            events.emit("inbound_shipment.status_changed", "inbound_shipment", shipment.id,
                        inbound_shipment_dict(shipment), previous={"eta": iso(old_eta)})
            return shipment
        if command == "depart":
            for po in _carried_purchase_orders(shipment, actor):
                if po.state in ("sent", "confirmed"):
                    po.version += 1
                    move_purchase_order(po, "in_transit", "mark_in_transit",
                                        {"inbound_shipment": shipment.number}, actor.label)
        move_inbound_shipment(shipment, transition.target, command, logged, actor.label)
        return shipment

    return committed(work)
