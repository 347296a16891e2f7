"""Bulk writes for batch planning: the same rows `workorders.create_package/create_transfer` and
`stock.reserve` write one by one (packages, items, transfers, reservations, stock, ledger,
transition log, outbox events, traces, order status), as a handful of multi-row statements.

Safe only while the stock rows are locked (batch planning locks them, or SQLite's write lock
holds the whole database); the `reserved <= on_hand` check constraint is the last guard.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import JSON, DateTime, func, select, text
from sqlalchemy.exc import IntegrityError, OperationalError

from app.extensions import db
from app.models import (
    OutboxEvent,
    Package,
    PackageItem,
    PlanningTrace,
    Reservation,
    StockLedger,
    Transfer,
    TransferItem,
    TransitionLog,
)
from app.models.base import utcnow
from app.services.db import in_values, pg_array
from app.services.planning.model import Network, Plan
from app.services.representations import (
    order_data,
    order_item_data,
    package_data,
    package_item_data,
    package_ref,
    transfer_data,
    transfer_item_data,
    transfer_ref,
)
from app.services.settings import get_setting
from app.services.transitions import PackageFacts, allowed_package_commands, allowed_transfer_commands


@dataclass
class Earlier:
    """A package the order already had before this batch, as the order lists it, with its transfers."""

    package: dict[str, Any]  # representations.package_ref
    transfers: list[dict[str, Any]] = field(default_factory=list)  # representations.transfer_ref


@dataclass
class Planned:
    order: Any  # batch._Order: the order's columns (representations.OrderColumns) and its items
    plan: Plan
    new_status: str
    earlier: list[Earlier] = field(default_factory=list)  # every package it had, oldest first
    codes: dict[str, str | None] = field(default_factory=dict)  # channel, cargo_company, pickup_location
    provides_label: bool = False
    is_replan: bool = False  # the order was traced before (on hold, no scenario, planned earlier)

    @property
    def package_count(self) -> int:
        """Packages the order already had (the next number is one more)."""
        return len(self.earlier)


class StockRaceLost(Exception):
    """Another writer took stock this batch had planned with."""


# What makes batch planning roll a chunk back and plan it again: a lost stock race, or a
# constraint or lock error another writer caused (a package number taken, a lock timeout).
RACE_ERRORS = (StockRaceLost, IntegrityError, OperationalError)


def reserve_totals(totals: dict[tuple[int, int], int], now) -> dict[tuple[int, int], tuple[int, int]]:
    """Reserve `totals` per (location, product): lock exactly those rows in (location, product)
    order (no deadlock with other planners), then one guarded multi-row UPDATE. Returns the
    (on_hand, reserved) after it per row; raises StockRaceLost when a row lacks the units."""
    pairs = sorted(totals)
    rows = [(loc, pid, totals[(loc, pid)]) for loc, pid in pairs]
    columns = (("l", "int"), ("p", "int"), ("q", "int"))
    match = "stock.location_id = v.l AND stock.product_id = v.p"
    if db.session.connection().dialect.name == "postgresql":
        rows_from(f"SELECT 1 FROM stock JOIN {{rows}} ON {match} "
                  "ORDER BY stock.location_id, stock.product_id FOR UPDATE OF stock", columns, rows, {})
    returned = rows_from(
        f"UPDATE stock SET reserved = stock.reserved + v.q, updated_at = :now FROM {{rows}} "
        f"WHERE {match} AND stock.on_hand - stock.reserved >= v.q "
        "RETURNING stock.location_id, stock.product_id, stock.on_hand, stock.reserved", columns, rows, {"now": now})
    if len(returned) != len(rows):
        raise StockRaceLost(f"{len(rows) - len(returned)} stock row(s) changed while planning")
    return {(r[0], r[1]): (r[2], r[3]) for r in returned}


def rows_from(sql: str, columns: tuple[tuple[str, str], ...], rows: list[tuple], params: dict[str, Any],
              page: int = 1000) -> list:
    """Run `sql` with `{rows}` standing for a relation `v(<columns>)` holding `rows`: one
    unnest() of arrays on PostgreSQL (three parameters, however many rows), pages of VALUES on
    SQLite. Returns whatever the statement returns (RETURNING / SELECT), else []."""
    if not rows:
        return []
    names = [name for name, _ in columns]
    if db.session.connection().dialect.name == "postgresql":
        arrays = ", ".join(f"CAST(:a_{name} AS {kind}[])" for name, kind in columns)
        bound = {**params, **{f"a_{name}": pg_array([row[n] for row in rows]) for n, name in enumerate(names)}}
        result = db.session.execute(text(sql.replace("{rows}", f"unnest({arrays}) AS v({', '.join(names)})")), bound)
        return result.all() if result.returns_rows else []
    # SQLite: the statement goes straight to the DB-API cursor (named parameters, which sqlite3
    # binds itself): compiling text() with thousands of bind parameters cost more than running it.
    datetime_proc = DateTime()._cached_bind_processor(db.session.connection().dialect)
    params = {k: datetime_proc(v) if isinstance(v, datetime) else v for k, v in params.items()}
    aliases = ", ".join(f"column{n + 1} AS {name}" for n, name in enumerate(names))
    out: list = []
    cursor = db.session.connection().connection.dbapi_connection.cursor()
    try:
        for start in range(0, len(rows), page):
            part = rows[start:start + page]
            bound, values = dict(params), []
            for r, row in enumerate(part):
                values.append("(" + ", ".join(f":v{r}_{n}" for n in range(len(row))) + ")")
                bound.update({f"v{r}_{n}": value for n, value in enumerate(row)})
            relation = f"(SELECT {aliases} FROM (VALUES {', '.join(values)})) AS v"
            cursor.execute(sql.replace("{rows}", relation), bound)
            if cursor.description is not None:
                out.extend(cursor.fetchall())
    finally:
        cursor.close()
    return out


def _dumps(value: Any) -> str:
    """Compact JSON as the JSON columns store it; orjson is ~8x faster than the standard
    encoder on the traces and event payloads batch planning writes (docs/decisions.md)."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def event_ids(n: int) -> list[str]:
    """`n` random (version 4) UUID strings, from one read of the OS random source."""
    raw = os.urandom(16 * n).hex()
    out = []
    for i in range(0, 32 * n, 32):
        h = raw[i:i + 32]
        out.append(f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}")
    return out


