"""Batch planning (`flask plan`, POST /api/v1/planning/run): every waiting order, in chunks.

Per chunk: lock the orders, load their items, the stock of their products (locked), open
packages and exclusions in a few queries, plan every order in memory against that one
snapshot, write everything with multi-row statements, and commit. A chunk that loses a race
anyway (the `reserved <= on_hand` constraint fires) is rolled back and planned again.
"""

from __future__ import annotations

import gc
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import select, text, true

from app import metrics
from app.extensions import db
from app.models import (
    CargoCompany,
    Channel,
    Order,
    OrderItem,
    Package,
    PlanningTrace,
    Product,
    ProductBarcode,
    StockLocation,
    Transfer,
)
from app.services.db import begin_write, in_values
from app.services.errors import Conflict
from app.services.order_status import status_from
from app.services.planning import engine, snapshot
from app.services.planning.model import Demand, OrderView
from app.services.planning.replan import replan_out_of_stock
from app.services.planning.service import PLANNABLE_ORDER_STATUSES, PLANNER, hold, plan_order_status
from app.services.planning.writer import RACE_ERRORS, Earlier, Planned, Staged, flush, stage
from app.services.representations import package_ref, transfer_ref
from app.services.settings import get_setting

log = logging.getLogger("packline.planning")

DEFAULT_CHUNK = 500
CHECKPOINT_EVERY = 5000  # orders: SQLite's WAL is checkpointed once per this many, not per chunk
GC_THRESHOLDS = (50_000, 20, 20)  # while a batch runs (see fewer_collections)
Progress = Callable[[int, int], None]


def waiting_order_ids() -> list[int]:
    """Orders not planned yet ('new') and on-hold orders (they may have become acceptable)."""
    return list(db.session.scalars(select(Order.id).where(Order.status.in_(PLANNABLE_ORDER_STATUSES))
                                   .order_by(Order.placed_at, Order.id)))


def unplanned_order_ids(received_before: datetime, limit: int = 5000,
                        among: Iterable[int] | None = None) -> list[int]:
    """Orders whose planning request may have been lost (Redis was down when they were accepted
    or released): `new` orders no planner has traced yet, and on-hold orders whose source status
    ORDER_FILTERING now accepts, received before `received_before` (the per-order job gets the
    first chance). The order row itself is the durable request; the periodic sweep plans these.
    `among`: only these orders (a planning job checking the group it took, app/tasks/planning.py)."""
    traced = select(PlanningTrace.id).where(PlanningTrace.order_id == Order.id).exists()
    never_planned = (Order.status == "new") & ~traced
    accepted = snapshot.accepted_statuses()
    # An on-hold order counts once per change: a trace written since it last changed (its status
    # update, or a sweep that found no scenario) means a planner has seen this version of it.
    seen_since = select(PlanningTrace.id).where(PlanningTrace.order_id == Order.id,
                                                PlanningTrace.created_at >= Order.updated_at).exists()
    released = ((Order.status == "on_hold") & (Order.source_status.in_(accepted) if accepted else true())
                & ~seen_since)
    query = select(Order.id).where(never_planned | released, Order.received_at <= received_before)
    if among is not None:
        query = query.where(in_values(Order.id, list(among)))
    return list(db.session.scalars(query.order_by(Order.placed_at, Order.id).limit(limit)))


def plan_batch(order_ids: Iterable[int] | None = None, chunk_size: int = DEFAULT_CHUNK,
               progress: Progress | None = None, trigger: str = "batch",
               timings: list[float] | None = None, stats: dict[str, float] | None = None,
               overlap: bool | None = None) -> dict[str, int]:
    """Plan every waiting order (or `order_ids`) in chunks, committing per chunk. Returns counts
    per outcome (plus `replanned`: parked packages re-planned by the check at the end).
    `progress(done, total)` is called after each committed chunk; `timings` (when given)
    receives the time spent per order in each chunk, `stats` the seconds spent loading,
    planning in memory, writing and committing (with `overlap`, writing and committing run at
    the same time as loading and planning, so they add up to more than the wall time).

    On PostgreSQL (or with `overlap=True`) a writer thread writes and commits chunk k on its own
    connection while this thread loads and plans chunk k+1: the database's work on one chunk
    overlaps the planner's Python work on the next. Each chunk is still one transaction that
    locked its orders when it read them. (On SQLite the next chunk's `BEGIN IMMEDIATE` waits for
    the writer's commit, so nothing overlaps there; it is off by default.)"""
    ids = list(order_ids) if order_ids is not None else waiting_order_ids()
    db.session.rollback()
    run = _Batch(ids, chunk_size, progress, trigger, timings, stats if stats is not None else {})
    if overlap is None:
        overlap = db.session.get_bind().dialect.name == "postgresql"
    chunks = [ids[i:i + chunk_size] for i in range(0, len(ids), chunk_size)]
    with fewer_collections():
        if overlap and len(chunks) > 1:
            _overlapped(run, chunks)
        else:
            for chunk in chunks:
                run.sequential(chunk)
    run.checkpoint()
    if run.parked:
        try:
            replanned = recheck_out_of_stock(run.parked)
        except Exception:  # the batch itself is committed; the periodic re-plan will catch up
            db.session.rollback()
            log.exception("re-checking the batch's out-of-stock packages failed")
        else:
            moved = sum(n for outcome, n in replanned.items()
                        if outcome not in ("still_out_of_stock", "skipped", "race"))
            if moved:
                run.counts["replanned"] = moved
    return run.counts


