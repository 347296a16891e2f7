"""Batch planning (`flask plan`, POST /api/v1/planning/run): every waiting order, in chunks.

Per chunk: lock the orders, load their items, the stock of their products (locked), open
packages and exclusions in a few queries, plan every order in memory against that one
snapshot, write everything with multi-row statements, and commit. A chunk that loses a race
anyway (the `reserved <= on_hand` constraint fires) is rolled back and planned again.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, OperationalError

from app.extensions import db
from app.models import CargoCompany, Channel, Order, OrderItem, Package, Product, ProductBarcode, StockLocation
from app.services.db import begin_write, in_values
from app.services.planning import engine, snapshot
from app.services.planning.model import Demand, OrderView
from app.services.planning.service import PLANNABLE_ORDER_STATUSES, PLANNER, hold
from app.services.planning.writer import Planned, StockRaceLost, write
from app.services.settings import get_setting

log = logging.getLogger("packline.planning")

DEFAULT_CHUNK = 500
CHECKPOINT_EVERY = 5000  # orders: SQLite's WAL is checkpointed once per this many, not per chunk
Progress = Callable[[int, int], None]


def waiting_order_ids() -> list[int]:
    """Orders not planned yet ('new') and on-hold orders (they may have become acceptable)."""
    return list(db.session.scalars(select(Order.id).where(Order.status.in_(PLANNABLE_ORDER_STATUSES))
                                   .order_by(Order.placed_at, Order.id)))


def plan_batch(order_ids: Iterable[int] | None = None, chunk_size: int = DEFAULT_CHUNK,
               progress: Progress | None = None, trigger: str = "batch",
               timings: list[float] | None = None, stats: dict[str, float] | None = None,
               overlap: bool | None = None) -> dict[str, int]:
    """Plan every waiting order (or `order_ids`) in chunks, committing per chunk. Returns counts
    per outcome. `progress(done, total)` is called after each committed chunk; `timings` (when
    given) receives the time spent per order in each chunk, `stats` the seconds spent loading,
    planning in memory, writing and committing.

    On PostgreSQL (or with `overlap=True`) a writer thread writes and commits chunk k on its own
    connection while this thread loads and plans chunk k+1: the database's work on one chunk
    overlaps the planner's Python work on the next. Each chunk is still one transaction that
    locked its orders when it read them."""
    ids = list(order_ids) if order_ids is not None else waiting_order_ids()
    db.session.rollback()
    run = _Batch(ids, chunk_size, progress, trigger, timings, stats if stats is not None else {})
    if overlap is None:
        overlap = db.session.get_bind().dialect.name == "postgresql"
    chunks = [ids[i:i + chunk_size] for i in range(0, len(ids), chunk_size)]
    if overlap and len(chunks) > 1:
        _overlapped(run, chunks)
    else:
        for chunk in chunks:
            run.sequential(chunk)
    run.checkpoint()
    if run.parked:
        recheck_out_of_stock(run.parked, run.view)
    return run.counts


class _Batch:
    """What one batch run shares across its chunks."""

    def __init__(self, ids: list[int], chunk_size: int, progress: Progress | None, trigger: str,
                 timings: list[float] | None, stats: dict[str, float]):
        self.total, self.done = len(ids), 0
        self.progress, self.trigger, self.timings, self.stats = progress, trigger, timings, stats
        self.counts: dict[str, int] = {}
        self.parked: set[int] = set()  # products of the out_of_stock packages this batch wrote
        # Channel/cargo/location codes, scenarios, sites and stock: read once per batch.
        self.codes = _codes()
        self.codes["scenarios"] = snapshot.load_scenarios()
        self.codes["sites"] = snapshot.load_sites()
        self.view = self.codes["stock"] = snapshot.StockView()
        self.last_commit = time.perf_counter()
        self.since_checkpoint = 0

    def sequential(self, chunk: list[int]) -> None:
        """Plan, write and commit one chunk on the current session; a lost race plans it again."""
        for attempt in range(3):
            try:
                prepared = _prepare_chunk(chunk, self.codes, self.stats)
                _write_chunk(prepared, self.trigger, self.stats)
                tick = time.perf_counter()
                db.session.commit()
                _lap(self.stats, "commit", tick)
                self.committed(prepared)
                return
            except (StockRaceLost, IntegrityError, OperationalError) as exc:
                db.session.rollback()
                self.view.clear()  # it holds this chunk's takes and stale rows: read afresh
                log.info("batch chunk lost a stock race (attempt %s): %s; planning it again", attempt + 1, exc)
        # A very busy moment: plan these orders one by one, each with its own retries.
        self.committed(_Prepared(chunk, [], None, _one_by_one(chunk, self.trigger), set(), []))
        self.view.clear()

    def committed(self, prepared: _Prepared) -> None:
        for k, v in prepared.counts.items():
            self.counts[k] = self.counts.get(k, 0) + v
        self.parked |= prepared.parked
        self.done += len(prepared.chunk)
        now = time.perf_counter()
        if self.timings is not None and prepared.chunk:
            self.timings.extend([(now - self.last_commit) / len(prepared.chunk)] * len(prepared.chunk))
        self.last_commit = now
        self.since_checkpoint += len(prepared.chunk)
        if self.since_checkpoint >= CHECKPOINT_EVERY:
            self.checkpoint()
        if self.progress:
            self.progress(self.done, self.total)

    def checkpoint(self) -> None:
        """SQLite: copy the WAL's pages into the database file now (see `_defer_checkpoint`)."""
        self.since_checkpoint = 0
        if db.engine.dialect.name != "sqlite":
            return
        tick = time.perf_counter()
        raw = db.engine.raw_connection()  # no transaction: a checkpoint cannot run inside one
        try:
            raw.driver_connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
        finally:
            raw.close()
        _lap(self.stats, "commit", tick)