def bulk_insert(table, rows: list[dict]) -> None:
    """Insert many rows straight through the DB-API cursor: PostgreSQL COPY (5x faster than a
    pipelined executemany here), SQLite executemany of one prepared INSERT. Values go through
    the columns' own SQLAlchemy bind processors (so they are stored exactly as the ORM stores
    them), JSON columns through a compact encoder. Every row has the same keys."""
    if not rows:
        return
    connection = db.session.connection()
    columns = list(rows[0])
    json_cols = [n for n, name in enumerate(columns) if isinstance(table.c[name].type, JSON)]
    cursor = connection.connection.dbapi_connection.cursor()
    try:
        if connection.dialect.name == "postgresql":
            copy_sql = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
            with cursor.copy(copy_sql) as copy:
                for row in _values(rows, columns, json_cols, {}):
                    copy.write_row(row)
            return
        processors = {n: proc for n, name in enumerate(columns) if n not in json_cols
                      and (proc := table.c[name].type._cached_bind_processor(connection.dialect)) is not None}
        cursor.executemany(f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES "
                           f"({', '.join('?' * len(columns))})", _values(rows, columns, json_cols, processors))
    finally:
        cursor.close()


def _values(rows: list[dict], columns: list[str], json_cols: list[int], processors: dict):
    """Row tuples with JSON serialised and bind processors applied (memoised per column for
    repeated values such as the chunk's shared timestamp or an empty `{}`)."""
    special = {n: ("json", None) for n in json_cols}
    special.update({n: ("proc", proc) for n, proc in processors.items()})
    if not special:
        for row in rows:
            yield tuple(row[c] for c in columns)
        return
    memo: dict[int, tuple[Any, Any]] = {}
    for row in rows:
        out = [row[c] for c in columns]
        for n, (kind, proc) in special.items():
            value = out[n]
            if value is None:
                continue
            if kind == "json":
                out[n] = _dumps(value) if value else ("{}" if isinstance(value, dict) else _dumps(value))
                continue
            last = memo.get(n)
            if last is not None and last[0] is value:  # the same object again (the chunk's `now`)
                out[n] = last[1]
                continue
            out[n] = converted = proc(value)
            memo[n] = (value, converted)
        yield tuple(out)


