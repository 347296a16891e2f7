"""Stock import benchmark (issue 15: 100,000 stock rows in <= 30 s on both databases): a CSV of
100,000 absolute figures over 200 locations and 20,000 SKUs, imported the way an admin's upload
is (the file kept in Redis, `start_import`, a real RQ worker running the slices on the `imports`
queue until the run is finished), next to a same-run baseline: the same stock and ledger rows
written with plain multi-row statements, committed per chunk, into an identical copy of the
database, with no file to read, no validation, no lookups and no progress.

    python -m bench.imports                        # SQLite in a temporary directory
    python -m bench.imports --database postgresql://postgres@/packline?host=/tmp/pg&port=5433

Needs redis-server on PATH (a private one is started on a unix socket in a temporary directory).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.planning import _database, _rss_mb, cpu_reference

TARGET_SECONDS = 30


def _app(url: str, redis_url: str | None = None):
    from app import create_app
    from app.config import Config

    class BenchConfig(Config):
        SQLALCHEMY_DATABASE_URI = url
        REDIS_URL = redis_url
        RQ_SYNC = redis_url is None

    return create_app(BenchConfig)


# --- data ------------------------------------------------------------------------------------

def generate(url: str, rows: int, locations: int, skus: int, directory: Path, seed: int = 20261208) -> dict:
    """Locations, products and 300,000 stock rows in the database; the CSV in `directory`: 60% of
    its rows name an existing stock row (a tenth of them with the figure it already has), 40% a
    new one, in random order, plus one bad line per thousand (unknown SKU, negative figure)."""
    from flask_migrate import upgrade
    from sqlalchemy import insert, select

    from app.extensions import db
    from app.models import Product, Stock, StockLocation

    rng = random.Random(seed)
    app = _app(url)
    with app.app_context():
        upgrade()
        s = db.session
        s.execute(insert(StockLocation), [
            {"code": f"ST-{n:03d}", "name": f"Store {n}", "type": "store", "city": "Istanbul", "latitude": 41.0,
             "longitude": 29.0, "priority": 10, "is_packaging_center": True, "is_transfer_source": True,
             "is_pickup_location": True, "active": True, "tags": []} for n in range(locations)])
        for start in range(0, skus, 5000):
            s.execute(insert(Product), [{"sku": f"SKU-{n:05d}", "name": f"Product {n}", "weight_kg": 0.5}
                                        for n in range(start, min(skus, start + 5000))])
        loc_ids = list(s.scalars(select(StockLocation.id).order_by(StockLocation.id)))
        product_ids = list(s.scalars(select(Product.id).order_by(Product.id)))
        pairs = rng.sample(range(locations * skus), 300_000 + rows)
        existing, fresh = pairs[:300_000], pairs[300_000:]
        figures = {pair: rng.randint(1, 50) for pair in existing}
        for start in range(0, len(existing), 20_000):
            s.execute(insert(Stock), [{"location_id": loc_ids[p // skus], "product_id": product_ids[p % skus],
                                       "on_hand": figures[p], "reserved": 0} for p in existing[start:start + 20_000]])
        s.commit()
        db.engine.dispose()
    named = existing[:rows * 6 // 10] + fresh[:rows - rows * 6 // 10]
    rng.shuffle(named)
    lines = ["location,sku,quantity"]
    for n, pair in enumerate(named):
        code, sku = f"ST-{pair // skus:03d}", f"SKU-{pair % skus:05d}"
        quantity = figures.get(pair, 0) if n % 10 == 0 else rng.randint(0, 80)
        if n % 1000 == 500:
            sku, quantity = "NO-SUCH-SKU", 1
        elif n % 1000 == 900:
            quantity = -1
        lines.append(f"{code},{sku},{quantity}")
    path = directory / "stock.csv"
    path.write_text("\n".join(lines) + "\n")
    return {"file": str(path), "bytes": path.stat().st_size, "existing": len(existing)}


def _clone(url: str) -> tuple[str, callable]:
    """An identical copy of the generated database, and a function that removes it."""
    if url.startswith("sqlite"):
        source = Path(url.split("///", 1)[1])
        target = source.with_name("baseline.db")
        shutil.copyfile(source, target)
        return f"sqlite:///{target}", lambda: target.unlink(missing_ok=True)
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    name = f"{parsed.database}_baseline"
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{parsed.database}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return parsed.set(database=name).render_as_string(hide_password=False), drop


def _start_redis(directory: Path) -> tuple[str, subprocess.Popen]:
    server = shutil.which("redis-server")
    if server is None:
        raise SystemExit("redis-server is not on PATH (apt-get install redis-server)")
    socket = directory / "redis.sock"
    proc = subprocess.Popen([server, "--port", "0", "--unixsocket", str(socket), "--save", "", "--appendonly", "no",
                             "--dir", str(directory)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 10
    while not socket.exists():
        if time.time() > deadline:
            raise SystemExit("redis-server did not start")
        time.sleep(0.02)
    return f"unix://{socket}", proc


# --- phases (child processes) ----------------------------------------------------------------

def phase_import(url: str, redis_url: str, path: str) -> dict:
    from rq import Queue, SimpleWorker
    from rq.registry import FinishedJobRegistry
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import ImportRun, StockLedger
    from app.queues import redis_connection
    from app.services import imports
    from app.services.actors import Actor
    from app.tasks import set_app

    app = _app(url, redis_url)
    set_app(app)
    content = Path(path).read_bytes()
    with app.app_context():
        connection = redis_connection()
        started = time.perf_counter()
        run_id = imports.start_import("stock", "stock.csv", content, Actor.system("bench")).id
        worker = SimpleWorker([Queue("imports", connection=connection)], connection=connection)
        worker.work(burst=True, logging_level="WARNING")
        elapsed = time.perf_counter() - started
        db.session.rollback()
        run = db.session.get(ImportRun, run_id)
        ledger = db.session.scalar(select(func.count()).select_from(StockLedger))
        return {"seconds": elapsed, "status": run.status, "done": run.done, "updated": run.updated,
                "rejected": run.rejected, "slices": FinishedJobRegistry("imports", connection=connection).count, "ledger_rows": ledger,
                "per_second": run.done / elapsed if elapsed else 0, "peak_rss_mb": _rss_mb()}


def phase_baseline(url: str, path: str) -> dict:
    """The same figures written straight: codes and SKUs resolved up front (not timed), then per
    chunk of CHUNK rows one read of the existing rows, one UPDATE, one INSERT, the ledger, a commit."""
    import csv

    from sqlalchemy import select

    from app.extensions import db
    from app.models import Product, StockLedger, StockLocation
    from app.models.base import utcnow
    from app.services.imports.rows import STOCK_CHUNK as CHUNK
    from app.services.planning.writer import bulk_insert, rows_from

    app = _app(url)
    with app.app_context():
        locations = dict(db.session.execute(select(StockLocation.code, StockLocation.id)).all())
        products = dict(db.session.execute(select(Product.sku, Product.id)).all())
        with open(path, newline="") as handle:
            reader = csv.reader(handle)
            next(reader)
            figures = [(locations[c], products[s], int(q)) for c, s, q in reader if s in products and int(q) >= 0]
        db.session.rollback()
        started = time.perf_counter()
        ledger_rows = 0
        for start in range(0, len(figures), CHUNK):
            chunk = {(loc, pid): q for loc, pid, q in figures[start:start + CHUNK]}
            db.session.connection(execution_options={"sqlite_immediate": True})
            now = utcnow()
            held = {(loc, pid): on_hand for loc, pid, on_hand in rows_from(
                "SELECT stock.location_id, stock.product_id, stock.on_hand FROM stock JOIN {rows} "
                "ON stock.location_id = v.l AND stock.product_id = v.p", (("l", "int"), ("p", "int")),
                sorted(chunk), {})}
            changed = [(*pair, q) for pair, q in chunk.items() if pair in held and held[pair] != q]
            new = [(*pair, q) for pair, q in chunk.items() if pair not in held]
            columns = (("l", "int"), ("p", "int"), ("q", "int"))
            rows_from("UPDATE stock SET on_hand = v.q, updated_at = :now FROM {rows} "
                      "WHERE stock.location_id = v.l AND stock.product_id = v.p", columns, changed, {"now": now})
            rows_from("INSERT INTO stock (location_id, product_id, on_hand, reserved, updated_at) "
                      "SELECT v.l, v.p, v.q, 0, :now FROM {rows}", columns, new, {"now": now})
            ledger = [{"location_id": loc, "product_id": pid, "on_hand_delta": q - held.get((loc, pid), 0),
                       "reserved_delta": 0, "on_hand_after": q, "reserved_after": 0, "reason": "import",
                       "actor": "system:bench", "reference": "import", "note": None, "created_at": now}
                      for loc, pid, q in changed + new if q != held.get((loc, pid), 0)]
            bulk_insert(StockLedger.__table__, ledger)
            ledger_rows += len(ledger)
            db.session.commit()
        elapsed = time.perf_counter() - started
    return {"seconds": elapsed, "rows": len(figures), "ledger_rows": ledger_rows, "chunk": CHUNK}


# --- driver ----------------------------------------------------------------------------------

def _child(*args: str) -> dict:
    out = subprocess.run([sys.executable, "-m", "bench.imports", *args], capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"{args[1]} phase failed:\n{out.stderr[-4000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default=os.environ.get("BENCH_DATABASE_URL", "sqlite"),
                        help="sqlite (default) or a postgresql:// server URL (scratch databases are created)")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--locations", type=int, default=200)
    parser.add_argument("--skus", type=int, default=20_000)
    parser.add_argument("--phase", choices=("import", "baseline"), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--redis", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.phase:
        result = (phase_import(args.url, args.redis, args.file) if args.phase == "import"
                  else phase_baseline(args.url, args.file))
        print(json.dumps(result))
        return 0

    url, drop = _database(args.database)
    kind = url.split(":", 1)[0].split("+")[0]
    directory = Path(tempfile.mkdtemp(prefix="packline-bench-imports-"))
    redis_url, redis_proc = _start_redis(directory)
    drop_copy = None
    try:
        started = time.perf_counter()
        data = generate(url, args.rows, args.locations, args.skus, directory)
        copy_url, drop_copy = _clone(url)
        print(f"[imports/{kind}] generated {args.locations} locations, {args.skus} SKUs, {data['existing']} stock "
              f"rows and a {args.rows}-row CSV ({data['bytes'] / 1e6:.1f} MB) in {time.perf_counter() - started:.1f}s")
        reference = cpu_reference()
        result = _child("--phase", "import", "--url", url, "--redis", redis_url, "--file", data["file"])
        base = _child("--phase", "baseline", "--url", copy_url, "--file", data["file"])
        reference = (reference + cpu_reference()) / 2
    finally:
        if drop_copy:
            drop_copy()
        drop()
        redis_proc.terminate()
        redis_proc.wait(timeout=10)
        shutil.rmtree(directory, ignore_errors=True)
    passed = result["status"] == "finished" and result["done"] == args.rows and result["seconds"] <= TARGET_SECONDS
    print(f"[imports/{kind}] import: {result['done']} rows in {result['seconds']:.2f}s "
          f"({result['per_second']:.0f} rows/s; {result['updated']} set, {result['rejected']} rejected, "
          f"{result['ledger_rows']} ledger rows, {result['slices']} slices), peak RSS {result['peak_rss_mb']:.0f} MB")
    print(f"[imports/{kind}] baseline (the same stock and ledger rows, bulk SQL, a commit per {base['chunk']} rows): "
          f"{base['seconds']:.2f}s ({base['ledger_rows']} ledger rows)")
    print(f"[imports/{kind}] machine: a 10M-step pure-Python loop took {reference:.2f}s (before/after average)")
    print(f"[imports/{kind}] the import costs {result['seconds'] / base['seconds']:.1f}x the baseline; "
          f"target <= {TARGET_SECONDS}s for {args.rows} rows: {'PASS' if passed else 'BELOW TARGET'}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