def _overlapped(run: _Batch, chunks: list[list[int]]) -> None:
    """Plan chunk k+1 here while a writer thread writes and commits chunk k. Each chunk gets its
    own session (so its own connection and transaction), handed to the writer once planned; at
    most one chunk is being written while the next is planned. The stock view is shared: chunk
    k+1 is planned against what chunk k took, so a writer failure (a lost stock race) rolls back
    the planned-but-unwritten chunk too, and both are planned again one after the other."""
    app = current_app._get_current_object()
    own = db.session.registry()
    own.rollback()  # nothing of the batch's own reads stays open while the chunks run
    writer = _Writer(app, run.trigger, run.stats)
    import sys
    old = sys.getswitchinterval()
    sys.setswitchinterval(0.0002)
    writer.start()
    in_flight: _Prepared | None = None
    try:
        for chunk in chunks:
            session = db.session.session_factory()
            db.session.registry.set(session)
            try:
                prepared = _prepare_chunk(chunk, run.codes, run.stats)
            except (IntegrityError, OperationalError):
                session.rollback()
                prepared = None
            except BaseException:
                session.rollback()
                session.close()
                raise
            if in_flight is not None:
                failed = writer.wait(in_flight, run)
                in_flight = None
                if failed is not None:  # plan the failed chunk, then this one, without overlap
                    session.rollback()
                    session.close()
                    run.view.clear()
                    _sequentially(run, [failed.chunk, chunk])
                    continue
            if prepared is None:
                session.close()
                run.view.clear()
                _sequentially(run, [chunk])
                continue
            writer.submit(session, prepared)
            in_flight = prepared
        if in_flight is not None:
            failed = writer.wait(in_flight, run)
            if failed is not None:
                run.view.clear()
                _sequentially(run, [failed.chunk])
    finally:
        writer.stop()
        sys.setswitchinterval(old)
        db.session.registry.set(own)


def _sequentially(run: _Batch, chunks: list[list[int]]) -> None:
    session = db.session.session_factory()
    db.session.registry.set(session)
    try:
        for chunk in chunks:
            run.sequential(chunk)
    finally:
        session.close()


class _Writer(threading.Thread):
    """Writes and commits planned chunks, each on the session it was planned in."""

    def __init__(self, app, trigger: str, stats: dict[str, float]):
        super().__init__(name="planning-writer", daemon=True)
        self.app, self.trigger, self.stats = app, trigger, stats
        self.tasks: queue.Queue = queue.Queue()
        self.results: queue.Queue = queue.Queue()

    def submit(self, session, prepared: _Prepared) -> None:
        self.tasks.put((session, prepared))

    def wait(self, prepared: _Prepared, run: _Batch) -> _Prepared | None:
        """Wait for `prepared` to be written; returns it when it lost a stock race (rolled back)."""
        done, error = self.results.get()
        assert done is prepared
        if error is None:
            run.committed(prepared)
            return None
        if isinstance(error, (StockRaceLost, IntegrityError, OperationalError)):
            log.info("batch chunk lost a stock race: %s; planning it again", error)
            return prepared
        raise error

    def stop(self) -> None:
        self.tasks.put(None)
        self.join()

    def run(self) -> None:
        while True:
            task = self.tasks.get()
            if task is None:
                return
            session, prepared = task
            error = None
            with self.app.app_context():
                db.session.registry.set(session)  # closed when this app context ends
                try:
                    _write_chunk(prepared, self.trigger, self.stats)
                    tick = time.perf_counter()
                    session.commit()
                    _lap(self.stats, "commit", tick)
                except BaseException as exc:  # reported to the planning thread
                    session.rollback()
                    error = exc
            self.results.put((prepared, error))