def _ids(table, rows: list[dict], pool: IdPool | None = None) -> list[int]:
    """Allocate ids for `rows` up front (set on each row), so one multi-row INSERT (no RETURNING,
    which SQLite would run row by row to keep the order) writes them all later. Returns them.
    With `pool`, they come from ids allocated beforehand (one statement for every table)."""
    if not rows:
        return []
    n = len(rows)
    if pool is not None:
        ids = pool.take(table.name, n)
    elif db.session.get_bind().dialect.name == "postgresql":
        ids = list(db.session.scalars(
            text("SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)"),
            {"t": table.name, "n": n}))
    else:  # SQLite: this transaction holds the database write lock, so max(id) cannot move
        first = (db.session.scalar(select(func.max(table.c.id))) or 0) + 1
        ids = list(range(first, first + n))
    for row, new_id in zip(rows, ids, strict=True):
        row["id"] = new_id
    return ids


_SEQUENCES: dict[str, str] = {}


def _sequence(table: str) -> str:
    """The id sequence of `table` (PostgreSQL), looked up once per process."""
    name = _SEQUENCES.get(table)
    if name is None:
        name = _SEQUENCES[table] = db.session.scalar(text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table})
    return name


class IdPool:
    """Ids for the rows of one planned order, allocated in one statement before staging it
    (`stage` would otherwise ask once per table). `counts`: rows per table."""

    TABLES = ("planning_traces", "packages", "package_items", "transfers", "transfer_items", "outbox_events")

    def __init__(self, counts: dict[str, int], tops: dict[str, int | None] | None = None):
        """`tops` (SQLite): the highest id of each table, read earlier in this write transaction
        (the planner's order query reads them along, saving this statement)."""
        self.free: dict[str, list[int]] = {}
        wanted = [(name, n) for name, n in counts.items() if n > 0]
        if not wanted:
            return
        if tops is not None:
            self.free = {name: list(range((tops[name] or 0) + 1, (tops[name] or 0) + 1 + n)) for name, n in wanted}
        elif db.session.get_bind().dialect.name == "postgresql":
            parts = ", ".join(f"ARRAY(SELECT nextval('{_sequence(name)}') FROM generate_series(1, {n}))"
                              for name, n in wanted)
            row = db.session.connection().exec_driver_sql(f"SELECT {parts}").one()
            self.free = {name: list(ids) for (name, _), ids in zip(wanted, row, strict=True)}
        else:  # SQLite: this transaction holds the database write lock, so max(id) cannot move
            parts = ", ".join(f"(SELECT max(id) FROM {name})" for name, _ in wanted)
            row = db.session.connection().exec_driver_sql(f"SELECT {parts}").one()
            self.free = {name: list(range((top or 0) + 1, (top or 0) + 1 + n))
                         for (name, n), top in zip(wanted, row, strict=True)}

    def take(self, table: str, n: int) -> list[int]:
        ids = self.free.get(table, [])
        if len(ids) != n:
            raise RuntimeError(f"IdPool: {n} ids of {table} asked for, {len(ids)} allocated")
        self.free[table] = []
        return ids

    @staticmethod
    def counts_for(planned: list[Planned]) -> dict[str, int]:
        """How many rows `stage` writes per table for these planned orders."""
        packages = [p for b in planned for p in b.plan.packages]
        transfers = [t for p in packages for t in p.transfers]
        status_events = sum(1 for b in planned if b.new_status != b.order.status)
        return {"planning_traces": len(planned), "packages": len(packages),
                "package_items": sum(len(p.lines) for p in packages), "transfers": len(transfers),
                "transfer_items": sum(len(t.lines) for t in transfers),
                "outbox_events": len(packages) + len(transfers) + status_events}


