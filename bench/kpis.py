"""KPI page benchmark (SPEC §12): the KPI page over 1,000,000 packages, server time p95 ≤ 300 ms,
next to `GET /healthz` in the same run; the order explorer's first page at the same size.

    python -m bench.kpis                                   # SQLite in a temporary directory
    python -m bench.kpis --database postgresql://postgres@/packline?host=/tmp/pg&port=5433
    python -m bench.kpis --packages 50000                  # a quick run
    python -m bench.kpis --reuse URL --skip-rollup --in-process 20   # cold pages; reports, histograms vs buckets

Setup: a scratch database migrated with `flask_migrate.upgrade`, then bulk inserts (COPY on
PostgreSQL, executemany on SQLite; not the service layer): 50 locations (half in
Europe/Istanbul, with a 120-minute target), 4 channels, 2,000 products, and --packages orders
of one package each over the last 365 days, each with the history the commands would have
written: the package created (planning), packed (waiting_cargo_label → packed) 5 minutes to 6
hours after the order arrived, shipped up to 4 hours later; 3% refused, 2% cancelled, 2% with a
missing-item report; one planning trace per order (8% split) and 2% re-plans; orders placed up
to 2 minutes before they arrived. Then the rollup job's own function (`kpi_rollups.rebuild`)
computes every day, a month at a time, and its time is printed: that is what the periodic job
does for two days.

Measured through `gunicorn -w 2 --threads 4` on a free loopback port, --clients threads, each
with a signed-in admin session (every location), GETting in turn:
  kpis      /supervisor/kpis: the default range (the last 14 days), every location and channel,
            all six charts drawn; one in four requests asks for 90 days, one in eight for one
            location, one in eight for one channel (after the first of each, kept reports:
            services/kpi_cache.py, as between two rollup runs)
  kpis-cold /supervisor/kpis?from=..&to=.. with a different 14-day window each time, so every
            request reads the rollups and draws the charts (what the first view after a rollup
            run costs)
  explorer /reports/orders/ (the order explorer's first page, newest first)
  healthz  /healthz (the baseline: one SELECT 1 and one Redis PING)
Server time is each request's own `duration_ms` in the app's JSON request log (bench/queue.py).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from bench.commands import ROOT, _free_port, _pct, _Redis, _stop
from bench.planning import _database
from bench.queue import _app, _signed_in

LOCATIONS = 50
CHANNELS = ("web", "trendyol", "hepsiburada", "shop")
PRODUCTS = 2000
DAYS = 365
ADMIN, PASSWORD = "bench-admin", "bench-password-123"
PAGES = ("kpis", "kpis-cold", "charts", "explorer", "healthz")
CHART_NAMES = ("processing", "quality", "errors", "locations", "channels", "hours")
CHUNK = 20_000
_ROUTE = {"kpis": re.compile(r"^/supervisor/kpis$"), "kpis-cold": re.compile(r"^/supervisor/kpis$"),
          "charts": re.compile(r"^/supervisor/kpis/charts/[a-z]+\.svg$"),
          "explorer": re.compile(r"^/reports/orders/$"), "healthz": re.compile(r"^/healthz$")}


ROLLUP_TABLES = ("kpi_days", "kpi_day_buckets", "kpi_day_reasons", "kpi_location_histograms", "kpi_channel_histograms")


def seed(url: str, packages: int, seed_value: int = 20261207, fill: bool = True, roll_up: bool | str = True) -> dict:
    """Migrate, fill the history with bulk inserts, roll every day up; returns timings.
    `fill=False` reuses a database filled by an earlier `--seed-only` run (only migrates and
    rolls up); `roll_up=False` stops after the fill; `roll_up="done"` only vacuums."""
    from flask_migrate import upgrade
    from sqlalchemy import text

    from app.extensions import db
    from app.models.base import utcnow

    rng = random.Random(seed_value)
    app = _app(url)
    now = utcnow().replace(microsecond=0)
    timings = {}
    with app.app_context():
        upgrade()
        s = db.session
        if fill:
            _fill(s, rng, now, packages, timings)
        if not roll_up:
            db.engine.dispose()
            return timings
        if roll_up is True:
            _roll_up(s, now, timings)
        s.commit()
        if db.engine.dialect.name == "postgresql":
            # What autovacuum does soon after a rollup on a live server: the visibility map that
            # lets the page's covering indexes answer without visiting the table.
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                for table in ROLLUP_TABLES:
                    conn.execute(text(f"VACUUM (ANALYZE) {table}"))
        db.engine.dispose()
    return timings


def _fill(s, rng: random.Random, now, packages: int, timings: dict) -> None:
    from sqlalchemy import insert, text

    from app.extensions import db
    from app.models import (
        Channel,
        Order,
        OrderItem,
        Package,
        PackageItem,
        PlanningTrace,
        Product,
        ProductBarcode,
        StockLocation,
        TransitionLog,
    )
    from app.services import users
    from app.services.planning.writer import bulk_insert

    s.execute(insert(Channel), [{"id": n + 1, "code": code, "name": code.title(), "provides_shipping_label": False}
                                for n, code in enumerate(CHANNELS)])
    s.execute(insert(StockLocation), [
        {"id": n + 1, "code": f"K-{n:02d}", "name": f"Store {n}", "type": "store", "city": "Istanbul",
         "latitude": 41.0, "longitude": 29.0, "priority": 10, "is_packaging_center": True,
         "is_transfer_source": True, "is_pickup_location": True, "active": True, "tags": [],
         "target_packaging_minutes": 120 if n % 2 == 0 else None,
         "time_zone": "Europe/Istanbul" if n % 2 == 0 else None} for n in range(LOCATIONS)])
    s.execute(insert(Product), [{"id": n + 1, "sku": f"K-{n:05d}", "name": f"KPI product {n}", "weight_kg": 0.5}
                                for n in range(PRODUCTS)])
    s.execute(insert(ProductBarcode), [{"product_id": n + 1, "barcode": f"866{n:010d}"} for n in range(PRODUCTS)])
    s.commit()
    t0 = time.perf_counter()
    received = sorted(now - timedelta(seconds=rng.uniform(600, DAYS * 86400)) for _ in range(packages))
    log_rows = 0
    for start in range(0, packages, CHUNK):
        orders, items, pkgs, pitems, logs, traces = [], [], [], [], [], []
        for n in range(start, min(packages, start + CHUNK)):
            pid = n + 1
            got = received[n]
            placed = got - timedelta(seconds=rng.uniform(0, 120))
            location = rng.randrange(LOCATIONS) + 1
            channel = rng.randrange(len(CHANNELS)) + 1
            product = rng.randrange(PRODUCTS) + 1
            fate = rng.random()
            packed_at = got + timedelta(minutes=rng.uniform(5, 360))
            shipped_at = packed_at + timedelta(minutes=rng.uniform(10, 240))
            state = "shipped"
            history = [(None, "waiting", "plan", {}, got)]
            if fate < 0.03:
                state = "refused"
                history.append(("waiting", "refused", "refuse",
                                {"reason": rng.choice(("damaged", "no_stock", "other"))},
                                got + timedelta(minutes=rng.uniform(5, 120))))
            elif fate < 0.05:
                state = "cancelled"
                history.append(("waiting", "cancelled", "cancel", {"reason": "customer asked"},
                                got + timedelta(minutes=rng.uniform(5, 120))))
            else:
                if fate < 0.07:
                    history.append(("preparing", "preparing", "report_missing",
                                    {"items": [{"item_id": pid, "quantity": 1,
                                                "reason": rng.choice(("not_found", "wrong_product", "defective"))}]},
                                    packed_at - timedelta(minutes=2)))
                history += [("preparing", "preparing", "prepare", {}, packed_at - timedelta(minutes=4)),
                            ("preparing", "waiting_cargo_label", "complete_packing", {}, packed_at),
                            ("waiting_cargo_label", "packed", "label_ready", {}, packed_at + timedelta(seconds=20))]
                if shipped_at < now:
                    history.append(("packed", "shipped", "ship", {}, shipped_at))
                else:
                    state = "packed"
            orders.append({"id": pid, "number": f"K{pid:08d}", "channel_id": channel, "placed_at": placed,
                           "received_at": got, "status": "shipped", "delivery_type": "cargo",
                           "customer_name": f"Customer {rng.randrange(90000)}", "ship_city": "Istanbul",
                           "ship_country": "TR", "created_at": got, "updated_at": got})
            items.append({"id": pid, "order_id": pid, "product_id": product, "quantity": 1 + (fate > 0.8),
                          "cancelled_quantity": 0, "status": "open"})
            pkgs.append({"id": pid, "number": f"K{pid:08d}-P1", "order_id": pid, "location_id": location,
                         "state": state, "state_changed_at": history[-1][4], "version": 1, "created_at": got,
                         "updated_at": history[-1][4]})
            pitems.append({"id": pid, "package_id": pid, "order_item_id": pid, "product_id": product,
                           "quantity": 1 + (fate > 0.8), "picked_quantity": 0,
                           "state": "packed" if state in ("packed", "shipped") else "open"})
            for from_state, to_state, command, params, when in history:
                logs.append({"entity_type": "package", "entity_id": pid, "from_state": from_state,
                             "to_state": to_state, "command": command, "params": params, "actor": "user:bench",
                             "created_at": when})
            traces.append({"order_id": pid, "trigger": "initial", "is_replan": False, "trace": {},
                           "outcome": "split" if rng.random() < 0.08 else "planned", "created_at": got})
            if rng.random() < 0.02:
                traces.append({"order_id": pid, "trigger": "replan", "is_replan": True, "trace": {},
                               "outcome": "planned" if rng.random() < 0.6 else "out_of_stock",
                               "created_at": got + timedelta(minutes=30)})
        for model, rows in ((Order, orders), (OrderItem, items), (Package, pkgs), (PackageItem, pitems),
                            (TransitionLog, logs), (PlanningTrace, traces)):
            bulk_insert(model.__table__, rows)
        log_rows += len(logs)
        s.commit()
    if db.engine.dialect.name == "postgresql":
        for table in ("channels", "stock_locations", "products", "orders", "order_items", "packages",
                      "package_items", "transition_log", "planning_traces"):
            s.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                           f"(SELECT coalesce(max(id), 1) FROM {table}))"))
    users.create_user(ADMIN, "admin", PASSWORD)
    s.commit()
    timings["insert_s"] = time.perf_counter() - t0
    timings["transition_rows"] = log_rows
    s.execute(text("ANALYZE"))
    s.commit()


def _roll_up(s, now, timings: dict) -> None:
    from sqlalchemy import text

    from app.services import kpi_rollups

    t0 = time.perf_counter()
    first, today = (now - timedelta(days=DAYS + 1)).date(), now.date() + timedelta(days=1)
    day = first
    while day <= today:
        last = min(today, day + timedelta(days=30))
        kpi_rollups.rebuild(day, last)
        day = last + timedelta(days=1)
    timings["rollup_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    kpi_rollups.recompute_recent()
    timings["recent_rollup_s"] = time.perf_counter() - t0
    timings["rollup_rows"] = {t: s.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in ROLLUP_TABLES}
    s.execute(text("ANALYZE"))
    s.commit()


def in_process(url: str, windows: int, days: int = 14) -> None:
    """A cold report (`kpis.report`, nothing kept, no page or charts) for `windows` different
    ranges of `days` days, one at a time in this process: through the histograms (a week's last
    days + whole weeks + a week's first days, migrations 0021 and 0023) and through the full
    per-(day, location, channel) bucket rollup in SQL (forced by answering "no histogram table"
    for every grouping), alternating which goes first; checks both give the same figures and
    prints each path's times."""
    from app.extensions import db
    from app.models import Channel, StockLocation
    from app.services import kpis

    app = _app(url)
    times: dict[str, list[float]] = {"histograms": [], "buckets": []}
    source = kpis.histogram_source
    with app.app_context(), app.test_request_context():
        locations = list(db.session.scalars(db.select(StockLocation)))
        channels = list(db.session.scalars(db.select(Channel)))
        for n in range(windows):
            end = date.today() - timedelta(days=(n * 7919 + 3) % (DAYS - days))
            filters = kpis.KpiFilters(end - timedelta(days=days - 1), end, None, None)
            reports = {}
            for path in (("histograms", "buckets") if n % 2 else ("buckets", "histograms")):
                kpis.histogram_source = source if path == "histograms" else (lambda f, by: None)
                try:
                    t0 = time.perf_counter()
                    reports[path] = kpis.report(filters, locations, channels)
                    times[path].append(time.perf_counter() - t0)
                finally:
                    kpis.histogram_source = source
                db.session.rollback()
            a, b = reports["histograms"], reports["buckets"]
            if a.totals != b.totals or any(a.tables[k].rows != b.tables[k].rows for k in a.tables):
                raise SystemExit(f"the two paths differ for {filters}")
        db.engine.dispose()
    for path, values in times.items():
        print(f"[kpis/in-process] {days}-day cold report via {path:10}: median {statistics.median(values) * 1000:7.1f} ms"
              f"  p95 {_pct(values, 0.95) * 1000:7.1f} ms  max {max(values) * 1000:7.1f} ms  (n={len(values)}, "
              f"same figures both ways)", flush=True)


def pages_in_process(url: str, windows: int, days: int = 14, profile: Path | None = None) -> None:
    """The whole cold page — `GET /supervisor/kpis?from=..&to=..` for a signed-in admin through
    Flask's test client: the report, its cells and the template, nothing kept (KPI_CACHE_SECONDS
    0) — for `windows` different ranges, one at a time in this process; with `profile`, the
    cProfile of all of them is written there (pstats)."""
    import cProfile

    from app.extensions import db

    tmp = Path(tempfile.mkdtemp(prefix="packline-bench-kpis-"))
    redis = _Redis(tmp)  # the app's own Redis (sessions' helpers, queues); the report is not kept
    redis.start()
    try:
        app = _app(url)
        app.config.update(KPI_CACHE_SECONDS=0, WTF_CSRF_ENABLED=False, REDIS_URL=redis.url)
        client = app.test_client()
        r = client.post("/login", data={"username": ADMIN, "password": PASSWORD})
        if r.status_code != 303:
            raise SystemExit(f"sign-in failed: {r.status_code}")
        if client.get(f"/supervisor/kpis?from={date.today() - timedelta(days=days - 1)}").status_code != 200:
            raise SystemExit("the KPI page did not answer")  # (untimed: the first request imports and compiles)
        profiler = cProfile.Profile() if profile else None
        times = []
        for n in range(windows):
            end = date.today() - timedelta(days=(n * 7919 + 5) % (DAYS - days))
            path = f"/supervisor/kpis?from={(end - timedelta(days=days - 1)).isoformat()}&to={end.isoformat()}"
            t0 = time.perf_counter()
            if profiler:
                profiler.enable()
            r = client.get(path)
            if profiler:
                profiler.disable()
            times.append(time.perf_counter() - t0)
            if r.status_code != 200:
                raise SystemExit(f"{path}: {r.status_code} {r.text[:300]}")
        if profiler:
            profiler.dump_stats(str(profile))
        with app.app_context():
            db.engine.dispose()
    finally:
        redis.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"[kpis/in-process] {days}-day cold page (report + template) : median "
          f"{statistics.median(times) * 1000:7.1f} ms  p95 {_pct(times, 0.95) * 1000:7.1f} ms  "
          f"max {max(times) * 1000:7.1f} ms  (n={len(times)})", flush=True)