@contextmanager
def fewer_collections() -> Iterator[None]:
    """Run the batch with Python's cyclic garbage collector triggered less often. A batch
    allocates millions of short-lived containers (rows, traces, payloads) beside a large
    long-lived heap (the stock view, the app); with the default thresholds (700, 10, 10) the
    collector ran hundreds of times per batch, full collections scanning that whole heap, and
    took about a quarter of the run (docs/benchmarks.md). The garbage itself is almost free of
    cycles and is freed by reference counting as before; peak memory did not move. The previous
    thresholds come back when the batch ends."""
    before = gc.get_threshold()
    gc.set_threshold(*GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*before)


class _Batch:
    """What one batch run shares across its chunks."""

    def __init__(self, ids: list[int], chunk_size: int, progress: Progress | None, trigger: str,
                 timings: list[float] | None, stats: dict[str, float]):
        self.total, self.done = len(ids), 0
        self.progress, self.trigger, self.timings, self.stats = progress, trigger, timings, stats
        self.counts: dict[str, int] = {}
        # Products of the out_of_stock packages this batch committed, each with the units per
        # location it was planned against (the least seen, if parked more than once).
        self.parked: dict[int, dict[int, int]] = {}
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
                prepared = _prepare_chunk(chunk, self.codes, self.trigger, self.stats)
                _write_chunk(prepared, self.trigger, self.stats)
                tick = time.perf_counter()
                db.session.commit()
                _lap(self.stats, "commit", tick)
            except RACE_ERRORS as exc:
                db.session.rollback()
                self.view.clear()  # it holds this chunk's takes and stale rows: read afresh
                log.info("batch chunk lost a stock race (attempt %s): %s; planning it again", attempt + 1, exc)
                continue
            except BaseException:
                db.session.rollback()  # never leave the write transaction (SQLite: the lock) open
                self.view.clear()
                raise
            self.committed(prepared)
            return
        # A very busy moment: plan these orders one by one, each with its own retries.
        self.committed(_Prepared(chunk, [], None, _one_by_one(chunk, self.trigger), {}, []))
        self.view.clear()

    def committed(self, prepared: _Prepared) -> None:
        for k, v in prepared.counts.items():
            self.counts[k] = self.counts.get(k, 0) + v
        for pid, seen in prepared.parked.items():
            known = self.parked.setdefault(pid, dict(seen))
            for loc in set(known) | set(seen):
                known[loc] = min(known.get(loc, 0), seen.get(loc, 0))
        self.done += len(prepared.chunk)
        if prepared.network is not None:  # not a chunk planned one by one: plan_order counted those
            # order intake planning a burst together (app/tasks/planning.py) still counts as "order"
            metrics.orders_planned("order" if self.trigger == "job" else "batch", len(prepared.chunk))
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
    the planned-but-unwritten chunk too, and both are planned again one after the other.

    Between chunks the caller's own session is the current one again, so `progress` callbacks
    (and anything else that uses `db.session`) never touch a chunk's transaction."""
    app = current_app._get_current_object()
    own = db.session.registry()
    own.rollback()  # nothing of the batch's own reads stays open while the chunks run
    writer = _Writer(app, run.trigger, run.stats)
    writer.start()
    in_flight: _Prepared | None = None
    planned: tuple | None = None  # (session, prepared) planned here, not handed to the writer yet
    try:
        for chunk in chunks:
            session = db.session.session_factory()
            db.session.registry.set(session)
            try:
                planned = (session, _prepare_chunk(chunk, run.codes, run.trigger, run.stats, lock_timeout=True))
            except BaseException as exc:
                session.rollback()
                session.close()
                if not isinstance(exc, RACE_ERRORS):
                    raise
                log.info("batch chunk could not be loaded (%s); planning it on its own", exc)
            finally:
                db.session.registry.set(own)
            if in_flight is not None:
                waiting, in_flight = in_flight, None
                failed = writer.wait(waiting, run)
                if failed is not None:  # plan the failed chunk, then this one, without overlap
                    _discard(planned)
                    planned = None
                    run.view.clear()
                    _sequentially(run, [failed.chunk, chunk], own)
                    continue
            if planned is None:
                run.view.clear()
                _sequentially(run, [chunk], own)
                continue
            writer.submit(*planned)
            in_flight, planned = planned[1], None
        if in_flight is not None:
            waiting, in_flight = in_flight, None
            failed = writer.wait(waiting, run)
            if failed is not None:
                run.view.clear()
                _sequentially(run, [failed.chunk], own)
    finally:
        _discard(planned)  # an error here: release that chunk's transaction and order locks
        writer.stop()
        if in_flight is not None:  # an error here while the writer wrote: say what became of it
            try:
                done, error = writer.results.get_nowait()
            except queue.Empty:
                pass
            else:
                log.warning("batch stopped while a chunk of %s orders was being written: %s",
                            len(done.chunk), f"rolled back ({error})" if error else "committed")
        db.session.registry.set(own)