class _PackageNumbers:
    """`<order number>-P<n>` for a whole chunk. Order numbers are unique per channel only, so a
    number another channel's same-numbered order already took (in the database or earlier in this
    chunk) is skipped. One IN query on the unique package-number index per chunk; a collision
    (rare) costs one more lookup per skipped number."""

    def __init__(self, batch: list[Planned], free: tuple[str, ...] = ()):
        wanted = [f"{b.order.number}-P{n}" for b in batch
                  for n in range(b.package_count + 1, b.package_count + 1 + len(b.plan.packages))]
        self.checked = set(wanted)
        self.taken: set[str] = set()
        if set(wanted) <= set(free):  # the caller already found these free in this transaction
            return
        for start in range(0, len(wanted), 5000):
            self.taken.update(db.session.scalars(
                select(Package.number).where(in_values(Package.number, wanted[start:start + 5000]))))

    def take(self, order_number: str, n: int) -> str:
        while True:
            number = f"{order_number}-P{n}"
            if number not in self.taken and (number in self.checked or db.session.scalar(
                    select(Package.id).where(Package.number == number)) is None):
                self.taken.add(number)
                return number
            n += 1


@dataclass
class Staged:
    """A chunk's rows, with their ids, ready to insert: everything but the reservations and
    ledger rows, which need the stock rows as the reserving UPDATE leaves them."""

    now: datetime
    actor: str
    inserts: list[tuple[Any, list[dict]]]  # (table, rows) in foreign-key order
    needs: list[tuple]  # (location, product, qty, package_item_id, transfer_item_id, reference)
    logs: list[dict]
    events: list[dict]
    statuses: list[tuple[int, str]]  # (order id, new status)


def stage(batch: list[Planned], network: Network, actor: str, trigger: str, *, pool: IdPool | None = None,
          free_numbers: tuple[str, ...] = (), require_scan: bool | None = None) -> Staged | None:
    """Build every row of the batch in memory, ids allocated (the only database work: id
    sequences and the package-number check, in the chunk's transaction). Batch planning stages
    a chunk on the planning thread and flushes it on the writer thread. Planning one order
    passes ids allocated beforehand (`pool`), the package numbers it found free, and the
    REQUIRE_SCAN_TO_PACK setting it already holds."""
    if not batch:
        return None
    now = utcnow()
    trace_rows = [{"order_id": b.order.id, "trigger": trigger, "outcome": b.plan.outcome, "trace": b.plan.trace,
                   "is_replan": b.is_replan, "created_at": now} for b in batch]
    trace_ids = _ids(PlanningTrace.__table__, trace_rows, pool)

    pkg_rows, pkg_refs = [], []
    numbers = _PackageNumbers(batch, free_numbers)
    for b, trace_id in zip(batch, trace_ids, strict=True):
        for n, p in enumerate(b.plan.packages, start=b.package_count + 1):
            pkg_rows.append({"number": numbers.take(b.order.number, n), "order_id": b.order.id,
                             "location_id": p.location_id, "state": p.state, "previous_state": None,
                             "state_changed_at": now, "planning_trace_id": trace_id, "version": 1,
                             "created_at": now, "updated_at": now})
            pkg_refs.append((b, p))
    pkg_ids = _ids(Package.__table__, pkg_rows, pool)

    item_rows, item_refs = [], []
    for pkg_id, (_b, p) in zip(pkg_ids, pkg_refs, strict=True):
        for d, q in p.lines:
            item_rows.append({"package_id": pkg_id, "order_item_id": d.order_item_id, "product_id": d.product_id,
                              "quantity": q, "picked_quantity": 0, "state": "open"})
            item_refs.append((pkg_id, d))
    item_ids = _ids(PackageItem.__table__, item_rows, pool)
    item_of = {(pkg_id, d.order_item_id): iid for iid, (pkg_id, d) in zip(item_ids, item_refs, strict=True)}

    tr_rows, tr_refs = [], []
    for pkg_id, row, (_b, p) in zip(pkg_ids, pkg_rows, pkg_refs, strict=True):
        for k, t in enumerate(p.transfers, start=1):
            tr_rows.append({"number": f"{row['number']}-T{k}", "package_id": pkg_id, "source_id": t.source_id,
                            "destination_id": p.location_id, "state": "waiting", "version": 1,
                            "created_at": now, "updated_at": now})
            tr_refs.append((pkg_id, t))
    tr_ids = _ids(Transfer.__table__, tr_rows, pool)
    ti_rows, ti_refs = [], []
    for tr_id, (pkg_id, t) in zip(tr_ids, tr_refs, strict=True):
        for d, q in t.lines:
            ti_rows.append({"transfer_id": tr_id, "package_item_id": item_of[(pkg_id, d.order_item_id)],
                            "product_id": d.product_id, "quantity": q, "state": "open"})
            ti_refs.append((t.source_id, d, q))
    ti_ids = _ids(TransferItem.__table__, ti_rows, pool)

    # Reservations, stock and ledger, in (location, product) order like stock.reserve.
    needs = []  # (location, product, qty, package_item_id, transfer_item_id, reference)
    pkg_number = {pid: row["number"] for pid, row in zip(pkg_ids, pkg_rows, strict=True)}
    for pkg_id, (_b, p) in zip(pkg_ids, pkg_refs, strict=True):
        if p.state == "out_of_stock":
            continue
        for d, q in p.reserve_here:
            needs.append((p.location_id, d.product_id, q, item_of[(pkg_id, d.order_item_id)], None,
                          pkg_number[pkg_id]))
    tr_number = {tid: row["number"] for tid, row in zip(tr_ids, tr_rows, strict=True)}
    ti_transfer = [row["transfer_id"] for row in ti_rows]
    for ti_id, tr_id, (src, d, q) in zip(ti_ids, ti_transfer, ti_refs, strict=True):
        needs.append((src, d.product_id, q, None, ti_id, tr_number[tr_id]))
    needs.sort(key=lambda n: (n[0], n[1]))
    if require_scan is None:
        require_scan = bool(get_setting("REQUIRE_SCAN_TO_PACK", False))  # read per chunk: settings change
    logs, events = _log_and_events(batch, network, actor, now, pkg_ids, pkg_rows, pkg_refs, item_ids, item_refs,
                                   tr_ids, tr_rows, tr_refs, ti_ids, ti_rows, require_scan, pool)
    inserts = [(PlanningTrace.__table__, trace_rows), (Package.__table__, pkg_rows),
               (PackageItem.__table__, item_rows), (Transfer.__table__, tr_rows), (TransferItem.__table__, ti_rows)]
    statuses = [(b.order.id, b.new_status) for b in batch if b.new_status != b.order.status]
    return Staged(now, actor, inserts, needs, logs, events, statuses)


