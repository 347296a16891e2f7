"""Building blocks shared by the package, transfer and order commands. Flush only, never commit.

`cancel_package` and `move_package` are also used by the planner (re-planning out-of-stock
packages) and by order cancellation, so a package is cancelled the same way everywhere.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from redis.exceptions import RedisError
from sqlalchemy import select

from app.extensions import db
from app.models import (
    CargoCompany,
    Order,
    Package,
    PackageItem,
    PlanningExclusion,
    Shipment,
    Transfer,
)
from app.models.base import utcnow
from app.services import events, stock
from app.services.actors import Actor
from app.services.errors import ValidationFailed
from app.services.representations import package_dict, shipment_dict, transfer_dict

log = logging.getLogger(__name__)

NOT_HOLDING_PACKAGE_STATES = ("cancelled", "refused")
NOT_HOLDING_ITEM_STATES = ("missing", "cancelled")
OPEN_TRANSFER_STATES = ("waiting", "ready_for_dispatch")
# Packages whose goods were consumed at packing but have not left the building yet.
PACKED_STATES = ("waiting_cargo_label", "packed", "ready_for_pickup")
SHIPPED_OR_LATER = ("shipped", "attempted_delivery", "delivery_failed", "delivered")
# Package states that emit an extra event when entered.
ENTRY_EVENTS = {"refused": "package.refused", "shipped": "package.shipped", "delivered": "package.delivered"}


@dataclass
class Ctx:
    """What a command handler gets: the locked package, who acts, validated params."""

    package: Package
    actor: Actor
    command: str
    params: Any  # the command's pydantic model
    after_commit: list[Callable[[], None]] = field(default_factory=list)

    @property
    def log_params(self) -> dict[str, Any]:
        return self.params.model_dump(mode="json", exclude_none=True) if isinstance(self.params, BaseModel) else {}


def lock_order_of(package_id: int) -> bool:
    """Lock the order row of a package before the package itself. Every command takes its rows in
    the same order (order, package, transfer, then stock by location and product), so concurrent
    commands on one order queue up instead of deadlocking. False when the package does not exist."""
    order_id = db.session.scalar(select(Package.order_id).where(Package.id == package_id))
    if order_id is None:
        return False
    db.session.execute(select(Order.id).where(Order.id == order_id).with_for_update())
    return True


def holding_items(package: Package) -> list[PackageItem]:
    """Items that still hold their quantity (see the shared definitions)."""
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
    db.session.flush()
    data = package_dict(package)
    if event_extra:
        data = {**data, **event_extra}
    events.emit("package.state_changed", "package", package.id, data, previous={"state": old})
    if to_state in ENTRY_EVENTS and to_state != old:
        events.emit(ENTRY_EVENTS[to_state], "package", package.id, package_dict(package), previous={"state": old})


def log_same_state(package: Package, command: str, params: dict[str, Any] | None, actor_label: str) -> None:
    """Commands that keep the state are still written to the package history."""
    package.updated_at = utcnow()
    events.log_transition("package", package.id, package.state, package.state, command, params, actor_label)


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


def set_shipment_status(shipment: Shipment, status: str, command: str, actor_label: str) -> None:
    """Change a shipment's status with its log row and `shipment.status_changed` event."""
    old = shipment.status
    if old == status:
        return
    shipment.status = status
    events.log_transition("shipment", shipment.id, old, status, command, {}, actor_label)
    db.session.flush()
    events.emit("shipment.status_changed", "shipment", shipment.id, shipment_data(shipment),
                previous={"status": old})


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


def replan(order: Order, trigger: str, actor_label: str) -> None:
    """Plan the order's unassigned units in this transaction (the planner only flushes)."""
    from app.services.planning import plan_unassigned

    plan_unassigned(order, trigger, actor_label)


def cargo_company_by_code(code: str, field_name: str = "cargo_company") -> CargoCompany:
    company = db.session.scalar(select(CargoCompany).where(CargoCompany.code == code))
    if company is None or not company.active:
        raise ValidationFailed("Unknown cargo company.", {field_name: f"No active cargo company with code {code!r}."})
    return company


def safe_enqueue(queue: str, func: str, *args: Any, job_id: str | None = None) -> None:
    """Enqueue after commit. The change is already committed, so a Redis outage is logged, not
    raised: the periodic sweepers (label polling, re-planning) pick the work up later."""
    from app.queues import enqueue

    try:
        enqueue(queue, func, *args, job_id=job_id)
    except (RedisError, OSError):
        log.warning("could not enqueue %s %s; a sweeper will retry", func, args, exc_info=True)


def label_job(shipment: Shipment) -> Callable[[], None]:
    """The after-commit callable that asks the carrier for this shipment's label."""
    shipment_id, version = shipment.id, shipment.version
    return lambda: safe_enqueue("carriers", "app.tasks.carriers.request_label", shipment_id,
                                job_id=f"label-{shipment_id}-{version}")


def invoice_job(package: Package) -> Callable[[], None]:
    """After packing without a carrier label job, ask the invoice service (when one is configured)."""
    package_id = package.id

    def follow_up() -> None:
        from flask import current_app

        if current_app.config.get("INVOICE_SERVICE_URL"):
            safe_enqueue("carriers", "app.tasks.carriers.fetch_invoice", package_id, job_id=f"invoice-{package_id}")

    return follow_up
