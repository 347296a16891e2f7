"""Creating packages and transfers — shared by the planner and manual planning. Flush only."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select

from app.extensions import db
from app.models import Order, OrderItem, Package, PackageItem, Transfer, TransferItem
from app.services import events, stock
from app.services.representations import package_dict, transfer_dict


@dataclass(frozen=True)
class Line:
    order_item: OrderItem
    quantity: int


def next_package_number(order: Order) -> str:
    """`<order number>-P<n>`, n counting every package the order ever had. Order numbers are unique
    per channel only, so n skips numbers a same-numbered order of another channel already took."""
    n = (db.session.scalar(select(func.count(Package.id)).where(Package.order_id == order.id)) or 0) + 1
    while db.session.scalar(select(Package.id).where(Package.number == f"{order.number}-P{n}")) is not None:
        n += 1
    return f"{order.number}-P{n}"


def create_package(order: Order, location_id: int, lines: Sequence[Line], state: str, actor: str,
                   reserve: bool = True, planning_trace_id: int | None = None,
                   command: str = "plan", announce: bool = True) -> Package:
    """A package with one item per line; reserves its stock at the location when `reserve`.
    Raises stock.InsufficientStock if a reservation fails (the caller rolls back). With
    `announce=False` the caller emits `package.created` itself (`announce_package`) once the
    package is complete (its transfers made), so the event shows what the API will show."""
    package = Package(number=next_package_number(order), order=order, location_id=location_id, state=state,
                      planning_trace_id=planning_trace_id)
    for line in lines:
        package.items.append(PackageItem(order_item=line.order_item, product_id=line.order_item.product_id,
                                         quantity=line.quantity))
    db.session.add(package)
    db.session.flush()
    if reserve:
        stock.reserve([stock.Need(location_id, item.product_id, item.quantity, package_item_id=item.id)
                       for item in package.items], actor=actor, reference=package.number)
    events.log_transition("package", package.id, None, state, command, {}, actor)
    if announce:
        announce_package(package)
    return package


def announce_package(package: Package) -> None:
    """`package.created` with the package as the API returns it."""
    db.session.flush()
    events.emit("package.created", "package", package.id, package_dict(package))


def create_transfer(package: Package, source_id: int, items: Sequence[tuple[PackageItem, int]], actor: str,
                    reserve: bool = True) -> Transfer:
    """A transfer bringing `items` (package item, quantity) from `source_id` to the package's location."""
    count = db.session.scalar(select(func.count(Transfer.id)).where(Transfer.package_id == package.id)) or 0
    transfer = Transfer(number=f"{package.number}-T{count + 1}", package=package, source_id=source_id,
                        destination_id=package.location_id, state="waiting")
    for package_item, quantity in items:
        transfer.items.append(TransferItem(package_item=package_item, product_id=package_item.product_id,
                                           quantity=quantity))
    db.session.add(transfer)
    db.session.flush()
    if reserve:
        stock.reserve([stock.Need(source_id, ti.product_id, ti.quantity, transfer_item_id=ti.id)
                       for ti in transfer.items], actor=actor, reference=transfer.number)
    events.log_transition("transfer", transfer.id, None, "waiting", "plan", {}, actor)
    events.emit("transfer.created", "transfer", transfer.id, transfer_dict(transfer))
    return transfer