def flush(staged: Staged) -> None:
    """Insert a staged chunk, reserve its stock (StockRaceLost when a row lacks the units) and
    write the matching reservations, ledger rows, transition log, events and order statuses."""
    now, actor, needs = staged.now, staged.actor, staged.needs
    for table, rows in staged.inserts:
        bulk_insert(table, rows)
    totals = _totals(needs)
    after = reserve_totals(totals, now)
    res_rows, ledger_rows = _reservation_rows(needs, totals, after, now, actor)
    if res_rows:
        bulk_insert(Reservation.__table__, res_rows)
        bulk_insert(StockLedger.__table__, ledger_rows)

    if staged.logs:
        bulk_insert(TransitionLog.__table__, staged.logs)
    if staged.events:
        bulk_insert(OutboxEvent.__table__, staged.events)
        # Tell the outbox relay (it watches ORM flushes) that this commit wrote events.
        db.session.info["outbox_max_id"] = max([e["id"] for e in staged.events]
                                               + [db.session.info.get("outbox_max_id", 0)])
    if staged.statuses:
        rows_from("UPDATE orders SET status = v.status, updated_at = :now FROM {rows} WHERE orders.id = v.id",
                  (("id", "int"), ("status", "text")), staged.statuses, {"now": now})


def _totals(needs: list[tuple]) -> dict[tuple[int, int], int]:
    totals: dict[tuple[int, int], int] = {}
    for loc, pid, qty, *_rest in needs:
        totals[(loc, pid)] = totals.get((loc, pid), 0) + qty
    return totals


