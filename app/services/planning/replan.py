"""Re-planning out-of-stock packages: periodically and whenever a wanted SKU's stock rises."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable

from redis.exceptions import RedisError
from sqlalchemy import select

from app.extensions import db
from app.models import Order, Package, PackageItem
from app.queues import enqueue
from app.services import stock
from app.services.db import begin_write
from app.services.lifecycle import cancel_package, item_quantities, items_changed
from app.services.planning.service import PLANNER, RESOURCEABLE_STATES, plan_unassigned
from app.services.transitions import NOT_HOLDING_PACKAGE_STATES

log = logging.getLogger("packline.planning")


def waiting_for_stock(product_ids: Iterable[int] | None = None) -> list[int]:
    """Ids of out_of_stock packages (optionally only those wanting one of `product_ids`), oldest first."""
    query = select(Package.id).where(Package.state == "out_of_stock")
    ids = list(product_ids or [])
    if ids:
        query = query.where(Package.id.in_(
            select(PackageItem.package_id).where(PackageItem.product_id.in_(ids))))
    return list(db.session.scalars(query.order_by(Package.id)))


def replan_package(package_id: int) -> str:
    """Cancel one out_of_stock package and plan its units again, committing only when some of
    them now find stock (otherwise nothing changes and no new package number is used)."""
    begin_write()
    order_id = db.session.scalar(select(Package.order_id).where(Package.id == package_id))
    if order_id is None:
        db.session.rollback()
        return "skipped"
    # The lock order of every command: the order row, then its packages (this one and the open
    # package it may refill), read afresh after the locks.
    db.session.execute(select(Order.id).where(Order.id == order_id).with_for_update())
    packages = {p.id: p for p in db.session.scalars(
        select(Package).where(Package.order_id == order_id).order_by(Package.id)
        .with_for_update().execution_options(populate_existing=True))}
    package = packages.get(package_id)
    if package is None or package.state != "out_of_stock":
        db.session.rollback()
        return "skipped"
    order = package.order
    # The order's one open package (if it has exactly one) is refilled first, as when it lost them.
    open_packages = [p for p in packages.values() if p.state in RESOURCEABLE_STATES]
    into = open_packages[0] if len(open_packages) == 1 else None
    before = item_quantities(into) if into is not None else None
    try:
        cancel_package(package, PLANNER, command="replan")
        result = plan_unassigned(order, "replan", PLANNER, into=into)
    except stock.InsufficientStock:
        db.session.rollback()
        return "race"
    if result.outcome in ("out_of_stock", "no_scenario", "on_hold"):
        db.session.rollback()
        return "still_out_of_stock"
    if into is not None and into.state not in NOT_HOLDING_PACKAGE_STATES:
        items_changed(into, before)
    db.session.commit()
    return result.outcome


def replan_out_of_stock(product_ids: Iterable[int] | None = None) -> dict[str, int]:
    """Try every out_of_stock package (or those wanting `product_ids`) again; one transaction per
    package. Returns counts per outcome."""
    counts: dict[str, int] = {}
    for package_id in waiting_for_stock(product_ids):
        outcome = replan_package(package_id)
        counts[outcome] = counts.get(outcome, 0) + 1
    db.session.rollback()
    return counts


def on_stock_increase(location_id: int, product_ids: Iterable[int]) -> bool:
    """Call after committing a stock increase: when an out_of_stock package wants one of these
    products, enqueue a re-plan for them. Returns True when a job was enqueued."""
    ids = sorted(set(product_ids))
    if not ids or not waiting_for_stock(ids):
        return False
    digest = hashlib.sha1(",".join(map(str, ids)).encode()).hexdigest()[:16]
    try:
        enqueue("planning", "app.tasks.planning.replan_out_of_stock", ids, job_id=f"replan-stock-{digest}")
    except (RedisError, OSError):  # the periodic job will get to it
        log.warning("could not enqueue a re-plan after a stock increase at %s", location_id, exc_info=True)
        return False
    return True
