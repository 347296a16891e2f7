"""Reservation race benchmark (SPEC §12): 50 concurrent reservers against stock 10 — exactly 10
succeed, 100 runs out of 100 — next to a same-run baseline: the same 50 single-unit conditional
UPDATEs (`on_hand - reserved >= 1`) run one after another on a single connection.

    python -m bench.reservations                    # SQLite in a temporary directory
    python -m bench.reservations --database postgresql://postgres@/packline?host=/tmp/pg&port=5433

Each run: a fresh product with stock 10 at one location and an out_of_stock package with 50
one-unit items (no reservations yet); 50 threads, each in its own app context (own session, own
connection from a pool of 50), wait on a barrier, then `begin_write()` + `stock.reserve` + commit,
exactly like tests/services/test_reservation_race.py. After the run: successes == 10, the stock
row is (10, 10), the ledger sums to it, 10 reservations and 10 `reserve` ledger rows exist.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from bench.planning import _database, _p95

RESERVERS = 50
AVAILABLE = 10


def _apps(url: str):
    from app import create_app
    from app.config import Config

    class BenchConfig(Config):
        SQLALCHEMY_DATABASE_URI = url
        RQ_SYNC = True

    class RaceConfig(BenchConfig):
        SQLALCHEMY_ENGINE_OPTIONS = {"pool_size": RESERVERS, "max_overflow": 0, "pool_timeout": 60}

    return create_app(BenchConfig), create_app(RaceConfig)


def _setup(run_no: int, location_id: int, channel_id: int):
    """One fresh product with stock AVAILABLE and a package of RESERVERS unreserved one-unit items."""
    from app.extensions import db
    from app.models import Order, OrderItem, Product, ProductBarcode
    from app.services import stock, workorders

    product = Product(sku=f"RACE-{run_no}", name=f"Race {run_no}", weight_kg=0.5)
    product.barcodes.append(ProductBarcode(barcode=f"777{run_no:010d}"))
    db.session.add(product)
    db.session.flush()
    stock.set_on_hand(location_id, product.id, AVAILABLE, "system:bench")
    order = Order(number=f"RACE-{run_no}", channel_id=channel_id, placed_at=_now(), status="new",
                  delivery_type="cargo", customer_name="Bench", ship_city="Istanbul", ship_country="TR")
    for _ in range(RESERVERS):
        order.items.append(OrderItem(product=product, quantity=1))
    db.session.add(order)
    db.session.flush()
    package = workorders.create_package(order, location_id, [workorders.Line(i, 1) for i in order.items],
                                        "out_of_stock", "system:bench", reserve=False)
    db.session.flush()
    item_ids = [i.id for i in package.items]
    product_id = product.id
    db.session.commit()
    return product_id, item_ids


def _now():
    from datetime import UTC, datetime

    return datetime.now(UTC).replace(tzinfo=None)


def _reserver(race_app, barrier: threading.Barrier, location_id: int, product_id: int, item_id: int) -> bool:
    from app.extensions import db
    from app.services import stock
    from app.services.db import begin_write

    with race_app.app_context():
        try:
            barrier.wait(timeout=30)
            begin_write()
            stock.reserve([stock.Need(location_id, product_id, 1, package_item_id=item_id)],
                          f"system:race-{item_id}", "RACE")
            db.session.commit()
            return True
        except stock.InsufficientStock:
            db.session.rollback()
            return False
        finally:
            db.session.remove()


def _check(location_id: int, product_id: int, wins: int) -> list[str]:
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import Reservation, Stock, StockLedger

    db.session.expire_all()
    problems = []
    if wins != AVAILABLE:
        problems.append(f"{wins} reservers succeeded")
    row = db.session.execute(select(Stock.on_hand, Stock.reserved).where(
        Stock.location_id == location_id, Stock.product_id == product_id)).one()
    if tuple(row) != (AVAILABLE, AVAILABLE):
        problems.append(f"stock (on_hand, reserved) = {tuple(row)}")
    sums = db.session.execute(select(func.coalesce(func.sum(StockLedger.on_hand_delta), 0),
                                     func.coalesce(func.sum(StockLedger.reserved_delta), 0)).where(
        StockLedger.location_id == location_id, StockLedger.product_id == product_id)).one()
    if tuple(int(v) for v in sums) != tuple(row):
        problems.append(f"ledger sums {tuple(sums)} != stock {tuple(row)}")
    reserved = db.session.scalar(select(func.coalesce(func.sum(Reservation.quantity), 0))
                                 .where(Reservation.product_id == product_id))
    if reserved != AVAILABLE:
        problems.append(f"reservations hold {reserved}")
    reserve_rows = db.session.scalar(select(func.count(StockLedger.id)).where(
        StockLedger.product_id == product_id, StockLedger.reason == "reserve"))
    if reserve_rows != AVAILABLE:
        problems.append(f"{reserve_rows} reserve ledger rows")
    db.session.rollback()
    return problems


def _baseline(location_id: int, product_id: int) -> float:
    """The raw database cost of the same race: 50 single-unit conditional UPDATEs in turn on one
    connection, each in its own committed transaction (10 match, 40 find no available unit)."""
    from sqlalchemy import text

    from app.extensions import db

    engine = db.engine
    with engine.connect() as conn:
        conn.execute(text("UPDATE stock SET reserved = 0 WHERE location_id = :l AND product_id = :p"),
                     {"l": location_id, "p": product_id})
        conn.commit()
        started = time.perf_counter()
        matched = 0
        for _ in range(RESERVERS):
            row = conn.execute(text("UPDATE stock SET reserved = reserved + 1 WHERE location_id = :l "
                                    "AND product_id = :p AND on_hand - reserved >= 1 RETURNING on_hand, reserved"),
                               {"l": location_id, "p": product_id}).first()
            conn.commit()
            matched += row is not None
        elapsed = time.perf_counter() - started
        conn.execute(text("UPDATE stock SET reserved = :r WHERE location_id = :l AND product_id = :p"),
                     {"l": location_id, "p": product_id, "r": AVAILABLE})
        conn.commit()
    if matched != AVAILABLE:
        raise SystemExit(f"baseline matched {matched} updates, expected {AVAILABLE}")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default=os.environ.get("BENCH_DATABASE_URL", "sqlite"),
                        help="sqlite (default) or a postgresql:// server URL (a scratch database is created)")
    parser.add_argument("--runs", type=int, default=100)
    parser.add_argument("--time-limit", type=float, default=300.0, help="stop after this many seconds")
    args = parser.parse_args(argv)

    url, drop = _database(args.database)
    kind = url.split(":", 1)[0].split("+")[0]
    race_times: list[float] = []
    base_times: list[float] = []
    failures: list[str] = []
    try:
        from flask_migrate import upgrade

        from app.extensions import db
        from app.models import Channel, StockLocation

        app, race_app = _apps(url)
        with app.app_context():
            upgrade()
            channel = Channel(code="web", name="Web", provides_shipping_label=False)
            location = StockLocation(code="RACE", name="Race store", type="store", city="Istanbul",
                                     latitude=41.0, longitude=29.0, priority=10, is_packaging_center=True,
                                     is_transfer_source=True, is_pickup_location=True, active=True, tags=[])
            db.session.add_all([channel, location])
            db.session.commit()
            location_id, channel_id = location.id, channel.id
        started = time.perf_counter()
        pool = ThreadPoolExecutor(max_workers=RESERVERS)
        try:
            for run_no in range(args.runs):
                if time.perf_counter() - started > args.time_limit:
                    failures.append(f"time limit {args.time_limit:.0f}s reached after {run_no} runs")
                    break
                with app.app_context():
                    product_id, item_ids = _setup(run_no, location_id, channel_id)
                barrier = threading.Barrier(RESERVERS)
                t0 = time.perf_counter()
                futures = [pool.submit(_reserver, race_app, barrier, location_id, product_id, i) for i in item_ids]
                results = [f.result(timeout=120) for f in futures]
                race_times.append(time.perf_counter() - t0)
                with app.app_context():
                    problems = _check(location_id, product_id, results.count(True))
                    if problems:
                        failures.append(f"run {run_no}: " + "; ".join(problems))
                    base_times.append(_baseline(location_id, product_id))
        finally:
            pool.shutdown(wait=True)
            for a in (race_app, app):
                with a.app_context():
                    db.engine.dispose()
    finally:
        drop()

    passed = len(race_times) - len([f for f in failures if f.startswith("run ")])
    ms = 1000.0
    print(f"[reservations/{kind}] {RESERVERS} concurrent reservers against stock {AVAILABLE}: "
          f"{passed}/{args.runs} runs exactly {AVAILABLE} succeeded and stock/ledger/reservations agree")
    if race_times:
        print(f"[reservations/{kind}] race per run: p50 {sorted(race_times)[len(race_times) // 2] * ms:.1f} ms, "
              f"p95 {_p95(race_times) * ms:.1f} ms, max {max(race_times) * ms:.1f} ms "
              f"({RESERVERS / _p95(race_times):.0f} reservation attempts/s at p95)")
        print(f"[reservations/{kind}] baseline ({RESERVERS} conditional UPDATEs + commits in turn, one connection): "
              f"p50 {sorted(base_times)[len(base_times) // 2] * ms:.1f} ms, p95 {_p95(base_times) * ms:.1f} ms")
        print(f"[reservations/{kind}] race costs {_p95(race_times) / _p95(base_times):.1f}x the baseline at p95")
    for failure in failures[:10]:
        print(f"[reservations/{kind}] FAIL {failure}")
    ok = passed == args.runs and not failures
    print(f"[reservations/{kind}] target: exactly {AVAILABLE} succeed, {args.runs} runs out of {args.runs}: "
          f"{'PASS' if ok else 'FAIL'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