def _reservation_rows(needs, totals, after, now, actor) -> tuple[list[dict], list[dict]]:
    """The reservations and ledger rows of `needs`, given the stock rows as the reserving UPDATE
    left them (`after`): each ledger row carries the figures after its own reservation."""
    running = {key: after[key][1] - total for key, total in totals.items()}
    res_rows, ledger_rows = [], []
    for loc, pid, qty, pi_id, ti_id, ref in needs:
        running[(loc, pid)] += qty
        res_rows.append({"location_id": loc, "product_id": pid, "quantity": qty, "package_item_id": pi_id,
                         "transfer_item_id": ti_id, "created_at": now})
        ledger_rows.append({"location_id": loc, "product_id": pid, "on_hand_delta": 0, "reserved_delta": qty,
                            "on_hand_after": after[(loc, pid)][0], "reserved_after": running[(loc, pid)],
                            "reason": "reserve", "actor": actor, "reference": ref, "note": None, "created_at": now})
    return res_rows, ledger_rows


def flush_one(staged: Staged) -> None:
    """Write what `stage` built for one order (or a few) in as few statements as the database
    allows, each sent through SQLAlchemy (so statement counters see them). PostgreSQL: the
    guarded stock UPDATE, its rows locked in (location, product) order by the sub-select it
    joins, then ONE statement whose WITH clauses insert every row of every table and update the
    order (foreign keys are checked at the end of the statement). SQLite: the stock UPDATE, one
    multi-row INSERT per table and the order's UPDATE. Raises StockRaceLost like `flush`."""
    now, actor, needs = staged.now, staged.actor, staged.needs
    connection = db.session.connection()
    postgres = connection.dialect.name == "postgresql"
    totals = _totals(needs)
    after = _reserve_small(connection, totals, now, postgres) if totals else {}
    res_rows, ledger_rows = _reservation_rows(needs, totals, after, now, actor)
    tables = [*staged.inserts, (Reservation.__table__, res_rows), (StockLedger.__table__, ledger_rows),
              (TransitionLog.__table__, staged.logs), (OutboxEvent.__table__, staged.events)]
    tables = [(table, rows) for table, rows in tables if rows]
    if postgres:
        params: dict[str, Any] = {}
        parts = [f"w{n} AS ({_insert_sql(table, rows, params, postgres)})" for n, (table, rows) in enumerate(tables)]
        for n, (order_id, status) in enumerate(staged.statuses):
            params.update({f"o{n}": order_id, f"s{n}": status})
            parts.append(f"u{n} AS (UPDATE orders SET status = %(s{n})s, updated_at = %(now)s WHERE id = %(o{n})s)")
        params["now"] = now
        connection.exec_driver_sql(f"WITH {', '.join(parts)} SELECT 1", params)
    else:
        for table, rows in tables:
            values: list = []
            sql = _insert_sql(table, rows, values, postgres)
            connection.exec_driver_sql(sql, tuple(values))
        stamp = DateTime()._cached_bind_processor(connection.dialect)(now)
        for order_id, status in staged.statuses:
            connection.exec_driver_sql("UPDATE orders SET status = ?, updated_at = ? WHERE id = ?",
                                       (status, stamp, order_id))
    if staged.events:
        db.session.info["outbox_max_id"] = max([e["id"] for e in staged.events]
                                               + [db.session.info.get("outbox_max_id", 0)])


def _reserve_small(connection, totals: dict[tuple[int, int], int], now, postgres: bool):
    """`reserve_totals` in one statement, for the few rows of one order."""
    pairs = sorted(totals)
    if postgres:
        returned = connection.exec_driver_sql(
            "UPDATE stock SET reserved = stock.reserved + v.q, updated_at = %(now)s FROM ("
            " SELECT s.location_id AS l, s.product_id AS p, w.q FROM stock s"
            " JOIN unnest(%(l)s::int[], %(p)s::int[], %(q)s::int[]) AS w(l, p, q)"
            " ON s.location_id = w.l AND s.product_id = w.p"
            " ORDER BY s.location_id, s.product_id FOR UPDATE OF s) AS v"
            " WHERE stock.location_id = v.l AND stock.product_id = v.p AND stock.on_hand - stock.reserved >= v.q"
            " RETURNING stock.location_id, stock.product_id, stock.on_hand, stock.reserved",
            {"now": now, "l": [loc for loc, _ in pairs], "p": [pid for _, pid in pairs],
             "q": [totals[k] for k in pairs]}).all()
    else:
        values = ", ".join("(?, ?, ?)" for _ in pairs)
        flat = [x for loc, pid in pairs for x in (loc, pid, totals[(loc, pid)])]
        stamp = DateTime()._cached_bind_processor(connection.dialect)(now)
        returned = connection.exec_driver_sql(
            "UPDATE stock SET reserved = stock.reserved + v.q, updated_at = ? FROM"
            f" (SELECT column1 AS l, column2 AS p, column3 AS q FROM (VALUES {values})) AS v"
            " WHERE stock.location_id = v.l AND stock.product_id = v.p AND stock.on_hand - stock.reserved >= v.q"
            " RETURNING stock.location_id, stock.product_id, stock.on_hand, stock.reserved",
            (stamp, *flat)).all()
    if len(returned) != len(pairs):
        raise StockRaceLost(f"{len(pairs) - len(returned)} stock row(s) changed while planning")
    return {(r[0], r[1]): (r[2], r[3]) for r in returned}