def _start_gunicorn(url: str, redis_url: str, port: int, log: Path, workers: int, threads: int,
                    patience: float = 300) -> object:
    """bench.commands' start, with the patience a loaded shared box needs after a long seed
    (the app's first import there took over 30 s), and no server left behind when it fails."""
    import subprocess

    import requests

    env = dict(os.environ, DATABASE_URL=url, REDIS_URL=redis_url, PACKLINE_ENV="development")
    gunicorn = Path(sys.executable).parent / "gunicorn"
    proc = subprocess.Popen([str(gunicorn), "-b", f"127.0.0.1:{port}", "-w", str(workers), "--threads",
                             str(threads), "wsgi:app"], cwd=ROOT, env=env, stdout=log.open("wb"),
                            stderr=subprocess.STDOUT)
    deadline = time.time() + patience
    while True:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited:\n{log.read_text()[-3000:]}")
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200:
                return proc
        except requests.RequestException:
            pass
        if time.time() > deadline:
            _stop(proc)
            raise SystemExit(f"gunicorn did not answer /healthz:\n{log.read_text()[-3000:]}")
        time.sleep(0.5)


def _drive(base: str, which: str, clients: int, requests_total: int, seconds: float) -> dict:
    import threading

    import requests

    sessions = [_signed_in(base, ADMIN) if which != "healthz" else requests.Session() for _ in range(clients)]
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors: list[str] = []
    stop_at = time.perf_counter() + seconds
    ninety = (date.today() - timedelta(days=89)).isoformat()

    def window(n: int) -> str:
        end = date.today() - timedelta(days=(n * 7919 + clients) % (DAYS - 14))
        return f"from={(end - timedelta(days=13)).isoformat()}&to={end.isoformat()}"

    def path(n: int) -> str:
        if which == "kpis-cold":  # a different 14-day window each time: never a kept report
            return f"/supervisor/kpis?{window(n)}"
        if which == "charts":  # the six images of the kpis-cold pages just shown, drawn for the first time
            return f"/supervisor/kpis/charts/{CHART_NAMES[n % 6]}.svg?{window(n // 6)}"
        if which == "kpis":
            return {1: f"/supervisor/kpis?from={ninety}", 3: "/supervisor/kpis?location=K-07",
                    5: f"/supervisor/kpis?from={ninety}", 7: "/supervisor/kpis?channel=trendyol"}.get(
                n % 8, "/supervisor/kpis")
        return "/reports/orders/" if which == "explorer" else "/healthz"

    def client(k: int) -> None:
        session, mine = sessions[k], latencies[k]
        try:
            for n in range(requests_total // clients):
                if time.perf_counter() > stop_at or len(errors) >= 20:
                    return
                t0 = time.perf_counter()
                r = session.get(base + path(n + k), timeout=120, allow_redirects=False)
                mine.append(time.perf_counter() - t0)
                if r.status_code != 200:
                    errors.append(f"{which} {path(n + k)}: {r.status_code} {r.text[:200]}")
        except Exception as exc:  # a client must never hang the benchmark
            errors.append(f"{which} client {k}: {type(exc).__name__}: {exc}")
        finally:
            session.close()

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + 180)
    flat = [v for part in latencies for v in part]
    return {"requests": len(flat), "seconds": time.perf_counter() - started, "latencies": flat, "errors": errors}


