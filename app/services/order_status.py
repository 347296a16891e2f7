"""The order's own status, derived from its items and work orders (SPEC §3). Flush only.

One function decides the status from plain values (`status_from`), so the per-order path and batch
planning (which holds rows, not ORM objects) can never disagree.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import inspect

from app.extensions import db
from app.models import Order, OrderItem, Package
from app.models.base import utcnow
from app.services import events
from app.services.representations import order_dict
from app.services.transitions import IN_PROGRESS_STATES, NOT_HOLDING_PACKAGE_STATES, SHIPPED_OR_LATER


def status_from(current: str, all_cancelled: bool, package_states: Iterable[str]) -> str:
    """The order status for an order whose every unit is cancelled (`all_cancelled`) or not, with
    packages in `package_states`, now in status `current` (only `on_hold` vs `new` needs it)."""
    if all_cancelled:
        return "cancelled"
    states = [s for s in package_states if s not in NOT_HOLDING_PACKAGE_STATES]
    live = [s for s in states if s != "packed_for_refund"]
    if not live and states:
        return "cancelled"  # everything left was handed back for a refund
    if not live:
        return "on_hold" if current == "on_hold" else "new"
    if all(s == "delivered" for s in live):
        return "delivered"
    if all(s in SHIPPED_OR_LATER for s in live):
        return "shipped"
    if any(s in SHIPPED_OR_LATER for s in live):
        return "partially_shipped"
    if "out_of_stock" in live:
        return "out_of_stock"
    if any(s in IN_PROGRESS_STATES for s in live):
        return "in_progress"
    return "planned"


def status_class(state: str) -> tuple[bool, ...]:
    """Everything `status_from` asks of one package state. Two states of the same class give
    every order the same status whatever its other packages, so a package moving from one to the
    other (preparing → packed, packed → shipped is not: shipped is another class) cannot move
    its order's status."""
    return (state in NOT_HOLDING_PACKAGE_STATES, state == "packed_for_refund", state == "delivered",
            state in SHIPPED_OR_LATER, state == "out_of_stock", state in IN_PROGRESS_STATES)


def derive_order_status(order: Order, released: bool = False) -> str:
    """The order status from its items and packages (SPEC §3). `released`: an on-hold order the
    planner has just taken up counts as new (it stays on hold only while nothing is planned)."""
    all_cancelled = bool(order.items) and all(i.cancelled_quantity >= i.quantity for i in order.items)
    current = "new" if released and order.status == "on_hold" else order.status
    return status_from(current, all_cancelled, (p.state for p in order.packages))


def _membership_pending(session) -> bool:
    """True when an unflushed change could change which items or packages an order has (a new
    or deleted one, or a package moved to another order): those need a flush before the load."""
    if any(isinstance(obj, (Package, OrderItem)) for objs in (session.new, session.deleted) for obj in objs):
        return True
    return any(isinstance(obj, Package) and inspect(obj).attrs.order_id.history.has_changes() for obj in session.dirty)


def refresh_order_status(order: Order, actor_label: str, command: str = "status", released: bool = False) -> None:
    """Re-derive `order.status` (flush only); emits order.status_changed (and order.cancelled),
    logged from the status the order really had (`on_hold` → `planned` for a released order)."""
    session = db.session()
    old = order.status
    if _membership_pending(session):
        session.flush()  # the order's items and packages as the database will hold them
        new = derive_order_status(order, released)
    else:
        # Only changed rows pending: loading the items and packages finds the changed objects in
        # the identity map as they are in memory, so the changes go out with the next flush.
        with session.no_autoflush:
            new = derive_order_status(order, released)
    if new == old:
        return
    order.status = new
    order.updated_at = utcnow()
    events.log_transition("order", order.id, old, new, command, {}, actor_label)
    # From the objects as they are (membership changes were flushed above): the changed rows go
    # out with the next flush, so the relationship loads the payload needs do not flush them now.
    with session.no_autoflush:
        data = order_dict(order)
    events.emit("order.status_changed", "order", order.id, data, previous={"status": old})
    if new == "cancelled":
        events.emit("order.cancelled", "order", order.id, data, previous={"status": old})
