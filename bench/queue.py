"""Store queue benchmark (SPEC §12): the store queue page with 1,000 open packages at the location
and 200,000 packages in the database, server time p95 ≤ 50 ms; the package page and the
supervisor board measured the same way, next to `GET /healthz` in the same run.

    python -m bench.queue                                # SQLite in a temporary directory
    python -m bench.queue --database postgresql://postgres@/packline?host=/tmp/pg&port=5433
    python -m bench.queue --packages 20000               # a quick run (still 1,000 open at the store)
    python -m bench.queue --explain                      # also print the query plans of the pages' queries

Setup: a scratch database migrated with `flask_migrate.upgrade`, then bulk inserts (multi-row
`INSERT`s of prepared rows, not the service layer): 200 locations (`ST-000` the busy store,
every location with a packing target of 120 minutes), 2,000 products, and --packages orders of
one package each (1–2 items; every order's items are the package's): 1,000 open at `ST-000` (600
waiting, 150 preparing, 150 awaiting transfer, 100 blocked) plus as many done ones there, the rest
spread over the other 199 locations, mostly delivered or shipped with a few open at each, created
over 90 days. A staff user of `ST-000` and an admin sign in through the login form (not timed).

Measured through `gunicorn -w 2 --threads 4` on a free loopback port, --clients threads, each
with a signed-in session, GETting in turn:
  queue   /store/ST-000/packages (the default tab, its first page) and, one in four requests,
          another tab or a later page (`?tab=preparing`, `?page=20`)
  package /store/ST-000/packages/<id> for random open packages of the store
  board   /supervisor/ (as the admin: every location's counts)
  healthz /healthz (the baseline: one SELECT 1 and one Redis PING)
Server time is each request's own duration as the app logs it (`packline.request` lines,
`duration_ms`, from the first `before_request` hook to `after_request`: routing, sign-in check,
queries and template, not the socket), read from gunicorn's log with PACKLINE_LOG_FORMAT=json;
the client-side latency over loopback is printed next to it.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

from bench.commands import _free_port, _pct, _Redis, _stop
from bench.planning import _database, cpu_reference

LOCATIONS = 200
PRODUCTS = 2000
BUSY = "ST-000"
OPEN_AT_BUSY = (("waiting", 600), ("preparing", 150), ("waiting_for_transfer", 150), ("blocked", 100))
DONE_STATES = (("delivered", 0.55), ("shipped", 0.2), ("refused", 0.1), ("cancelled", 0.08),
               ("ready_for_pickup", 0.02), ("packed", 0.05))
OPEN_ELSEWHERE = 5  # open packages at each of the other locations
STAFF, ADMIN, PASSWORD = "bench-staff", "bench-admin", "bench-password-123"
PAGES = ("queue", "package", "board", "healthz")
ROOT = Path(__file__).resolve().parent.parent


def _start_gunicorn(url: str, redis_url: str, port: int, log: Path, workers: int, threads: int,
                    wait: float = 180.0) -> subprocess.Popen:
    """gunicorn on `port`, once it answers /healthz (a busy machine may take a minute to import the
    app); stopped again if it never does."""
    import requests

    env = dict(os.environ, DATABASE_URL=url, REDIS_URL=redis_url, PACKLINE_ENV="development",
               PACKLINE_LOG_FORMAT="json")  # the app's request log carries each request's duration
    gunicorn = Path(sys.executable).parent / "gunicorn"
    proc = subprocess.Popen([str(gunicorn), "-b", f"127.0.0.1:{port}", "-w", str(workers), "--threads", str(threads),
                             "wsgi:app"], cwd=ROOT, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    deadline = time.time() + wait
    while proc.poll() is None and time.time() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200:
                return proc
        except requests.RequestException:
            pass
        time.sleep(0.5)
    _stop(proc)
    raise SystemExit(f"gunicorn did not answer /healthz:\n{log.read_text(errors='replace')[-3000:]}")


def _app(url: str):
    from app import create_app
    from app.config import Config

    class BenchConfig(Config):
        SQLALCHEMY_DATABASE_URI = url
        RQ_SYNC = True

    return create_app(BenchConfig)


# --- data ------------------------------------------------------------------------------------

def _states(total: int, rng: random.Random) -> list[str]:
    """The states of `total` packages at the busy store, then at every other location."""
    busy_open = [s for s, n in OPEN_AT_BUSY for _ in range(n)]
    names, weights = zip(*DONE_STATES, strict=True)
    done = rng.choices(names, weights, k=max(0, total - len(busy_open)))
    return busy_open + done


def seed(url: str, packages: int, seed_value: int = 20261206) -> dict:
    """Migrate and fill the database with bulk inserts; returns what the clients need."""
    from flask_migrate import upgrade
    from sqlalchemy import insert, text

    from app.extensions import db
    from app.models import Channel, Order, OrderItem, Package, PackageItem, Product, ProductBarcode, StockLocation
    from app.models.base import utcnow
    from app.services import users

    rng = random.Random(seed_value)
    app = _app(url)
    now = utcnow().replace(microsecond=0)
    with app.app_context():
        upgrade()
        s = db.session
        s.execute(insert(Channel), [{"id": 1, "code": "web", "name": "Web shop", "provides_shipping_label": False}])
        s.execute(insert(StockLocation), [
            {"id": n + 1, "code": f"ST-{n:03d}", "name": f"Store {n}", "type": "store", "city": "Istanbul",
             "latitude": 41.0 + n / 1000, "longitude": 29.0, "priority": 10, "is_packaging_center": True,
             "is_transfer_source": True, "is_pickup_location": True, "active": True, "tags": [],
             "target_packaging_minutes": 120}
            for n in range(LOCATIONS)])
        s.execute(insert(Product), [{"id": n + 1, "sku": f"Q-{n:05d}", "name": f"Queue product {n}",
                                     "weight_kg": 0.5} for n in range(PRODUCTS)])
        s.execute(insert(ProductBarcode), [{"product_id": n + 1, "barcode": f"867{n:010d}"}
                                           for n in range(PRODUCTS)])
        # Every package's (location, state, created time), numbered in order of creation as a
        # live database would have them: the busy store's open work holds recent ids, its done
        # work and everyone else's are spread over 90 days.
        states = _states(packages, rng)
        busy_total = sum(n for _, n in OPEN_AT_BUSY) * 2
        records = []
        for n, state in enumerate(states):
            if n < busy_total:
                location = 1
            else:
                location = 2 + (n - busy_total) % (LOCATIONS - 1)
                if (n - busy_total) // (LOCATIONS - 1) < OPEN_ELSEWHERE:
                    state = "waiting"
            is_open = state in ("waiting", "preparing", "waiting_for_transfer", "blocked")
            age = timedelta(minutes=rng.uniform(1, 600)) if is_open else timedelta(days=rng.uniform(0.5, 90))
            records.append((now - age, location, state, is_open))
        records.sort()
        busy_open_ids: list[int] = []
        item_id = 0
        chunk = 5000
        for start in range(0, packages, chunk):
            orders, items, pkgs, pitems = [], [], [], []
            for n in range(start, min(packages, start + chunk)):
                pid = n + 1
                created, location, state, is_open = records[n]
                if location == 1 and is_open:
                    busy_open_ids.append(pid)
                orders.append({"id": pid, "number": f"Q{pid:07d}", "channel_id": 1, "placed_at": created,
                               "received_at": created, "status": "in_progress" if is_open else "delivered",
                               "delivery_type": "cargo", "customer_name": f"Customer {rng.randrange(50000)}",
                               "ship_city": "Istanbul", "ship_country": "TR", "created_at": created,
                               "updated_at": created})
                pkgs.append({"id": pid, "number": f"Q{pid:07d}-1", "order_id": pid, "location_id": location,
                             "state": state, "state_changed_at": created, "version": 1, "created_at": created,
                             "updated_at": created})
                for _ in range(1 + (rng.random() < 0.5)):
                    item_id += 1
                    product = rng.randrange(PRODUCTS) + 1
                    items.append({"id": item_id, "order_id": pid, "product_id": product, "quantity": 1,
                                  "cancelled_quantity": 0, "status": "open"})
                    pitems.append({"id": item_id, "package_id": pid, "order_item_id": item_id,
                                   "product_id": product, "quantity": 1,
                                   "picked_quantity": 0 if is_open else 1,
                                   "state": "open" if is_open else "packed"})
            s.execute(insert(Order), orders)
            s.execute(insert(OrderItem), items)
            s.execute(insert(Package), pkgs)
            s.execute(insert(PackageItem), pitems)
        if db.engine.dialect.name == "postgresql":
            for table in ("channels", "stock_locations", "products", "orders", "order_items", "packages",
                          "package_items"):
                s.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                               f"(SELECT max(id) FROM {table}))"))
        users.create_user(STAFF, "staff", PASSWORD, [BUSY])
        users.create_user(ADMIN, "admin", PASSWORD)
        s.commit()
        if db.engine.dialect.name == "postgresql":
            # What autovacuum does to a table in use: statistics and the visibility map (without it
            # PostgreSQL cannot answer a count from an index alone, and freshly bulk-loaded tables
            # have none yet).
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
        else:
            s.execute(text("ANALYZE"))
            s.commit()
        db.engine.dispose()
    return {"open_ids": busy_open_ids}


# --- query plans -----------------------------------------------------------------------------

def explain(url: str) -> None:
    """Print the plan of every statement the three pages send (EXPLAIN ANALYZE on PostgreSQL,
    EXPLAIN QUERY PLAN on SQLite), captured by running the views through the test client."""
    from sqlalchemy import event, text

    from app.extensions import db

    app = _app(url)
    app.config["WTF_CSRF_ENABLED"] = False
    captured: list[tuple[str, object]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT") and not executemany:
            captured.append((statement, parameters))

    with app.app_context():
        open_id = db.session.execute(text("SELECT min(id) FROM packages WHERE location_id = 1 AND state = 'waiting'"))\
            .scalar()
        db.session.remove()
    for who, path in ((STAFF, f"/store/{BUSY}/packages"), (STAFF, f"/store/{BUSY}/packages/{open_id}"),
                      (ADMIN, "/supervisor/")):
        client = app.test_client()
        r = client.post("/login", data={"username": who, "password": PASSWORD})
        if r.status_code != 303:
            raise SystemExit(f"sign-in failed for {who}: {r.status_code}")
        with app.app_context():
            event.listen(db.engine, "before_cursor_execute", capture)
            try:
                captured.clear()
                started = time.perf_counter()
                r = client.get(path)
                took = (time.perf_counter() - started) * 1000
            finally:
                event.remove(db.engine, "before_cursor_execute", capture)
            print(f"\n=== {path}: {r.status_code}, {len(captured)} SELECTs, {took:.0f} ms in-process")
            with db.engine.connect() as conn:
                raw = conn.connection.dbapi_connection
                for statement, parameters in captured:
                    prefix = ("EXPLAIN (ANALYZE, BUFFERS, TIMING OFF) " if db.engine.dialect.name == "postgresql"
                              else "EXPLAIN QUERY PLAN ")
                    cur = raw.cursor()
                    try:
                        cur.execute(prefix + statement, parameters)
                        plan = "\n".join("    " + " ".join(str(c) for c in row) for row in cur.fetchall())
                    except Exception as exc:  # noqa: BLE001 - a plan we cannot get is printed as such
                        plan = f"    (no plan: {exc})"
                        raw.rollback()
                    finally:
                        cur.close()
                    print("  " + " ".join(statement.split())[:400])
                    print(plan)
                raw.rollback()
            db.session.remove()


# --- clients ---------------------------------------------------------------------------------

def _signed_in(base: str, username: str):
    import requests

    session = requests.Session()
    page = session.get(f"{base}/login", timeout=30).text
    csrf = re.search(r'"X-CSRFToken": "([^"]+)"', page).group(1)
    r = session.post(f"{base}/login", data={"username": username, "password": PASSWORD, "csrf_token": csrf},
                     timeout=30, allow_redirects=False)
    if r.status_code != 303:
        raise RuntimeError(f"sign-in failed for {username}: {r.status_code}")
    return session


def _drive(base: str, which: str, open_ids: list[int], clients: int, requests_total: int,
           seconds: float) -> dict:
    """`requests_total` GETs of one page kind spread over `clients` threads; client latencies."""
    import requests

    sessions = [_signed_in(base, ADMIN if which == "board" else STAFF) if which != "healthz"
                else requests.Session() for _ in range(clients)]
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors: list[str] = []
    stop_at = time.perf_counter() + seconds

    def path(rng: random.Random, n: int) -> str:
        if which == "queue":
            variant = n % 8
            return {1: f"/store/{BUSY}/packages?tab=preparing", 3: f"/store/{BUSY}/packages?page=20",
                    5: f"/store/{BUSY}/packages?tab=waiting_for_transfer"}.get(variant, f"/store/{BUSY}/packages")
        if which == "package":
            return f"/store/{BUSY}/packages/{rng.choice(open_ids)}"
        if which == "board":
            return "/supervisor/"
        return "/healthz"

    def client(k: int) -> None:
        rng = random.Random(k)
        session, mine = sessions[k], latencies[k]
        try:
            for n in range(requests_total // clients):
                if time.perf_counter() > stop_at or len(errors) >= 20:
                    return
                t0 = time.perf_counter()
                r = session.get(base + path(rng, n), timeout=60, allow_redirects=False)
                mine.append(time.perf_counter() - t0)
                if r.status_code != 200:
                    errors.append(f"{which} {path(rng, n)}: {r.status_code} {r.text[:200]}")
        except Exception as exc:  # a client must never hang the benchmark
            errors.append(f"{which} client {k}: {type(exc).__name__}: {exc}")
        finally:
            session.close()

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + 120)
    elapsed = time.perf_counter() - started
    flat = [v for part in latencies for v in part]
    return {"requests": len(flat), "seconds": elapsed, "latencies": flat, "errors": errors}


_ROUTE = {"queue": re.compile(r"^/store/[^/]+/packages$"), "package": re.compile(r"^/store/[^/]+/packages/\d+$"),
          "board": re.compile(r"^/supervisor/$"), "healthz": re.compile(r"^/healthz$")}


def server_times(log: Path, offset: int) -> dict[str, list[float]]:
    """Per page kind, the `duration_ms` of every GET logged since `offset` bytes into the log."""
    out: dict[str, list[float]] = {k: [] for k in PAGES}
    with log.open("rb") as fh:
        fh.seek(offset)
        for raw in fh:
            if b'"duration_ms"' not in raw:
                continue
            try:
                line = json.loads(raw)
            except ValueError:
                continue
            if line.get("method") != "GET" or line.get("status") != 200:
                continue
            for kind, pattern in _ROUTE.items():
                if pattern.match(line.get("path", "")):
                    out[kind].append(float(line["duration_ms"]))
    return out


def _ms(values: list[float], q: float, scale: float = 1.0) -> str:
    return f"{_pct(values, q) * scale:.1f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default=os.environ.get("BENCH_DATABASE_URL", "sqlite"),
                        help="sqlite (default) or a postgresql:// server URL (a scratch database is created)")
    parser.add_argument("--packages", type=int, default=200_000, help="packages in the database (one per order)")
    parser.add_argument("--requests", type=int, default=400, help="GETs per page kind")
    parser.add_argument("--clients", type=int, default=4, help="concurrent client threads")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--explain", action="store_true", help="print the pages' query plans before measuring")
    parser.add_argument("--keep", action="store_true", help="do not drop the scratch database (prints its URL)")
    args = parser.parse_args(argv)
    if args.packages < 3000:
        raise SystemExit("--packages must be at least 3,000 (1,000 open and 1,000 done at the busy store)")

    url, drop = _database(args.database)
    kind = url.split(":", 1)[0].split("+")[0]
    machine = [cpu_reference()]
    tmp = Path(tempfile.mkdtemp(prefix="packline-bench-queue-"))
    redis = _Redis(tmp)
    gunicorn = None
    log = tmp / "gunicorn.log"
    results: dict[str, dict] = {}
    try:
        t0 = time.perf_counter()
        data = seed(url, args.packages)
        print(f"[queue/{kind}] seeded {args.packages:,} packages over {LOCATIONS} locations "
              f"({len(data['open_ids'])} open at {BUSY}) in {time.perf_counter() - t0:.1f}s", flush=True)
        if args.explain:
            explain(url)
        redis.start()
        port = _free_port()
        gunicorn = _start_gunicorn(url, redis.url, port, log, args.workers, args.threads)
        base = f"http://127.0.0.1:{port}"
        for which in PAGES:  # warm-up: every worker thread connects, templates compile
            warm = _drive(base, which, data["open_ids"], args.clients, args.clients * 4, 60)
            if warm["errors"]:
                raise SystemExit(f"warm-up failed: {warm['errors'][:3]}")
        offset = log.stat().st_size
        # healthz before and after the pages, so a machine that slows down mid-run shows up in it
        order = ("healthz", "queue", "package", "board", "healthz")
        runs = []
        for which in order:
            runs.append((which, _drive(base, which, data["open_ids"], args.clients,
                                       args.requests // (2 if which == "healthz" else 1), 300)))
        machine.append(cpu_reference())
        time.sleep(0.5)  # let gunicorn's log catch up
        servers = server_times(log, offset)
        for which, r in runs:
            merged = results.setdefault(which, {"requests": 0, "seconds": 0.0, "latencies": [], "errors": []})
            for key in ("requests", "seconds"):
                merged[key] += r[key]
            merged["latencies"] += r["latencies"]
            merged["errors"] += r["errors"]
    finally:
        _stop(gunicorn)
        redis.stop()
        log_tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        shutil.rmtree(tmp, ignore_errors=True)
        if args.keep:
            print(f"[queue/{kind}] kept {url}")
        else:
            drop()

    print(f"[queue/{kind}] gunicorn -w {args.workers} --threads {args.threads}, {args.clients} client threads "
          f"over loopback; {args.packages:,} packages, {len(data['open_ids'])} open at {BUSY}")
    print(f"[queue/{kind}] machine: a fixed Python loop took {machine[0]:.2f}s before and "
          f"{machine[-1]:.2f}s after (0.24-0.28 s on a quiet day)")
    print(f"[queue/{kind}] {'page':8} {'req/s':>7} {'server p50':>11} {'p95':>7} {'p99':>7} {'mean':>7}   "
          f"{'client p50':>10} {'p95':>7}  (ms)")
    for which in PAGES:
        r, server = results[which], servers[which]
        rate = r["requests"] / r["seconds"] if r["seconds"] else 0.0
        print(f"[queue/{kind}] {which:8} {rate:7.0f} {_ms(server, 0.5):>11} {_ms(server, 0.95):>7} "
              f"{_ms(server, 0.99):>7} {statistics.fmean(server) if server else 0:7.1f}   "
              f"{_ms(r['latencies'], 0.5, 1000):>10} {_ms(r['latencies'], 0.95, 1000):>7}  (n={len(server)})")
    base_p95 = _pct(servers["healthz"], 0.95)
    for which in ("queue", "package", "board"):
        p95 = _pct(servers[which], 0.95)
        print(f"[queue/{kind}] {which}: server p95 {p95:.1f} ms = {p95 / max(base_p95, 1e-9):.1f}x /healthz's "
              f"{base_p95:.1f} ms")
    errors = [e for r in results.values() for e in r["errors"]]
    for e in errors[:10]:
        print(f"[queue/{kind}] ERROR {e}")
    if errors and log_tail:
        print(f"[queue/{kind}] gunicorn log tail:\n{log_tail}")
    store_p95 = max(_pct(servers["queue"], 0.95), _pct(servers["package"], 0.95))
    print(f"[queue/{kind}] target store pages server p95 <= 50 ms: {'PASS' if store_p95 <= 50 else 'BELOW TARGET'}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
