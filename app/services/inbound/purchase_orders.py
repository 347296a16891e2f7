"""Purchase orders (SPEC §14): create and edit a draft, and run the commands of
`transitions.PURCHASE_ORDER_TRANSITIONS`. From `sent` on a purchase order changes only through
those commands; goods arriving go through `receiving.py`.

`add_purchase_order` only flushes (the import job commits per chunk, with a savepoint per line);
`create_purchase_order`, `update_draft` and `run_purchase_order_command` are transactions.
"""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.models import PurchaseOrder, PurchaseOrderLine
from app.models.base import utcnow
from app.schemas.common import validate
from app.schemas.inbound import (
    CancelPurchaseOrderParams,
    CloseShortParams,
    ConfirmParams,
    NoParams,
    PurchaseOrderIn,
    ReceiveParams,
)
from app.services import events
from app.services.actors import Actor
from app.services.db import committed
from app.services.errors import Conflict, NotFound, ValidationFailed
from app.services.inbound.data import location_by_code, products_by_sku, purchase_order_dict, supplier_by_code
from app.services.inbound.lifecycle import check_command, lock_purchase_order, move_purchase_order, require_manager
from app.services.inbound.receiving import receive_purchase_order
from app.services.transitions import (
    PURCHASE_ORDER_TRANSITIONS,
)

INVALID = "Some fields are not valid."

COMMAND_PARAMS: dict[str, type] = {
    "edit": PurchaseOrderIn,
    "send": NoParams,
    "confirm": ConfirmParams,
    "mark_in_transit": NoParams,
    "receive": ReceiveParams,
    "close_short": CloseShortParams,
    "cancel": CancelPurchaseOrderParams,
}
assert set(COMMAND_PARAMS) == set(PURCHASE_ORDER_TRANSITIONS)


def _lines(po: PurchaseOrder, body: dict[str, Any]) -> list[PurchaseOrderLine]:
    products = products_by_sku([(f"lines.{i}.sku", line["sku"]) for i, line in enumerate(body["lines"])])
    return [PurchaseOrderLine(product=products[line["sku"]], quantity=line["quantity"], unit_cost=line["unit_cost"])
            for line in body["lines"]]


def add_purchase_order(data: Any, actor: Actor) -> PurchaseOrder:
    """A new draft purchase order from `PurchaseOrderIn`. Flushes. 422 for bad fields or unknown
    supplier, location or SKU; 409 `duplicate` when the number is taken; 403 for staff."""
    require_manager(actor)
    body = validate(PurchaseOrderIn, data, INVALID).model_dump()
    if db.session.scalar(select(PurchaseOrder.id).where(PurchaseOrder.number == body["number"])) is not None:
        raise Conflict(_('Purchase order %(number)s already exists.', number=body['number']),
                       {"number": _('Another purchase order already uses this number.')}, code="duplicate")
    po = PurchaseOrder(number=body["number"], supplier=supplier_by_code(body["supplier"]),
                       destination=location_by_code(body["destination"], "destination", actor),
                       expected_at=body["expected_at"], note=body["note"], state="draft")
    po.lines = _lines(po, body)
    db.session.add(po)
    db.session.flush()
    events.log_transition("purchase_order", po.id, None, "draft", "create", {}, actor.label)
    events.emit("purchase_order.created", "purchase_order", po.id, purchase_order_dict(po))
    return po


def create_purchase_order(data: Any, actor: Actor) -> PurchaseOrder:
    """`add_purchase_order` in its own transaction."""
    return committed(add_purchase_order, data, actor)


def _edit(po: PurchaseOrder, params: PurchaseOrderIn, actor: Actor) -> None:
    body = params.model_dump()
    if body["number"] != po.number:
        raise ValidationFailed(INVALID, {"number": _('The number cannot be changed.')})
    previous = purchase_order_dict(po)
    po.supplier = supplier_by_code(body["supplier"])
    po.destination = location_by_code(body["destination"], "destination", actor)
    po.expected_at, po.note = body["expected_at"], body["note"]
    po.lines.clear()
    db.session.flush()  # the old lines go before the new ones take their (po, product) keys
    po.lines.extend(_lines(po, body))
    po.updated_at = utcnow()
    events.log_transition("purchase_order", po.id, po.state, po.state, "edit", {}, actor.label)
    db.session.flush()
    events.emit("purchase_order.updated", "purchase_order", po.id, purchase_order_dict(po),
                previous={k: v for k, v in previous.items() if k in ("supplier", "destination", "expected_at",
                                                                      "note", "lines")})


def _handle(po: PurchaseOrder, command: str, params: Any, actor: Actor) -> None:
    logged = params.model_dump(mode="json", exclude_none=True)
    if command == "edit":
        _edit(po, params, actor)
    elif command == "confirm":
        if params.expected_at is not None:
            po.expected_at = params.expected_at
        move_purchase_order(po, "confirmed", command, logged, actor.label)
    elif command == "close_short":
        po.close_reason = params.reason
        move_purchase_order(po, "closed", command, logged, actor.label)
    elif command == "cancel":
        po.close_reason = params.reason
        move_purchase_order(po, "cancelled", command, logged, actor.label)
    else:
        move_purchase_order(po, PURCHASE_ORDER_TRANSITIONS[command].target, command, logged, actor.label)


def run_purchase_order_command(purchase_order_id: int, command: str, params: dict[str, Any] | None, actor: Actor,
                               expected_version: int | None = None) -> PurchaseOrder:
    """Run one purchase order command in one transaction and return the purchase order.

    Errors: NotFound (missing, another location's, unknown command), Forbidden (staff running a
    supervisor's command), Conflict (`command_not_allowed` naming the state and the allowed
    commands; `stale` when `expected_version` is not current), ValidationFailed (bad params).
    Nothing changes when an error is raised. `receive` is `receiving.receive_purchase_order`.
    """
    transition = PURCHASE_ORDER_TRANSITIONS.get(command)
    if transition is None:
        raise NotFound(_('Unknown purchase order command %(command)s.', command=repr(command)), code="unknown_command",
                       details={"commands": list(PURCHASE_ORDER_TRANSITIONS)})
    if command == "receive":
        body = validate(ReceiveParams, params or {}, "The command parameters are not valid.")
        return receive_purchase_order(purchase_order_id, [line.model_dump() for line in body.lines], actor,
                                      receipt_key=body.receipt_key, expected_version=expected_version).purchase_order

    def work() -> PurchaseOrder:
        po = lock_purchase_order(purchase_order_id, actor)
        check_command(po, transition, actor, expected_version)
        validated = validate(COMMAND_PARAMS[command], params or {}, "The command parameters are not valid.")
        po.version += 1
        _handle(po, command, validated, actor)
        return po

    return committed(work)


def update_draft(purchase_order_id: int, data: Any, actor: Actor, expected_version: int | None = None) -> PurchaseOrder:
    """Replace a draft's supplier, destination, date, note and lines (the `edit` command)."""
    return run_purchase_order_command(purchase_order_id, "edit", data, actor, expected_version)