def recheck_out_of_stock(product_ids: set[int], view: snapshot.StockView) -> dict[str, int]:
    """The batch planned later chunks against stock it read earlier. If someone else added stock
    of a product this batch parked as out_of_stock in the meantime, the re-plan that the
    increase triggered may have run before the parked package existed: re-plan those now."""
    db.session.rollback()
    fresh = snapshot.read_available(sorted(product_ids))
    grown = {pid for pid, per_loc in fresh.items()
             if any(units > view.available.get(pid, {}).get(loc, 0) for loc, units in per_loc.items())}
    if not grown:
        return {}
    from app.services.planning.replan import replan_out_of_stock

    return replan_out_of_stock(grown)


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
    query = (select(orders_t).where(in_values(orders_t.c.id, chunk), orders_t.c.status.in_(PLANNABLE_ORDER_STATUSES))
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
        .where(in_values(OrderItem.order_id, orders)).order_by(OrderItem.id)).all()
    barcodes: dict[int, list[str]] = {}
    for pid, code in db.session.execute(select(ProductBarcode.product_id, ProductBarcode.barcode)
                                        .where(in_values(ProductBarcode.product_id, {i.product_id for i in items}))
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


@dataclass
class _Prepared:
    """One chunk planned in memory, not written yet."""

    chunk: list[int]
    batch: list[Planned]
    network: Any
    counts: dict[str, int]
    parked: set[int]  # products of its out_of_stock packages
    newly_held: list[int]  # orders ORDER_FILTERING puts on hold now


def _prepare_chunk(chunk: list[int], codes: dict, stats: dict[str, float]) -> _Prepared:
    """Begin the chunk's transaction, lock and load its orders, plan them in memory."""
    tick = time.perf_counter()
    begin_write()
    _defer_checkpoint()
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
                                    sites=codes["sites"], view=codes["stock"])
    existing = dict(db.session.execute(select(Package.order_id, func.count(Package.id))
                                       .where(in_values(Package.order_id, [o.id for o in to_plan]))
                                       .group_by(Package.order_id)).tuples().all()) if to_plan else {}
    tick = _lap(stats, "load", tick)
    batch: list[Planned] = []
    parked: set[int] = set()
    provider = get_setting("GEOLOCATION_DISCOVERY", "offline")
    for order in to_plan:
        view = _view(order, demands[order.id], codes, provider)
        plan = engine.plan(view, scenarios, network)
        counts[plan.outcome] = counts.get(plan.outcome, 0) + 1
        if plan.outcome == "out_of_stock":
            parked.update(d.product_id for p in plan.packages for d, _ in p.lines)
        if plan.outcome in ("no_scenario", "nothing_to_plan") and order.status == "new":
            continue
        batch.append(Planned(order, plan, _status_after(plan), existing.get(order.id, 0),
                             {"channel": codes["channel"].get(order.channel_id),
                              "cargo_company": codes["cargo"].get(order.cargo_company_id),
                              "pickup_location": codes["location"].get(order.pickup_location_id)},
                             codes["own_label"].get(order.channel_id, False)))
    if holding:
        counts["on_hold"] = counts.get("on_hold", 0) + len(holding)
    _lap(stats, "plan", tick)
    return _Prepared(chunk, batch, network, counts, parked, [o.id for o in holding if o.status == "new"])


def _defer_checkpoint() -> None:
    """SQLite checkpoints the WAL into the database file whenever a commit leaves more than 1,000
    pages in it, i.e. after every chunk; the chunks of a batch rewrite many of the same pages
    (stock, indexes), so the batch checkpoints once per CHECKPOINT_EVERY orders instead. The
    pool's reset hook (app/__init__.py) turns automatic checkpoints back on when the connection
    is returned."""
    connection = db.session.connection()
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("PRAGMA wal_autocheckpoint=0")
        connection.connection.info["checkpoints_deferred"] = True


def _write_chunk(prepared: _Prepared, trigger: str, stats: dict[str, float]) -> None:
    """Write a planned chunk in its transaction (not committed)."""
    tick = time.perf_counter()
    write(prepared.batch, prepared.network, PLANNER, trigger)
    for order_id in prepared.newly_held:
        hold(db.session.get(Order, order_id), trigger, PLANNER)
    _lap(stats, "write", tick)


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
