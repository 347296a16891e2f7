"""How a purchase order is locked, checked and moved: the shared steps of its commands and of
receiving (flush only)."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import InboundShipment, PurchaseOrder, PurchaseOrderLine
from app.models.base import utcnow
from app.services import events
from app.services.actors import Actor
from app.services.errors import Conflict, Forbidden, NotFound
from app.services.inbound.data import inbound_shipment_dict, purchase_order_dict
from app.services.state_labels import state_label
from app.services.transitions import Transition, allowed_inbound_shipment_commands, allowed_purchase_order_commands


def require_manager(actor: Actor) -> None:
    if not actor.is_manager:
        raise Forbidden(_('Only supervisors and admins may do this.'))


def _quoted(words: object) -> str:
    """A state or command named in a message, in the reader's words ("'Received'", "'Alındı'"),
    never the code name glued into a translated sentence."""
    return f"'{words}'"


def lock_purchase_order(purchase_order_id: int, actor: Actor) -> PurchaseOrder:
    """The purchase order with a row lock (fresh from the database), or 404 when it is missing
    or its destination is outside the actor's locations. The lock order of inbound work: inbound
    shipment, then its purchase orders by id, then stock rows."""
    po = db.session.scalar(
        select(PurchaseOrder).where(PurchaseOrder.id == purchase_order_id)
        .options(selectinload(PurchaseOrder.lines).selectinload(PurchaseOrderLine.product))
        .with_for_update(of=PurchaseOrder).execution_options(populate_existing=True))
    if po is None or not actor.can_see(po.destination_id):
        raise NotFound(_('There is no purchase order %(purchase_order_id)s.', purchase_order_id=purchase_order_id))
    return po


def check_command(po: PurchaseOrder, transition: Transition, actor: Actor, expected_version: int | None) -> None:
    """Forbidden / Conflict when `transition` may not run on `po` now."""
    allowed = allowed_purchase_order_commands(po.state, manager=actor.is_manager)
    if transition.managers_only and not actor.is_manager:
        raise Forbidden(_('Only supervisors and admins may do this.'))
    if expected_version is not None and expected_version != po.version:
        raise Conflict(_('The purchase order was changed by someone else; reload it and try again.'), code="stale",
                       details={"state": po.state, "allowed_commands": allowed, "version": po.version})
    if po.state not in transition.sources:
        raise Conflict(_('A purchase order in state %(state)s cannot %(command)s.', state=_quoted(state_label(po.state)),
                         command=_quoted(transition.label or transition.command)),
                       code="command_not_allowed", details={"state": po.state, "allowed_commands": allowed})


def move_purchase_order(po: PurchaseOrder, to_state: str, command: str, params: dict[str, Any] | None,
                        actor_label: str) -> None:
    """Change the state: transition log and `purchase_order.state_changed` (flushes)."""
    old = po.state
    po.state = to_state
    po.updated_at = utcnow()
    events.log_transition("purchase_order", po.id, old, to_state, command, params, actor_label)
    db.session.flush()
    events.emit("purchase_order.state_changed", "purchase_order", po.id, purchase_order_dict(po),
                previous={"state": old})


def lock_inbound_shipment(shipment_id: int, actor: Actor) -> InboundShipment:
    """The inbound shipment with a row lock (fresh), or 404 when missing or another location's."""
    shipment = db.session.scalar(
        select(InboundShipment).where(InboundShipment.id == shipment_id)
        .with_for_update(of=InboundShipment).execution_options(populate_existing=True))
    if shipment is None or not actor.can_see(shipment.destination_id):
        raise NotFound(_('There is no inbound shipment %(shipment_id)s.', shipment_id=shipment_id))
    return shipment


def check_shipment_command(shipment: InboundShipment, transition: Transition, actor: Actor,
                           expected_version: int | None) -> None:
    allowed = allowed_inbound_shipment_commands(shipment.status, manager=actor.is_manager)
    if transition.managers_only and not actor.is_manager:
        raise Forbidden(_('Only supervisors and admins may do this.'))
    if expected_version is not None and expected_version != shipment.version:
        raise Conflict(_('The inbound shipment was changed by someone else; reload it and try again.'), code="stale",
                       details={"status": shipment.status, "allowed_commands": allowed, "version": shipment.version})
    if shipment.status not in transition.sources:
        raise Conflict(_('An inbound shipment with status %(status)s cannot %(command)s.',
                         status=_quoted(state_label(shipment.status)),
                         command=_quoted(transition.label or transition.command)),
                       code="command_not_allowed", details={"status": shipment.status, "allowed_commands": allowed})


def move_inbound_shipment(shipment: InboundShipment, to_status: str, command: str, params: dict[str, Any] | None,
                          actor_label: str) -> None:
    """A status event: transition log and `inbound_shipment.status_changed` (flushes)."""
    old = shipment.status
    shipment.status = to_status
    shipment.updated_at = utcnow()
    events.log_transition("inbound_shipment", shipment.id, old, to_status, command, params, actor_label)
    db.session.flush()
    events.emit("inbound_shipment.status_changed", "inbound_shipment", shipment.id, inbound_shipment_dict(shipment),
                previous={"status": old})