_SHAPES: dict[tuple, tuple] = {}  # (table, columns, dialect) -> JSON columns, bind processors, SQL head


def _shape(table, columns: tuple[str, ...], dialect) -> tuple:
    key = (table.name, columns, dialect.name)
    shape = _SHAPES.get(key)
    if shape is None:
        json_cols = [n for n, name in enumerate(columns) if isinstance(table.c[name].type, JSON)]
        processors = {} if dialect.name == "postgresql" else {
            n: proc for n, name in enumerate(columns) if n not in json_cols
            and (proc := table.c[name].type._cached_bind_processor(dialect)) is not None}
        shape = _SHAPES[key] = (json_cols, processors, f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ")
    return shape


def _insert_sql(table, rows: list[dict], params, postgres: bool) -> str:
    """A multi-row INSERT of `rows`; values go into `params` (a dict of named parameters on
    PostgreSQL, a list of positional ones on SQLite), converted as `bulk_insert` converts them."""
    columns = tuple(rows[0])
    json_cols, processors, head = _shape(table, columns, db.session.connection().dialect)
    groups = []
    if postgres:
        prefix = f"{table.name[:2]}{len(params)}_"
        for r, values in enumerate(_values(rows, list(columns), json_cols, {})):
            marks = []
            for n, value in enumerate(values):
                key = f"{prefix}{r}_{n}"
                params[key] = value
                marks.append(f"CAST(%({key})s AS JSON)" if n in json_cols else f"%({key})s")
            groups.append(f"({', '.join(marks)})")
    else:
        group = "(" + ", ".join("?" * len(columns)) + ")"
        for values in _values(rows, list(columns), json_cols, processors):
            params.extend(values)
            groups.append(group)
    return head + ", ".join(groups)


def _log_and_events(batch, network, actor, now, pkg_ids, pkg_rows, pkg_refs, item_ids, item_refs,
                    tr_ids, tr_rows, tr_refs, ti_ids, ti_rows, require_scan: bool,
                    pool: IdPool | None) -> tuple[list[dict], list[dict]]:
    """The transition log rows and outbox events (ids allocated) of a staged chunk. Event data is
    built by the same `representations` functions the API uses, from the rows staged here."""
    code = {sid: site.code for sid, site in network.sites.items()}
    items_by_pkg: dict[int, list[tuple[int, Any]]] = {}
    for iid, (pkg_id, d) in zip(item_ids, item_refs, strict=True):
        items_by_pkg.setdefault(pkg_id, []).append((iid, d))
    tis_by_tr: dict[int, list[dict]] = {}
    for ti_id, row in zip(ti_ids, ti_rows, strict=True):
        tis_by_tr.setdefault(row["transfer_id"], []).append({"id": ti_id, "product_id": row["product_id"],
                                                             "quantity": row["quantity"]})
    sku_of = {d.product_id: d.sku for _, d in item_refs}
    item_of = {item.id: item for b in batch for item in b.order.items}
    number_of = {pkg_id: row["number"] for pkg_id, row in zip(pkg_ids, pkg_rows, strict=True)}
    transfers_by_pkg: dict[int, list[dict]] = {}
    logs, events = [], []
    waiting_commands = allowed_transfer_commands("waiting")
    for tr_id, row, (pkg_id, t) in zip(tr_ids, tr_rows, tr_refs, strict=True):
        ref = transfer_ref(tr_id, row["number"], "waiting", code[t.source_id], code[row["destination_id"]])
        transfers_by_pkg.setdefault(pkg_id, []).append(ref)
        logs.append(_log("transfer", tr_id, "waiting", actor, now))
        data = transfer_data(
            ref=ref, package_id=pkg_id, package_number=number_of[pkg_id], cargo_company=None, tracking_number=None,
            items=[transfer_item_data(ti["id"], sku_of.get(ti["product_id"]), ti["quantity"], "open")
                   for ti in tis_by_tr.get(tr_id, [])],
            allowed_commands=list(waiting_commands), created_at=now, updated_at=now)
        events.append(_event("transfer.created", "transfer", tr_id, data, now))
    new_packages: dict[int, list[tuple[dict, list[dict]]]] = {}
    for pkg_id, row, (b, p) in zip(pkg_ids, pkg_rows, pkg_refs, strict=True):
        logs.append(_log("package", pkg_id, p.state, actor, now))
        quantities = {d.order_item_id: q for d, q in p.lines}
        items = []
        for iid, d in items_by_pkg.get(pkg_id, []):
            item = item_of[d.order_item_id]
            items.append(package_item_data(iid, item.sku, item.name, item.barcodes, quantities[d.order_item_id],
                                           0, "open"))
        facts = PackageFacts(state=p.state, delivery_type=b.order.delivery_type,
                             channel_prints_label=b.provides_label, require_scan=require_scan)
        transfers = transfers_by_pkg.get(pkg_id, [])
        data = package_data(
            id=pkg_id, number=row["number"], state=p.state, previous_state=None, order_id=b.order.id,
            order_number=b.order.number, location=code[p.location_id], items=items, transfers=transfers,
            shipment=None, invoice=None, allowed_commands=allowed_package_commands(facts), created_at=now,
            updated_at=now)
        events.append(_event("package.created", "package", pkg_id, data, now))
        new_packages.setdefault(b.order.id, []).append(
            (package_ref(pkg_id, row["number"], p.state, code[p.location_id]), transfers))
    for b in batch:
        if b.new_status == b.order.status:
            continue
        logs.append({"entity_type": "order", "entity_id": b.order.id, "from_state": b.order.status,
                     "to_state": b.new_status, "command": "plan", "params": {}, "actor": actor, "created_at": now})
        events.append(_event("order.status_changed", "order", b.order.id,
                             _order_data(b, new_packages.get(b.order.id, []), now), now,
                             previous={"status": b.order.status}))
    for event, event_id in zip(events, event_ids(len(events)), strict=True):
        event["event_id"] = event_id
    _ids(OutboxEvent.__table__, events, pool)
    return logs, events


def _log(entity: str, entity_id: int, state: str, actor: str, now) -> dict[str, Any]:
    return {"entity_type": entity, "entity_id": entity_id, "from_state": None, "to_state": state,
            "command": "plan", "params": {}, "actor": actor, "created_at": now}


def _event(kind: str, aggregate: str, aggregate_id: int, data: dict, now, previous: dict | None = None) -> dict:
    return {"event_id": None, "type": kind, "aggregate_type": aggregate, "aggregate_id": aggregate_id,
            "occurred_at": now, "data": data, "previous": previous or {}, "published_at": None}


def _order_data(b: Planned, new: list[tuple[dict, list[dict]]], now: datetime) -> dict[str, Any]:
    """The order as the API returns it after this batch: every package it ever had (the earlier
    ones, then the new ones) with their transfers, as `representations.order_dict` lists them."""
    o = b.order
    o.updated_at = now  # what the status update writes (`flush`)
    packages = [e.package for e in b.earlier] + [ref for ref, _ in new]
    transfers = [t for e in b.earlier for t in e.transfers] + [t for _, ts in new for t in ts]
    return order_data(
        o, status=b.new_status, channel=b.codes.get("channel"), pickup_location=b.codes.get("pickup_location"),
        cargo_company=b.codes.get("cargo_company"),
        items=[order_item_data(i.id, i.sku, i.quantity, i.cancelled_quantity, i.price, i.status) for i in o.items],
        packages=packages, transfers=transfers)
