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

from flask_babel import gettext as _
from sqlalchemy import func, select

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
from app.services.state_labels import state_label
from app.services.transitions import INBOUND_SHIPMENT_TRANSITIONS, RECEIVABLE_PURCHASE_ORDER_STATES

INVALID = "Some fields are not valid."
ACTIVE_SHIPMENT_STATES = ("booked", "departed", "arrived")  # still carrying goods that have not arrived


def carried_elsewhere(po_line_ids: list[int], exclude_shipment_id: int | None = None) -> dict[int, int]:
    """Units of each purchase order line on shipments still on their way (booked, departed,
    arrived, not yet received): {purchase_order_line_id: units}."""
    if not po_line_ids:
        return {}
    stmt = (select(InboundShipmentLine.purchase_order_line_id, func.sum(InboundShipmentLine.quantity))
            .join(InboundShipment, InboundShipment.id == InboundShipmentLine.shipment_id)
            .where(InboundShipmentLine.purchase_order_line_id.in_(po_line_ids),
                   InboundShipment.status.in_(ACTIVE_SHIPMENT_STATES))
            .group_by(InboundShipmentLine.purchase_order_line_id))
    if exclude_shipment_id is not None:
        stmt = stmt.where(InboundShipment.id != exclude_shipment_id)
    return {line_id: int(units) for line_id, units in db.session.execute(stmt)}


def open_to_ship(po: PurchaseOrder) -> dict[int, int]:
    """What a new shipment may still carry of each line of `po`: ordered − received − what other
    shipments on their way already carry (never below 0). {purchase_order_line_id: units}."""
    elsewhere = carried_elsewhere([line.id for line in po.lines])
    return {line.id: max(0, line.outstanding - elsewhere.get(line.id, 0)) for line in po.lines}


def add_inbound_shipment(data: Any, actor: Actor) -> InboundShipment:
    """A new `booked` shipment carrying purchase order lines (all to one destination). Flushes.
    422 naming the line for an unknown PO or SKU, a PO not open for goods, or mixed destinations;
    409 `duplicate` for a taken number; 403 for staff."""
    require_manager(actor)
    body = validate(InboundShipmentIn, data, INVALID).model_dump(mode="python")
    if db.session.scalar(select(InboundShipment.id).where(InboundShipment.number == body["number"])) is not None:
        raise Conflict(_("Inbound shipment %(number)s already exists.", number=body["number"]),
                       {"number": _("Another inbound shipment already uses this number.")}, code="duplicate")
    numbers = {line["purchase_order"] for line in body["lines"]}
    visible = sorted(po.id for po in db.session.scalars(select(PurchaseOrder).where(PurchaseOrder.number.in_(numbers)))
                     if actor.can_see(po.destination_id))
    # Locked by id (the inbound lock order): two shipments booked at once cannot both take the
    # last open units of a line.
    pos = {po.number: po for po in (lock_purchase_order(po_id, actor) for po_id in visible)}
    elsewhere = carried_elsewhere([pl.id for po in pos.values() for pl in po.lines])
    problems: dict[str, str] = {}
    carried: list[InboundShipmentLine] = []
    seen: set[int] = set()
    for i, line in enumerate(body["lines"]):
        po = pos.get(line["purchase_order"])
        if po is None:
            problems[f"lines.{i}.purchase_order"] = _("There is no purchase order %(number)s.",
                                                      number=line["purchase_order"])
            continue
        if po.state not in RECEIVABLE_PURCHASE_ORDER_STATES:
            problems[f"lines.{i}.purchase_order"] = _(
                "Purchase order %(number)s is %(state)s: only sent or confirmed orders can be shipped.",
                number=po.number, state=state_label(po.state).lower())
            continue
        po_line = next((pl for pl in po.lines if pl.product.sku == line["sku"]), None)
        if po_line is None:
            problems[f"lines.{i}.sku"] = _("SKU %(sku)s is not on purchase order %(number)s.", sku=line["sku"],
                                           number=po.number)
        elif po_line.id in seen:
            problems[f"lines.{i}.sku"] = _("This purchase order line is already on the shipment.")
        elif line["quantity"] > (still_open := max(0, po_line.outstanding - elsewhere.get(po_line.id, 0))):
            problems[f"lines.{i}.quantity"] = (
                _("Only %(open)s of %(sku)s are still open on purchase order %(number)s (ordered %(ordered)s, "
                  "received %(received)s, on other shipments %(elsewhere)s): put at most %(open)s on this shipment.",
                  open=still_open, sku=line["sku"], number=po.number, ordered=po_line.quantity,
                  received=po_line.received, elsewhere=elsewhere.get(po_line.id, 0))
                if still_open else
                _("Nothing of %(sku)s is still open on purchase order %(number)s: it has arrived or is on "
                  "another shipment already.", sku=line["sku"], number=po.number))
        else:
            seen.add(po_line.id)
            carried.append(InboundShipmentLine(purchase_order_line=po_line, quantity=line["quantity"]))
    destinations = {pos[n].destination_id for n in numbers if n in pos}
    if len(destinations) > 1:
        problems["lines"] = _("All purchase orders on one shipment must go to the same location.")
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