def _discard(planned: tuple | None) -> None:
    if planned is not None:
        planned[0].rollback()
        planned[0].close()


def _sequentially(run: _Batch, chunks: list[list[int]], own) -> None:
    session = db.session.session_factory()
    db.session.registry.set(session)
    try:
        for chunk in chunks:
            run.sequential(chunk)
    finally:
        session.close()
        db.session.registry.set(own)


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
        while True:
            try:
                done, error = self.results.get(timeout=5)
                break
            except queue.Empty:
                if not self.is_alive():
                    raise RuntimeError("the planning writer thread stopped") from None
        assert done is prepared
        if error is None:
            run.committed(prepared)
            return None
        if isinstance(error, RACE_ERRORS):
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
            error: BaseException | None = None
            try:
                with self.app.app_context():
                    db.session.registry.set(session)  # closed when this app context ends
                    try:
                        _write_chunk(prepared, self.trigger, self.stats)
                        tick = time.perf_counter()
                        session.commit()
                        _lap(self.stats, "commit", tick)
                    except BaseException as exc:  # reported to the planning thread
                        error = exc
                        session.rollback()
            except BaseException as exc:  # the rollback or the teardown failed: still report
                error = error or exc
            finally:
                self.results.put((prepared, error))


def recheck_out_of_stock(parked: dict[int, dict[int, int]]) -> dict[str, int]:
    """The batch planned later chunks against stock it read earlier. If someone else added stock
    of a product this batch parked as out_of_stock (more units at some location than the batch
    planned against), the re-plan that the increase triggered may have run before the parked
    package existed: re-plan those packages now. Returns `replan_out_of_stock`'s counts."""
    db.session.rollback()
    fresh = snapshot.read_available(sorted(parked))
    grown = {pid for pid, per_loc in fresh.items()
             if any(units > parked[pid].get(loc, 0) for loc, units in per_loc.items())}
    if not grown:
        return {}
    return replan_out_of_stock(grown)


