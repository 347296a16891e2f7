"""How work orders change: the one way to move a package, transfer or shipment to another state,
to cancel a package, and to say that a package's items changed. Flush only, never commit.

A low module on purpose: the planner, the package/transfer/order commands, the carrier jobs and
order cancellation all import it, and it imports none of them, so a package is cancelled (and its
events are written) the same way everywhere.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models import Package, PackageItem, PlanningExclusion, Shipment, Transfer
from app.models.base import utcnow
from app.services import events, stock
from app.services.representations import package_dict, shipment_dict, transfer_dict
from app.services.transitions import (
    NOT_HOLDING_ITEM_STATES,
    NOT_HOLDING_PACKAGE_STATES,
    OPEN_TRANSFER_STATES,
    PACKED_STATES,
    SHIPPED_OR_LATER,
)

# Package states that emit an extra event when entered.
ENTRY_EVENTS = {"refused": "package.refused", "shipped": "package.shipped", "delivered": "package.delivered"}


def holding_items(package: Package) -> list[PackageItem]:
    """Items that still hold their quantity (see the state groups in `transitions`)."""
    if package.state in NOT_HOLDING_PACKAGE_STATES:
        return []
    return [i for i in package.items if i.state not in NOT_HOLDING_ITEM_STATES]


def move_package(package: Package, to_state: str, command: str, params: dict[str, Any] | None, actor_label: str,
                 event_extra: dict[str, Any] | None = None) -> None:
    """Change the package's state: transition log, `package.state_changed` (+ entry events)."""
    old = package.state
    package.state = to_state
    package.state_changed_at = utcnow()
    package.updated_at = utcnow()
    events.log_transition("package", package.id, old, to_state, command, params, actor_label)
    data = package_dict(package)  # from the objects as they are: the rows go out with the next flush
    if event_extra:
        data = {**data, **event_extra}
    events.emit("package.state_changed", "package", package.id, data, previous={"state": old})
    if to_state in ENTRY_EVENTS and to_state != old:
        events.emit(ENTRY_EVENTS[to_state], "package", package.id, package_dict(package), previous={"state": old})


def log_same_state(package: Package, command: str, params: dict[str, Any] | None, actor_label: str) -> None:
    """Commands that keep the state are still written to the package history."""
    package.updated_at = utcnow()
    events.log_transition("package", package.id, package.state, package.state, command, params, actor_label)


def item_quantities(package: Package) -> list[dict[str, Any]]:
    """The package's items as `package.items_changed` reports what they were before."""
    return [{"id": i.id, "quantity": i.quantity, "picked_quantity": i.picked_quantity, "state": i.state}
            for i in package.items]


def items_changed(package: Package, before: list[dict[str, Any]]) -> None:
    """Emit `package.items_changed` when units left or joined a package whose state did not
    change (a partial cancel, a partial missing report, units re-sourced into it), so software
    that follows packages by webhook sees the new quantities (and the version moves on). `before`
    is `item_quantities()` taken before the change; nothing happens when nothing changed."""
    db.session.flush()
    if item_quantities(package) == before:
        return
    package.updated_at = utcnow()
    package.version += 1  # a screen or If-Match holding the old quantities is now stale
    events.emit("package.items_changed", "package", package.id, package_dict(package),
                previous={"items": before})


def move_transfer(transfer: Transfer, to_state: str, command: str, params: dict[str, Any] | None,
                  actor_label: str) -> None:
    old = transfer.state
    transfer.state = to_state
    transfer.updated_at = utcnow()
    events.log_transition("transfer", transfer.id, old, to_state, command, params, actor_label)
    db.session.flush()
    events.emit("transfer.state_changed", "transfer", transfer.id, transfer_dict(transfer), previous={"state": old})


def shipment_data(shipment: Shipment) -> dict[str, Any]:
    package = shipment.package
    return {**(shipment_dict(shipment) or {}), "package": {"id": package.id, "number": package.number}}


def set_shipment_status(shipment: Shipment, status: str, command: str, actor_label: str,
                        params: dict[str, Any] | None = None, repeat: bool = False) -> None:
    """Change a shipment's status with its log row and event: `shipment.label_ready` when a label
    arrived, else `shipment.status_changed`. Staying in the same status is a no-op unless
    `repeat` (a carrier job records each failed attempt and each new label)."""
    old = shipment.status
    if old == status and not repeat:
        return
    shipment.status = status
    if status == "delivered" and shipment.delivered_at is None:
        shipment.delivered_at = utcnow()
    events.log_transition("shipment", shipment.id, old, status, command, params, actor_label)
    db.session.flush()
    event_type = "shipment.label_ready" if status == "label_ready" else "shipment.status_changed"
    events.emit(event_type, "shipment", shipment.id, shipment_data(shipment), previous={"status": old})


def release_package(package: Package, actor_label: str, reason: str = "release") -> int:
    return stock.release(actor_label, package.number, package_item_ids=[i.id for i in package.items], reason=reason)


def cancel_open_transfers(package: Package, actor_label: str, command: str = "cancel",
                          reason: str | None = None) -> None:
    """Transfers not yet on the road are cancelled and their source reservations released."""
    for transfer in package.transfers:
        if transfer.state not in OPEN_TRANSFER_STATES:
            continue
        stock.release(actor_label, transfer.number, transfer_item_ids=[ti.id for ti in transfer.items])
        for ti in transfer.items:
            if ti.state == "open":
                ti.state = "cancelled"
        move_transfer(transfer, "cancelled", command, {"reason": reason} if reason else {}, actor_label)


def return_packed_goods(package: Package, actor_label: str) -> None:
    """Goods consumed at packing that never left the building go back on the shelf."""
    if package.state not in PACKED_STATES:
        return
    for item in package.items:
        if item.state == "packed":
            stock.receive(package.location_id, item.product_id, item.quantity, actor_label, package.number,
                          reason="return_to_stock")


def cancel_package(package: Package, actor_label: str, command: str = "cancel", reason: str | None = None,
                   params: dict[str, Any] | None = None) -> None:
    """Cancel a package that has not shipped: reservations released, open transfers cancelled,
    a not-yet-shipped shipment cancelled, packed goods returned to stock."""
    release_package(package, actor_label)
    cancel_open_transfers(package, actor_label, command, reason)
    return_packed_goods(package, actor_label)
    if package.shipment is not None and package.shipment.status not in ("cancelled", *SHIPPED_OR_LATER):
        set_shipment_status(package.shipment, "cancelled", command, actor_label)
    if reason:
        package.cancel_reason = reason[:500]
    if params is None:
        params = {"reason": reason} if reason else {}
    move_package(package, "cancelled", command, params, actor_label)


def exclude_location(order_item_id: int, location_id: int, reason: str) -> None:
    """Never plan this order item at (or from) this location again."""
    exists = db.session.scalar(select(PlanningExclusion.id).where(
        PlanningExclusion.order_item_id == order_item_id, PlanningExclusion.location_id == location_id))
    if exists is None:
        db.session.add(PlanningExclusion(order_item_id=order_item_id, location_id=location_id, reason=reason))
        db.session.flush()