def server_times(log: Path, offset: int, end: int, which: str) -> list[float]:
    """The `duration_ms` of every 200 GET of `which`'s route logged between two log offsets."""
    import json

    out: list[float] = []
    with log.open("rb") as fh:
        fh.seek(offset)
        for raw in fh.read(end - offset).splitlines():
            if b'"duration_ms"' not in raw:
                continue
            try:
                line = json.loads(raw)
            except ValueError:
                continue
            if line.get("method") == "GET" and line.get("status") == 200 and _ROUTE[which].match(line.get("path", "")):
                out.append(float(line["duration_ms"]))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default=os.environ.get("BENCH_DATABASE_URL", "sqlite"),
                        help="sqlite (default) or a postgresql:// server URL (a scratch database is created)")
    parser.add_argument("--packages", type=int, default=1_000_000, help="packages in the database (one per order)")
    parser.add_argument("--requests", type=int, default=200, help="GETs per page kind")
    parser.add_argument("--clients", type=int, default=4, help="concurrent client threads")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--keep", action="store_true", help="do not drop the scratch database (prints its URL)")
    parser.add_argument("--seed-only", action="store_true",
                        help="fill a scratch database, keep it, print its URL and stop (no rollup, no requests)")
    parser.add_argument("--reuse", metavar="URL",
                        help="a database filled by --seed-only: migrate it, roll it up and measure; it is kept")
    parser.add_argument("--skip-rollup", action="store_true",
                        help="with --reuse: the database is already rolled up (by an earlier --reuse run)")
    parser.add_argument("--in-process", type=int, metavar="N", default=0,
                        help="with --reuse: (roll up unless --skip-rollup, then) only time N whole cold pages and N cold reports "
                             "in this process, the reports through the histograms and through the per-day bucket rollup "
                             "(14 and 90 days), and stop")
    parser.add_argument("--pages-only", action="store_true",
                        help="with --in-process: only the whole cold pages, not the report compared both ways")
    parser.add_argument("--profile", type=Path, metavar="FILE",
                        help="with --in-process: write the cProfile of the 14-day cold pages to FILE")
    args = parser.parse_args(argv)
    if args.in_process:
        if not args.reuse:
            raise SystemExit("--in-process needs --reuse URL (a database filled by --seed-only)")
        if not args.skip_rollup:
            seed(args.reuse, args.packages, fill=False)
        pages_in_process(args.reuse, args.in_process, 14, args.profile)
        pages_in_process(args.reuse, max(2, args.in_process // 4), 90)
        if not args.pages_only:
            in_process(args.reuse, args.in_process, 14)
            in_process(args.reuse, max(2, args.in_process // 4), 90)
        return 0
    if args.packages < 1000:
        raise SystemExit("--packages must be at least 1,000")

    if args.reuse:
        url, drop = args.reuse, (lambda: None)
        args.keep = True
    else:
        url, drop = _database(args.database)
    if args.seed_only:
        timings = seed(url, args.packages, roll_up=False)
        print(f"[kpis] seeded {args.packages:,} packages with {timings['transition_rows']:,} transition rows in "
              f"{timings['insert_s']:.0f} s; kept {url}", flush=True)
        return 0
    kind = url.split(":", 1)[0].split("+")[0]
    tmp = Path(tempfile.mkdtemp(prefix="packline-bench-kpis-"))
    redis = _Redis(tmp)
    gunicorn = None
    log = tmp / "gunicorn.log"
    results: dict[str, dict] = {}
    try:
        timings = seed(url, args.packages, fill=not args.reuse,
                       roll_up="done" if args.reuse and args.skip_rollup else True)
        if not args.reuse:
            print(f"[kpis/{kind}] seeded {args.packages:,} packages with {timings['transition_rows']:,} transition "
                  f"rows over {DAYS} days, {LOCATIONS} locations, {len(CHANNELS)} channels in "
                  f"{timings['insert_s']:.0f} s", flush=True)
        if "rollup_s" in timings:
            print(f"[kpis/{kind}] rollup of every day: {timings['rollup_s']:.0f} s "
                  f"({timings['rollup_rows']}); the periodic job's recent days: {timings['recent_rollup_s']:.2f} s",
                  flush=True)
        redis.start()
        port = _free_port()
        os.environ["PACKLINE_LOG_FORMAT"] = "json"
        gunicorn = _start_gunicorn(url, redis.url, port, log, args.workers, args.threads)
        base = f"http://127.0.0.1:{port}"
        for which in PAGES:
            warm = _drive(base, which, args.clients, args.clients * 2, 120)
            if warm["errors"]:
                raise SystemExit(f"warm-up failed: {warm['errors'][:3]}")
        runs = []
        servers: dict[str, list[float]] = {k: [] for k in PAGES}
        # healthz before and after the pages, so a machine that slows down mid-run shows up in it
        for which in ("healthz", "kpis", "kpis-cold", "charts", "explorer", "healthz"):
            offset = log.stat().st_size
            count = args.requests // 2 if which == "healthz" else args.requests * 6 if which == "charts" else args.requests
            runs.append((which, _drive(base, which, args.clients, count, 600)))
            time.sleep(0.5)  # let gunicorn's log catch up
            servers[which] += server_times(log, offset, log.stat().st_size, which)
        for which, r in runs:
            merged = results.setdefault(which, {"requests": 0, "seconds": 0.0, "latencies": [], "errors": []})
            merged["requests"] += r["requests"]
            merged["seconds"] += r["seconds"]
            merged["latencies"] += r["latencies"]
            merged["errors"] += r["errors"]
    finally:
        _stop(gunicorn)
        redis.stop()
        log_tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
        shutil.rmtree(tmp, ignore_errors=True)
        if args.keep:
            print(f"[kpis/{kind}] kept {url}")
        else:
            drop()

    print(f"[kpis/{kind}] gunicorn -w {args.workers} --threads {args.threads}, {args.clients} client threads over "
          f"loopback; {args.packages:,} packages")
    print(f"[kpis/{kind}] {'page':9} {'req/s':>7} {'server p50':>11} {'p95':>7} {'p99':>7} {'mean':>7}   "
          f"{'client p50':>10} {'p95':>7}  (ms)")
    for which in PAGES:
        r, server = results[which], servers[which]
        rate = r["requests"] / r["seconds"] if r["seconds"] else 0.0
        print(f"[kpis/{kind}] {which:9} {rate:7.1f} {_pct(server, 0.5):>11.1f} {_pct(server, 0.95):>7.1f} "
              f"{_pct(server, 0.99):>7.1f} {statistics.fmean(server) if server else 0:7.1f}   "
              f"{_pct(r['latencies'], 0.5) * 1000:>10.1f} {_pct(r['latencies'], 0.95) * 1000:>7.1f}  (n={len(server)})")
    base_p95 = _pct(servers["healthz"], 0.95)
    for which in ("kpis", "kpis-cold", "charts", "explorer"):
        p95 = _pct(servers[which], 0.95)
        print(f"[kpis/{kind}] {which}: server p95 {p95:.1f} ms = {p95 / max(base_p95, 1e-9):.1f}x /healthz's "
              f"{base_p95:.1f} ms")
    errors = [e for r in results.values() for e in r["errors"]]
    for e in errors[:10]:
        print(f"[kpis/{kind}] ERROR {e}")
    if errors and log_tail:
        print(f"[kpis/{kind}] gunicorn log tail:\n{log_tail}")
    for which in ("kpis", "kpis-cold"):
        p95 = _pct(servers[which], 0.95)
        print(f"[kpis/{kind}] target KPI page ({which}) server p95 <= 300 ms: "
              f"{'PASS' if p95 <= 300 else 'BELOW TARGET'}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