def _one_by_one(chunk: list[int], trigger: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for order_id in chunk:
        try:
            status = plan_order_status(order_id, trigger=trigger)
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
    parked: dict[int, dict[int, int]]  # product of an out_of_stock package -> units it was planned against
    newly_held: list[int]  # orders ORDER_FILTERING puts on hold now
    staged: Staged | None = None  # its rows, built by the planning thread


def _prepare_chunk(chunk: list[int], codes: dict, trigger: str, stats: dict[str, float],
                   lock_timeout: bool = False) -> _Prepared:
    """Begin the chunk's transaction, lock and load its orders, plan them in memory and stage
    their rows (`writer.stage`).
    `lock_timeout` (overlapped batches on PostgreSQL): this chunk will hold its order locks while
    the planner waits for the writer thread, a wait PostgreSQL's deadlock detector cannot see;
    a lock that takes longer than 30 s then fails the chunk, which is planned again."""
    tick = time.perf_counter()
    begin_write()
    _defer_checkpoint()
    if lock_timeout and db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL lock_timeout = '30s'"))
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
    earlier = _earlier_work([o.id for o in to_plan], codes["location"])
    traced = set(db.session.scalars(select(PlanningTrace.order_id).distinct().where(
        in_values(PlanningTrace.order_id, [o.id for o in to_plan])))) if to_plan else set()
    tick = _lap(stats, "load", tick)
    batch: list[Planned] = []
    parked: dict[int, dict[int, int]] = {}
    provider = get_setting("GEOLOCATION_DISCOVERY", "offline")
    for order in to_plan:
        view = _view(order, demands[order.id], codes, provider)
        plan = engine.plan(view, scenarios, network)
        counts[plan.outcome] = counts.get(plan.outcome, 0) + 1
        if plan.outcome == "out_of_stock":
            for d, _ in plan.packages[0].lines:
                parked.setdefault(d.product_id, dict(network.available.get(d.product_id, {})))
        if plan.outcome == "nothing_to_plan" and order.status == "new":
            continue
        before = earlier.get(order.id, [])
        batch.append(Planned(order, plan, _status_after(order, plan, before), before,
                             {"channel": codes["channel"].get(order.channel_id),
                              "cargo_company": codes["cargo"].get(order.cargo_company_id),
                              "pickup_location": codes["location"].get(order.pickup_location_id)},
                             codes["own_label"].get(order.channel_id, False), is_replan=order.id in traced))
    if holding:
        counts["on_hold"] = counts.get("on_hold", 0) + len(holding)
    tick = _lap(stats, "plan", tick)
    staged = stage(batch, network, PLANNER, trigger)  # rows and ids: Python work, kept off the writer
    _lap(stats, "stage", tick)
    return _Prepared(chunk, batch, network, counts, parked, [o.id for o in holding if o.status == "new"], staged)


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
    if prepared.staged is not None:
        flush(prepared.staged)
    for order_id in prepared.newly_held:
        hold(db.session.get(Order, order_id), trigger, PLANNER)
    _lap(stats, "write", tick)


def _status_after(order: _Order, plan, earlier: list[Earlier]) -> str:
    """The order's status once `plan` is written, decided like `order_status.derive_order_status`
    (an on-hold order that a scenario now matches is no longer held, as in `plan_unassigned`)."""
    current = "new" if order.status == "on_hold" and plan.outcome != "no_scenario" else order.status
    all_cancelled = bool(order.items) and all(i.cancelled_quantity >= i.quantity for i in order.items)
    states = [e.package["state"] for e in earlier] + [p.state for p in plan.packages]
    return status_from(current, all_cancelled, states)


def _earlier_work(order_ids: list[int], location_code: dict[int, str]) -> dict[int, list[Earlier]]:
    """The packages (with their transfers) the orders already had, oldest first: what the
    order's event lists before this batch's new packages. Usually none (new orders)."""
    if not order_ids:
        return {}
    packages = db.session.execute(
        select(Package.order_id, Package.id, Package.number, Package.state, Package.location_id)
        .where(in_values(Package.order_id, order_ids)).order_by(Package.id)).all()
    if not packages:
        return {}
    by_package: dict[int, Earlier] = {}
    out: dict[int, list[Earlier]] = {}
    for order_id, pid, number, state, location_id in packages:
        by_package[pid] = Earlier(package_ref(pid, number, state, location_code[location_id]))
        out.setdefault(order_id, []).append(by_package[pid])
    for pid, tid, number, state, source_id, destination_id in db.session.execute(
            select(Transfer.package_id, Transfer.id, Transfer.number, Transfer.state, Transfer.source_id,
                   Transfer.destination_id).where(in_values(Transfer.package_id, list(by_package)))
            .order_by(Transfer.id)):
        by_package[pid].transfers.append(
            transfer_ref(tid, number, state, location_code[source_id], location_code[destination_id]))
    return out


def _view(order: _Order, demands, codes: dict, provider: str) -> OrderView:
    coords, source = snapshot.coordinates(order.ship_latitude, order.ship_longitude, order.ship_city,
                                          order.ship_district, provider)
    return OrderView(
        id=order.id, number=order.number, channel=codes["channel"].get(order.channel_id, ""),
        delivery_type=order.delivery_type, payment_type=order.payment_type,
        cargo_company=codes["cargo"].get(order.cargo_company_id), pickup_location_id=order.pickup_location_id,
        city=order.ship_city, district=order.ship_district, coords=coords, coords_source=source, demands=demands)
