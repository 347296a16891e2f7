"""Batch planning (`flask plan`, POST /api/v1/planning/run): every waiting order, in chunks.

Per chunk: lock the orders, load their items, the stock of their products (locked), open
packages and exclusions in a few queries, plan every order in memory against that one
snapshot, write everything with multi-row statements, and commit. A chunk that loses a race
anyway (the `reserved <= on_hand` constraint fires) is rolled back and planned again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, OperationalError

from app.extensions import db
from app.models import CargoCompany, Channel, Order, OrderItem, Package, Product, ProductBarcode, StockLocation
from app.services.db import begin_write
from app.services.planning import engine, snapshot
from app.services.planning.model import Demand, OrderView
from app.services.planning.service import PLANNABLE_ORDER_STATUSES, PLANNER, hold
from app.services.planning.writer import Planned, StockRaceLost, write
from app.services.settings import get_setting

log = logging.getLogger("packline.planning")

DEFAULT_CHUNK = 500
Progress = Callable[[int, int], None]


def waiting_order_ids() -> list[int]:
    """Orders not planned yet ('new') and on-hold orders (they may have become acceptable)."""
    return list(db.session.scalars(select(Order.id).where(Order.status.in_(PLANNABLE_ORDER_STATUSES))
                                   .order_by(Order.placed_at, Order.id)))


def plan_batch(order_ids: Iterable[int] | None = None, chunk_size: int = DEFAULT_CHUNK,
               progress: Progress | None = None, trigger: str = "batch",
               timings: list[float] | None = None, stats: dict[str, float] | None = None) -> dict[str, int]:
    """Plan every waiting order (or `order_ids`) in chunks, committing per chunk. Returns counts
    per outcome. `progress(done, total)` is called after each chunk; `timings` (when given)
    receives the time spent per order in each chunk, `stats` the seconds spent loading,
    planning in memory, writing and committing."""
    ids = list(order_ids) if order_ids is not None else waiting_order_ids()
    db.session.rollback()
    total, done = len(ids), 0
    counts: dict[str, int] = {}
    codes = _codes()  # channel/cargo/location codes, scenarios and sites: read once per batch
    codes["scenarios"] = snapshot.load_scenarios()
    codes["sites"] = snapshot.load_sites()
    for start in range(0, total, chunk_size):
        chunk = ids[start:start + chunk_size]
        began = time.perf_counter()
        for attempt in range(3):
            try:
                chunk_counts = _plan_chunk(chunk, codes, trigger, stats if stats is not None else {})
                tick = time.perf_counter()
                db.session.commit()
                if stats is not None:
                    stats["commit"] = stats.get("commit", 0.0) + time.perf_counter() - tick
                break
            except (StockRaceLost, IntegrityError, OperationalError) as exc:
                db.session.rollback()
                log.info("batch chunk lost a stock race (attempt %s): %s; planning it again", attempt + 1, exc)
        else:  # a very busy moment: plan these orders one by one, each with its own retries
            chunk_counts = _one_by_one(chunk, trigger)
        for k, v in chunk_counts.items():
            counts[k] = counts.get(k, 0) + v
        done += len(chunk)
        if timings is not None and chunk:
            per_order = (time.perf_counter() - began) / len(chunk)
            timings.extend([per_order] * len(chunk))
        if progress:
            progress(done, total)
    return counts


def _one_by_one(chunk: list[int], trigger: str) -> dict[str, int]:
    from app.services.errors import Conflict
    from app.services.planning.service import plan_order

    counts: dict[str, int] = {}
    for order_id in chunk:
        try:
            status = plan_order(order_id, trigger=trigger).status
        except Conflict:
            status = "retry_later"
        counts[status] = counts.get(status, 0) + 1
    return counts


def _codes() -> dict[str, Any]:
    return {
        "channel": dict(db.session.execute(select(Channel.id, Channel.code)).tuples().all()),
        "cargo": dict(db.session.execute(select(CargoCompany.id, CargoCompany.code)).tuples().all()),
        "location": dict(db.session.execute(select(StockLocation.id, StockLocation.code)).tuples().all()),
        "own_label": {cid: True for cid in db.session.scalars(
            select(Channel.id).where(Channel.provides_shipping_label.is_(True)))},
    }


class _Item:
    """An order item as the batch sees it (plain attributes, no ORM loading)."""

    __slots__ = ("id", "product_id", "quantity", "cancelled_quantity", "price", "status", "sku", "name", "barcodes")

    def __init__(self, row, barcodes: dict[int, list[str]]):
        (self.id, _order_id, self.product_id, self.quantity, self.cancelled_quantity, self.price, self.status,
         self.sku, self.name) = row
        self.barcodes = barcodes.get(self.product_id, [])


class _Order:
    """An order row plus its items; attribute names match the Order model."""

    def __init__(self, row):
        self.__dict__.update(row._mapping)
        self.items: list[_Item] = []


def _load_orders(chunk: list[int]) -> list[_Order]:
    orders_t = Order.__table__
    query = (select(orders_t).where(orders_t.c.id.in_(chunk), orders_t.c.status.in_(PLANNABLE_ORDER_STATUSES))
             .order_by(orders_t.c.placed_at, orders_t.c.id))
    if db.session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)  # rows another planner holds are its to plan
    orders = {r.id: _Order(r) for r in db.session.execute(query)}
    if not orders:
        return []
    items = db.session.execute(
        select(OrderItem.id, OrderItem.order_id, OrderItem.product_id, OrderItem.quantity,
               OrderItem.cancelled_quantity, OrderItem.price, OrderItem.status, Product.sku, Product.name)
        .join(Product, Product.id == OrderItem.product_id)
        .where(OrderItem.order_id.in_(list(orders))).order_by(OrderItem.id)).all()
    barcodes: dict[int, list[str]] = {}
    for pid, code in db.session.execute(select(ProductBarcode.product_id, ProductBarcode.barcode)
                                        .where(ProductBarcode.product_id.in_({i.product_id for i in items}))
                                        .order_by(ProductBarcode.id)):
        barcodes.setdefault(pid, []).append(code)
    for row in items:
        orders[row.order_id].items.append(_Item(row, barcodes))
    return list(orders.values())


def _demands(order: _Order, held: dict[int, int]) -> list[Demand]:
    out = []
    for item in order.items:
        if item.status == "cancelled":
            continue
        left = item.quantity - (item.cancelled_quantity or 0) - held.get(item.id, 0)
        if left > 0:
            out.append(Demand(item.id, item.product_id, item.sku, left))
    return out


def _lap(stats: dict[str, float], step: str, since: float) -> float:
    now = time.perf_counter()
    stats[step] = stats.get(step, 0.0) + now - since
    return now


def _plan_chunk(chunk: list[int], codes: dict, trigger: str, stats: dict[str, float]) -> dict[str, int]:
    tick = time.perf_counter()
    begin_write()
    orders = _load_orders(chunk)
    counts: dict[str, int] = {}
    accepted = snapshot.accepted_statuses()
    holding, to_plan = [], []
    for order in orders:
        (to_plan if snapshot.accepted_status(order.source_status, accepted) else holding).append(order)
    item_ids = [i.id for o in to_plan for i in o.items]
    held = snapshot.held_quantities(item_ids)
    demands = {o.id: _demands(o, held) for o in to_plan}
    product_ids = {d.product_id for ds in demands.values() for d in ds}
    scenarios = codes["scenarios"]
    network = snapshot.load_network(product_ids, item_ids, open_counts=snapshot.needs_open_counts(scenarios),
                                    sites=codes["sites"])
    existing = dict(db.session.execute(select(Package.order_id, func.count(Package.id))
                                       .where(Package.order_id.in_([o.id for o in to_plan]))
                                       .group_by(Package.order_id)).tuples().all()) if to_plan else {}
    tick = _lap(stats, "load", tick)
    batch: list[Planned] = []
    provider = get_setting("GEOLOCATION_DISCOVERY", "offline")
    for order in to_plan:
        view = _view(order, demands[order.id], codes, provider)
        plan = engine.plan(view, scenarios, network)
        counts[plan.outcome] = counts.get(plan.outcome, 0) + 1
        if plan.outcome in ("no_scenario", "nothing_to_plan") and order.status == "new":
            continue
        batch.append(Planned(order, plan, _status_after(plan), existing.get(order.id, 0),
                             {"channel": codes["channel"].get(order.channel_id),
                              "cargo_company": codes["cargo"].get(order.cargo_company_id),
                              "pickup_location": codes["location"].get(order.pickup_location_id)},
                             codes["own_label"].get(order.channel_id, False)))
    tick = _lap(stats, "plan", tick)
    write(batch, network, PLANNER, trigger)
    tick = _lap(stats, "write", tick)
    newly_held = [o for o in holding if o.status == "new"]
    if newly_held:
        for order in newly_held:
            hold(db.session.get(Order, order.id), trigger, PLANNER)
    if holding:
        counts["on_hold"] = counts.get("on_hold", 0) + len(holding)
    return counts


def _status_after(plan) -> str:
    states = [p.state for p in plan.packages]
    if not states:
        return "new"
    return "out_of_stock" if "out_of_stock" in states else "planned"


def _view(order: _Order, demands, codes: dict, provider: str) -> OrderView:
    coords, source = snapshot.coordinates(order.ship_latitude, order.ship_longitude, order.ship_city,
                                          order.ship_district, provider)
    return OrderView(
        id=order.id, number=order.number, channel=codes["channel"].get(order.channel_id, ""),
        delivery_type=order.delivery_type, payment_type=order.payment_type,
        cargo_company=codes["cargo"].get(order.cargo_company_id), pickup_location_id=order.pickup_location_id,
        city=order.ship_city, district=order.ship_district, coords=coords, coords_source=source, demands=demands)
