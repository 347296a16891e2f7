"""Batch planning benchmark (SPEC §12): 10,000 orders (avg 2.5 lines) over 200 locations and
20,000 SKUs, planned by `plan_batch`, next to a same-run baseline: the bulk SQL cost of writing
the same rows (packages, items, transfers, reservations, stock, ledger, log, events, traces,
order statuses) with plain multi-row statements and the same commits.

    python -m bench.planning                        # SQLite in a temporary directory
    python -m bench.planning --database postgresql://postgres@/packline?host=/tmp/pg&port=5433
    python -m bench.planning --per-order --orders 2000   # real-time: one order per transaction

With `--per-order` the same generated orders are planned one per transaction through the real
entry point (the order-intake job `app.tasks.planning.plan_order`, i.e. `planning.plan_order`, which
`POST /orders/{id}/plan` runs too),
counting the SQL statements sent (an SQLAlchemy `before_cursor_execute` listener); the baseline
then writes copies of the same rows with one transaction per order.

Planning and the baseline each run in a fresh child process, so the peak RSS printed is that
of the planner alone (Python, Flask and SQLAlchemy included).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CITIES = [("Istanbul", 41.01, 28.97, 60), ("Ankara", 39.93, 32.86, 25), ("Izmir", 38.42, 27.14, 20),
          ("Bursa", 40.19, 29.06, 12), ("Antalya", 36.89, 30.71, 12), ("Adana", 37.00, 35.32, 10),
          ("Konya", 37.87, 32.48, 8), ("Gaziantep", 37.07, 37.38, 8), ("Kayseri", 38.73, 35.49, 6),
          ("Trabzon", 41.00, 39.72, 6), ("Eskisehir", 39.78, 30.52, 6), ("Samsun", 41.29, 36.33, 6),
          ("Diyarbakir", 37.91, 40.24, 5), ("Mersin", 36.81, 34.64, 6), ("Kocaeli", 40.77, 29.94, 10)]
TABLES = ("planning_traces", "packages", "package_items", "transfers", "transfer_items", "reservations",
          "stock_ledger", "transition_log", "outbox_events")


def _app(url: str, redis_url: str | None = None, group_limit: int | None = None):
    from app import create_app
    from app.config import Config

    class BenchConfig(Config):
        SQLALCHEMY_DATABASE_URI = url
        RQ_SYNC = redis_url is None  # no Redis needed: the outbox relay stays quiet, the sweeper would publish

    if redis_url is not None:
        BenchConfig.REDIS_URL = redis_url
    if group_limit is not None:
        BenchConfig.PLANNING_GROUP_LIMIT = group_limit
    return create_app(BenchConfig)


# --- data ------------------------------------------------------------------------------------

def generate(url: str, orders: int, locations: int, skus: int, seed: int = 20261123) -> dict:
    from flask_migrate import upgrade
    from sqlalchemy import insert

    from app.extensions import db
    from app.models import (
        Channel,
        Order,
        OrderItem,
        Product,
        ProductBarcode,
        Scenario,
        ScenarioRule,
        Stock,
        StockLocation,
    )

    rng = random.Random(seed)
    app = _app(url)
    with app.app_context():
        upgrade()
        s = db.session
        s.execute(insert(Channel), [{"code": "web", "name": "Web shop", "provides_shipping_label": False}])
        warehouses = 5
        weights = [c[3] for c in CITIES]
        loc_rows = []
        for n in range(locations):
            city, lat, lon, _ = CITIES[n % len(CITIES)] if n < len(CITIES) else rng.choices(CITIES, weights)[0]
            is_wh = n >= locations - warehouses
            loc_rows.append({"code": f"{'WH' if is_wh else 'ST'}-{n:03d}", "name": f"Location {n}",
                             "type": "warehouse" if is_wh else "store", "city": city,
                             "latitude": lat + rng.uniform(-0.15, 0.15), "longitude": lon + rng.uniform(-0.15, 0.15),
                             "priority": rng.choice([10, 20, 30]), "max_quota": None if is_wh else 400,
                             "is_packaging_center": True, "is_transfer_source": True,
                             "is_pickup_location": not is_wh, "active": True, "tags": []})
        s.execute(insert(StockLocation), loc_rows)
        loc_ids = [r[0] for r in s.execute(StockLocation.__table__.select().with_only_columns(
            StockLocation.id).order_by(StockLocation.id))]
        for start in range(0, skus, 5000):
            s.execute(insert(Product), [{"sku": f"SKU-{n:05d}", "name": f"Product {n}", "weight_kg": 0.5}
                                        for n in range(start, min(skus, start + 5000))])
        product_ids = [r[0] for r in s.execute(Product.__table__.select().with_only_columns(Product.id)
                                               .order_by(Product.id))]
        for start in range(0, skus, 5000):
            s.execute(insert(ProductBarcode), [{"product_id": pid, "barcode": f"869{pid:010d}"}
                                               for pid in product_ids[start:start + 5000]])
        stock_rows = 0
        stocked = product_ids[:len(product_ids) - len(product_ids) // 100]  # 1% of SKUs: no stock anywhere
        for i, loc in enumerate(loc_ids):
            is_wh = i >= locations - warehouses
            share = 0.4 if is_wh else 0.08
            chosen = rng.sample(stocked, int(len(product_ids) * share))
            rows = [{"location_id": loc, "product_id": pid, "on_hand": rng.randint(5, 50) if is_wh
                     else rng.randint(1, 5), "reserved": 0} for pid in chosen]
            for start in range(0, len(rows), 10000):
                s.execute(insert(Stock), rows[start:start + 10000])
            stock_rows += len(rows)
        wh_codes = [r["code"] for r in loc_rows if r["type"] == "warehouse"]
        sc = Scenario(name="Bench", priority=10, active=True, default_location_id=loc_ids[-1], conditions={})
        sort = [{"by": "distance", "order": "asc"}]
        sc.rules = [
            ScenarioRule(position=1, name="Nearest store", location_type="store", sort=sort, max_packages=1,
                         locations=[], exclude=[], transfer_sources=[]),
            ScenarioRule(position=2, name="Split over stores", location_type="store", sort=sort, allow_split=True,
                         max_packages=2,
                         locations=[], exclude=[], transfer_sources=[]),
            ScenarioRule(position=3, name="Store with transfer", location_type="store", sort=sort,
                         transferable=True, transfer_sources=wh_codes, locations=[], exclude=[]),
        ]
        s.add(sc)
        s.flush()
        channel_id = s.scalar(Channel.__table__.select().with_only_columns(Channel.id))
        placed = datetime(2026, 11, 20, 8, 0)
        lines_total = 0
        for start in range(0, orders, 1000):
            order_rows = []
            for n in range(start, min(orders, start + 1000)):
                city, lat, lon, _ = rng.choices(CITIES, weights)[0]
                order_rows.append({"number": f"B-{n:06d}", "channel_id": channel_id,
                                   "placed_at": placed + timedelta(seconds=n), "received_at": placed,
                                   "source_status": "approved", "status": "new", "delivery_type": "cargo",
                                   "payment_type": "card", "customer_name": f"Customer {n}",
                                   "ship_city": city, "ship_latitude": lat + rng.uniform(-0.1, 0.1),
                                   "ship_longitude": lon + rng.uniform(-0.1, 0.1)})
            ids = [r[0] for r in s.execute(insert(Order).returning(Order.id, sort_by_parameter_order=True),
                                           order_rows)]
            item_rows = []
            for oid in ids:
                for pid in rng.sample(product_ids, rng.randint(1, 4)):  # 1..4 lines: 2.5 on average
                    item_rows.append({"order_id": oid, "product_id": pid, "quantity": rng.choice([1, 1, 1, 2]),
                                      "cancelled_quantity": 0, "status": "open"})
            s.execute(insert(OrderItem), item_rows)
            lines_total += len(item_rows)
        s.commit()
    return {"stock_rows": stock_rows, "lines": lines_total}


# --- phases (child processes) ----------------------------------------------------------------

def phase_plan(url: str, chunk: int) -> dict:
    app = _app(url)
    with app.app_context():
        from app.services.planning.batch import plan_batch

        timings: list[float] = []
        stats: dict[str, float] = {}
        started = time.perf_counter()
        counts = plan_batch(chunk_size=chunk, timings=timings, stats=stats)
        elapsed = time.perf_counter() - started
    planned = sum(counts.values())
    return {"orders": planned, "seconds": elapsed, "per_second": planned / elapsed if elapsed else 0,
            "p95_ms": _p95(timings) * 1000, "counts": counts, "peak_rss_mb": _rss_mb(),
            "steps": {k: round(v, 2) for k, v in stats.items()}}


def phase_per_order(url: str) -> dict:
    """Plan every waiting order one by one, each in its own transaction, as order intake does."""
    from sqlalchemy import event

    from app.extensions import db
    from app.services.planning.batch import waiting_order_ids
    from app.tasks.planning import plan_order  # the order-intake job (app context: runs inline)

    app = _app(url)
    with app.app_context():
        ids = waiting_order_ids()
        db.session.rollback()
        kinds: dict[str, int] = {}
        count = [0]

        def counted(conn, cursor, statement, parameters, context, executemany):
            count[0] += 1
            key = " ".join(statement.split()[:6])[:70]
            kinds[key] = kinds.get(key, 0) + 1

        event.listen(db.engine, "before_cursor_execute", counted)
        timings: list[float] = []
        outcomes: dict[str, int] = {}
        started = time.perf_counter()
        for order_id in ids:
            tick = time.perf_counter()
            status = plan_order(order_id)  # the job ends with db.session.remove(), as in a worker
            timings.append(time.perf_counter() - tick)
            outcomes[status] = outcomes.get(status, 0) + 1
        elapsed = time.perf_counter() - started
        event.remove(db.engine, "before_cursor_execute", counted)
    top = sorted(kinds.items(), key=lambda kv: -kv[1])[:25]
    return {"orders": len(ids), "seconds": elapsed, "per_second": len(ids) / elapsed if elapsed else 0,
            "p95_ms": _p95(timings) * 1000, "counts": outcomes, "peak_rss_mb": _rss_mb(),
            "statements": count[0], "per_order": count[0] / max(1, len(ids)),
            "where": [(k, round(v / max(1, len(ids)), 2)) for k, v in top]}


def phase_baseline(url: str, chunk: int, per_order: bool = False) -> dict:
    """Write copies of every row planning wrote, in the same number of transactions, with
    multi-row INSERT/UPDATE statements; then remove the copies (not timed). `per_order`: one
    transaction per order, each table's share written with one plain multi-row INSERT (COPY
    is slower than INSERT for a handful of rows)."""
    from sqlalchemy import MetaData, delete, select, text

    from app.extensions import db
    from app.models.base import utcnow
    from app.services.planning.batch import fewer_collections
    from app.services.planning.writer import bulk_insert, rows_from

    app = _app(url)
    with app.app_context():
        meta = MetaData()
        meta.reflect(bind=db.engine, only=TABLES + ("stock", "orders"))
        rows = {}
        for name in TABLES:
            table = meta.tables[name]
            rows[name] = [dict(r._mapping) for r in db.session.execute(select(table))]
        stock_updates = [{"b_loc": r["location_id"], "b_pid": r["product_id"]} for r in rows["stock_ledger"]]
        status = dict(db.session.execute(select(meta.tables["orders"].c.id, meta.tables["orders"].c.status)).all())
        order_ids = sorted(status)
        now = utcnow()
        db.session.rollback()
        chunks = max(1, -(-len(order_ids) // chunk))
        first_new = {}
        for name in TABLES:
            first_new[name] = (db.session.scalar(text(f"SELECT max(id) FROM {name}")) or 0) + 10_000_000
        db.session.rollback()
        for name in TABLES:  # unique columns get a suffix; ids are fresh
            for n, r in enumerate(rows[name]):
                r["id"] = first_new[name] + n
                if "number" in r:
                    r["number"] = f"{r['number']}-copy"
                if "event_id" in r:
                    r["event_id"] = f"copy-{n}"
        started = time.perf_counter()
        with fewer_collections():  # as planning runs: the baseline holds every row in memory too
            for c in range(chunks):
                db.session.connection(execution_options={"sqlite_immediate": True})
                for name in TABLES:
                    part = _slice(rows[name], c, chunks)
                    if part and per_order:
                        _plain_insert(meta.tables[name], part)
                    elif part:  # the planner's own bulk insert: COPY on PostgreSQL, executemany on SQLite
                        bulk_insert(meta.tables[name], part)
                part = _slice(stock_updates, c, chunks)
                if part:  # the same multi-row UPDATE the planner uses, adding 0
                    rows_from("UPDATE stock SET reserved = stock.reserved + v.q, updated_at = :now FROM {rows} "
                              "WHERE stock.location_id = v.l AND stock.product_id = v.p",
                              (("l", "int"), ("p", "int"), ("q", "int")),
                              sorted({(r["b_loc"], r["b_pid"], 0) for r in part}), {"now": now})
                part = _slice(order_ids, c, chunks)
                if part:
                    rows_from("UPDATE orders SET status = v.status, updated_at = :now FROM {rows} WHERE orders.id = v.id",
                              (("id", "int"), ("status", "text")), [(i, status[i]) for i in part], {"now": now})
                db.session.commit()
        elapsed = time.perf_counter() - started
        for name in reversed(TABLES):
            db.session.execute(delete(meta.tables[name]).where(meta.tables[name].c.id >= first_new[name]))
        db.session.commit()
    return {"seconds": elapsed, "per_second": len(order_ids) / elapsed if elapsed else 0,
            "rows": {k: len(v) for k, v in rows.items()}, "peak_rss_mb": _rss_mb()}


def _plain_insert(table, rows: list[dict]) -> None:
    """One multi-row INSERT of `rows` (the values as the columns' bind processors store them)."""
    from sqlalchemy import JSON

    from app.extensions import db
    from app.services.planning.writer import _dumps

    connection = db.session.connection()
    columns = list(rows[0])
    values, groups = [], []
    for row in rows:
        out = []
        for name in columns:
            value, kind = row[name], table.c[name].type
            if isinstance(kind, JSON):
                value = _dumps(value)
            elif value is not None and (proc := kind._cached_bind_processor(connection.dialect)) is not None:
                value = proc(value)
            out.append(value)
        values.extend(out)
        mark = "%s" if connection.dialect.name == "postgresql" else "?"
        groups.append("(" + ", ".join([mark] * len(out)) + ")")
    connection.exec_driver_sql(f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES {', '.join(groups)}",
                               tuple(values))


def _slice(values: list, index: int, parts: int) -> list:
    size = -(-len(values) // parts)
    return values[index * size:(index + 1) * size]


def _p95(values: list[float]) -> float:
    if not values:
        return 0.0
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- driver ----------------------------------------------------------------------------------

def _database(spec: str | None) -> tuple[str, callable]:
    """A fresh database URL and a function that removes it."""
    if not spec or spec == "sqlite":
        directory = tempfile.mkdtemp(prefix="packline-bench-")
        return f"sqlite:///{directory}/bench.db", lambda: shutil.rmtree(directory, ignore_errors=True)
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    url = make_url(spec.replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"packline_bench_{os.getpid()}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url.set(database=name).render_as_string(hide_password=False), drop


# --- arrivals: orders arriving at a rate, planned by a real worker ------------------------------

def phase_worker(url: str, redis_url: str, group_limit: int) -> None:
    """One planning worker (RQ SimpleWorker, as `flask worker planning` runs jobs, without the
    periodic scheduler so no sweep plans the waiting orders behind the jobs' backs)."""
    from redis import Redis
    from rq import Queue, SimpleWorker

    app = _app(url, redis_url, group_limit)
    with app.app_context():
        conn = Redis.from_url(redis_url)
        SimpleWorker([Queue("planning", connection=conn)], connection=conn).work(logging_level="WARNING")


def run_arrivals(url: str, rate: float, group_limit: int, directory: str) -> dict:
    """Enqueue every waiting order's planning job at `rate` per second (as order intake does, one
    job per order), with one worker process planning; wait until every order is planned. Returns
    the sustained rate and the time from each job's enqueue to its order's planning commit."""
    from redis import Redis
    from rq import Queue, Worker
    from sqlalchemy import create_engine, text

    from bench.commands import _Redis, _stop

    redis = _Redis(Path(directory))
    redis.start()
    worker = None
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1) if url.startswith("postgresql://")
                           else url)
    try:
        conn = Redis.from_url(redis.url)
        worker = subprocess.Popen([sys.executable, "-m", "bench.planning", "--phase", "worker", "--url", url,
                                   "--redis", redis.url, "--group-limit", str(group_limit)], cwd=ROOT)
        deadline = time.time() + 180
        while Worker.count(connection=conn) < 1:
            if time.time() > deadline or worker.poll() is not None:
                raise SystemExit("the planning worker did not start")
            time.sleep(0.2)
        with engine.connect() as db:
            ids = [r[0] for r in db.execute(text("SELECT id FROM orders WHERE status IN ('new', 'on_hold') "
                                                 "ORDER BY placed_at, id"))]
        queue = Queue("planning", connection=conn)
        enqueued: dict[int, float] = {}
        started = time.perf_counter()
        wall_start = time.time()
        for n, order_id in enumerate(ids):
            time.sleep(max(0.0, started + n / rate - time.perf_counter()))
            queue.enqueue("app.tasks.planning.plan_order", order_id, job_id=f"plan-order-{order_id}")
            enqueued[order_id] = time.time()
        deadline = time.time() + 600
        while True:
            with engine.connect() as db:
                waiting = db.execute(text("SELECT count(*) FROM orders WHERE status = 'new' AND NOT EXISTS "
                                          "(SELECT 1 FROM planning_traces t WHERE t.order_id = orders.id)")).scalar()
            if not waiting and queue.count == 0 or time.time() > deadline:
                break
            time.sleep(0.2)
        with engine.connect() as db:
            planned_at = {r[0]: r[1] for r in db.execute(text(
                "SELECT order_id, min(created_at) FROM planning_traces GROUP BY order_id"))}
            commits = db.execute(text("SELECT count(DISTINCT created_at) FROM planning_traces")).scalar()
    finally:
        if worker is not None:
            _stop(worker)
        redis.stop()
        engine.dispose()
    epoch = datetime(1970, 1, 1)
    done = {oid: ((datetime.fromisoformat(at) if isinstance(at, str) else at) - epoch).total_seconds()
            for oid, at in planned_at.items() if oid in enqueued}  # SQLite answers a raw min() as text
    latencies = sorted(done[oid] - enqueued[oid] for oid in done)
    last = max(done.values()) if done else wall_start
    return {"orders": len(ids), "planned": len(done), "rate": rate, "group_limit": group_limit,
            "seconds": last - wall_start, "per_second": len(done) / max(1e-9, last - wall_start),
            "p50_ms": statistics.median(latencies) * 1000 if latencies else 0,
            "p95_ms": _p95(latencies) * 1000, "max_ms": (latencies[-1] * 1000) if latencies else 0,
            "transactions": commits}


def _arrivals_main(args, kind: str) -> int:
    print(f"[planning/{kind}] orders arriving at {args.rate:.0f}/s, one planning worker; "
          f"{args.orders} orders, {args.locations} locations, {args.skus} SKUs")
    results, floor = [], None
    for limit in (1, args.group_limit):
        url, drop = _database(args.database)
        directory = tempfile.mkdtemp(prefix="packline-arrivals-")
        try:
            generate(url, args.orders, args.locations, args.skus)
            results.append(run_arrivals(url, args.rate, limit, directory))
            if floor is None:
                floor = _child("commit-floor", url, 1)
        finally:
            drop()
            shutil.rmtree(directory, ignore_errors=True)
    for r in results:
        how = "one order per transaction" if r["group_limit"] == 1 else f"group commit (up to {r['group_limit']})"
        verdict = "keeps up" if r["per_second"] >= 0.95 * r["rate"] else "falls behind"
        print(f"[planning/{kind}] {how}: {r['per_second']:.0f} orders/s planned ({verdict}), "
              f"enqueue -> planned p50 {r['p50_ms']:.0f} ms, p95 {r['p95_ms']:.0f} ms, max {r['max_ms']:.0f} ms, "
              f"{r['transactions']} planning transactions for {r['planned']} orders")
    print(f"[planning/{kind}] commit floor (a one-row INSERT and a COMMIT per transaction): "
          f"{floor['per_second']:.0f} transactions/s ({floor['ms']:.2f} ms each)")
    grouped = results[-1]
    # Keeping up with 400 arriving a second is the target met even though the measured rate is
    # then the arrival rate (a few orders short of it: the last ones are timed to their end).
    keeps_up = args.rate >= 400 and grouped["per_second"] >= 0.95 * args.rate
    target = "PASS" if grouped["per_second"] >= 400 or keeps_up else "BELOW TARGET"
    print(f"[planning/{kind}] group commit plans {grouped['per_second'] / max(1e-9, results[0]['per_second']):.1f}x "
          f"as many orders/s as one per transaction; target >= 400 orders/s arriving, one process: {target}")
    return 0


def cpu_reference() -> float:
    """Seconds for a fixed pure-Python loop: how fast this (shared, virtual) machine runs Python
    right now, printed next to the figures so runs at different moments can be compared."""
    started = time.perf_counter()
    total = 0
    for i in range(10_000_000):
        total += i
    return time.perf_counter() - started


def phase_commit_floor(url: str, transactions: int = 1000) -> dict:
    """The fastest any one-transaction-per-order path can go on this server: a one-row INSERT and
    a COMMIT per transaction, nothing else (a durable commit waits for the disk's flush)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            if url.startswith("sqlite"):  # the app's own settings (app/__init__.py)
                conn.exec_driver_sql("PRAGMA journal_mode=WAL")
                conn.exec_driver_sql("PRAGMA synchronous=NORMAL")
            conn.execute(text("CREATE TABLE bench_commit_floor (id INTEGER PRIMARY KEY, v INTEGER)"))
            conn.commit()
            started = time.perf_counter()
            for n in range(transactions):
                conn.execute(text("INSERT INTO bench_commit_floor (id, v) VALUES (:id, 1)"), {"id": n})
                conn.commit()
            seconds = time.perf_counter() - started
            conn.execute(text("DROP TABLE bench_commit_floor"))
            conn.commit()
    finally:
        engine.dispose()
    return {"per_second": transactions / seconds, "ms": seconds / transactions * 1000}


def _child(phase: str, url: str, chunk: int) -> dict:
    out = subprocess.run([sys.executable, "-m", "bench.planning", "--phase", phase, "--url", url,
                          "--chunk", str(chunk)], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"{phase} phase failed:\n{out.stderr[-4000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default=os.environ.get("BENCH_DATABASE_URL", "sqlite"),
                        help="sqlite (default) or a postgresql:// server URL (a scratch database is created)")
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--locations", type=int, default=200)
    parser.add_argument("--skus", type=int, default=20_000)
    parser.add_argument("--chunk", type=int, default=500)
    parser.add_argument("--per-order", action="store_true",
                        help="plan one order per transaction through planning.plan_order (real-time path)")
    parser.add_argument("--arrivals", action="store_true",
                        help="orders arrive at --rate per second as planning jobs; one real worker plans them, "
                             "one order per transaction and then with group commit")
    parser.add_argument("--rate", type=float, default=400.0)
    parser.add_argument("--group-limit", type=int, default=100)
    parser.add_argument("--phase", choices=("plan", "baseline", "per-order", "baseline-per-order", "commit-floor",
                                            "worker"), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--redis", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.phase == "worker":
        phase_worker(args.url, args.redis, args.group_limit)
        return 0
    if args.phase:
        if args.phase == "per-order":
            result = phase_per_order(args.url)
        elif args.phase == "plan":
            result = phase_plan(args.url, args.chunk)
        elif args.phase == "baseline-per-order":
            result = phase_baseline(args.url, 1, per_order=True)
        elif args.phase == "commit-floor":
            result = phase_commit_floor(args.url)
        else:
            result = phase_baseline(args.url, args.chunk)
        print(json.dumps(result))
        return 0

    if args.arrivals:
        return _arrivals_main(args, "sqlite" if args.database in (None, "sqlite") else "postgresql")
    url, drop = _database(args.database)
    kind = url.split(":", 1)[0].split("+")[0]
    if args.per_order:
        return _per_order_main(args, url, drop, kind)
    try:
        started = time.perf_counter()
        data = generate(url, args.orders, args.locations, args.skus)
        print(f"[planning/{kind}] generated {args.orders} orders ({data['lines']} lines), {args.locations} "
              f"locations, {args.skus} SKUs, {data['stock_rows']} stock rows in {time.perf_counter() - started:.1f}s")
        reference = cpu_reference()
        plan = _child("plan", url, args.chunk)
        base = _child("baseline", url, args.chunk)
        reference = (reference + cpu_reference()) / 2
    finally:
        drop()
    target = "PASS" if plan["per_second"] >= 1000 and plan["peak_rss_mb"] <= 300 else "BELOW TARGET"
    print(f"[planning/{kind}] batch planning: {plan['per_second']:.0f} orders/s "
          f"({plan['orders']} orders in {plan['seconds']:.2f}s), p95 {plan['p95_ms']:.2f} ms/order, "
          f"peak RSS {plan['peak_rss_mb']:.0f} MB  outcomes {plan['counts']}")
    overlap = " (write and commit run in a thread alongside load and plan)" if kind == "postgresql" else ""
    print(f"[planning/{kind}] where the time goes (s){overlap}: {plan['steps']}")
    print(f"[planning/{kind}] baseline (bulk SQL writing the same rows): {base['per_second']:.0f} orders/s "
          f"({base['seconds']:.2f}s)  rows {base['rows']}")
    print(f"[planning/{kind}] machine: a 10M-step pure-Python loop took {reference:.2f}s (before/after average)")
    print(f"[planning/{kind}] planning costs {plan['seconds'] / base['seconds']:.1f}x the baseline; "
          f"target >= 1000 orders/s and <= 300 MB: {target}")
    return 0


def _per_order_main(args, url: str, drop, kind: str) -> int:
    try:
        started = time.perf_counter()
        data = generate(url, args.orders, args.locations, args.skus)
        print(f"[planning/{kind}] generated {args.orders} orders ({data['lines']} lines), {args.locations} "
              f"locations, {args.skus} SKUs, {data['stock_rows']} stock rows in {time.perf_counter() - started:.1f}s")
        reference = cpu_reference()
        plan = _child("per-order", url, 1)
        base = _child("baseline-per-order", url, 1)  # the same rows, one transaction per order
        floor = _child("commit-floor", url, 1)
        reference = (reference + cpu_reference()) / 2
    finally:
        drop()
    target = "PASS" if plan["per_second"] >= 400 and plan["per_order"] <= 12 else "BELOW TARGET"
    print(f"[planning/{kind}] per-order planning: {plan['per_second']:.0f} orders/s "
          f"({plan['orders']} orders in {plan['seconds']:.2f}s), p95 {plan['p95_ms']:.2f} ms/order, "
          f"{plan['per_order']:.1f} SQL statements per order, peak RSS {plan['peak_rss_mb']:.0f} MB  "
          f"outcomes {plan['counts']}")
    print(f"[planning/{kind}] statements per order by kind:")
    for key, n in plan["where"]:
        print(f"    {n:6.2f}  {key}")
    print(f"[planning/{kind}] baseline (the same rows, one transaction per order, one multi-row INSERT per "
          "table, the stock and order UPDATEs): "
          f"{base['per_second']:.0f} orders/s ({base['seconds']:.2f}s)")
    print(f"[planning/{kind}] commit floor (a one-row INSERT and a COMMIT per transaction, nothing else): "
          f"{floor['per_second']:.0f} transactions/s ({floor['ms']:.2f} ms each) — no path that commits each "
          "order on its own can go faster on this server")
    print(f"[planning/{kind}] machine: a 10M-step pure-Python loop took {reference:.2f}s (before/after average)")
    print(f"[planning/{kind}] per-order planning costs {plan['seconds'] / base['seconds']:.1f}x the baseline; "
          f"target >= 400 orders/s and <= 12 statements per order: {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
