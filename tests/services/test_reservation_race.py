"""50 concurrent reservers against 10 available units: exactly 10 win, on both databases.

Each thread runs in its own app context, so it has its own session and its own connection from
an engine sized for 50 (a second app on the same database), and starts its transaction the way
services do (`begin_write`: BEGIN IMMEDIATE on SQLite, row locks on PostgreSQL).
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from app import create_app
from app.config import TestConfig
from app.extensions import db
from app.models import Reservation, StockLedger
from app.services import stock
from app.services.db import begin_write
from tests import factories
from tests.services.builders import ledger_sums, make_package, set_stock, stock_of

RESERVERS = 50
AVAILABLE = 10
ROUNDS = 20


@pytest.fixture
def race_app(app):
    class RaceConfig(TestConfig):
        SQLALCHEMY_DATABASE_URI = app.config["SQLALCHEMY_DATABASE_URI"]
        REDIS_URL = app.config["REDIS_URL"]
        SQLALCHEMY_ENGINE_OPTIONS = {"pool_size": RESERVERS, "max_overflow": 0, "pool_timeout": 60}

    other = create_app(RaceConfig)
    yield other
    with other.app_context():
        db.engine.dispose()


def _reserver(race_app, barrier: threading.Barrier, location_id: int, product_id: int, item_id: int) -> bool:
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


def test_fifty_concurrent_reservers_against_ten_units_exactly_ten_win(app, race_app):
    location = factories.location()
    for round_no in range(ROUNDS):
        sku = f"RACE-{round_no}"
        product = factories.product(sku=sku)
        set_stock(location, product, AVAILABLE)
        # 50 one-unit package items with no reservation yet: each thread tries to reserve for one.
        package = make_package("out_of_stock", items=[(sku, 1)] * RESERVERS, location=location, spare=0)
        item_ids = [i.id for i in package.items]
        location_id, product_id = location.id, product.id
        db.session.commit()

        barrier = threading.Barrier(RESERVERS)
        with ThreadPoolExecutor(max_workers=RESERVERS) as pool:
            futures = [pool.submit(_reserver, race_app, barrier, location_id, product_id, i) for i in item_ids]
            results = [f.result() for f in futures]

        assert results.count(True) == AVAILABLE, f"round {round_no}"
        assert stock_of(location, sku) == (AVAILABLE, AVAILABLE)
        assert ledger_sums(location, sku) == (AVAILABLE, AVAILABLE)
        reserved = db.session.scalar(select(func.coalesce(func.sum(Reservation.quantity), 0))
                                     .where(Reservation.product_id == product.id))
        assert reserved == AVAILABLE
        reserve_rows = db.session.scalar(select(func.count(StockLedger.id)).where(
            StockLedger.product_id == product.id, StockLedger.reason == "reserve"))
        assert reserve_rows == AVAILABLE


def test_concurrent_double_taps_with_the_same_version_apply_once(app, race_app):
    from app.services.errors import Conflict
    from app.services.packages import run_package_command
    from tests.services.builders import staff

    package = make_package("preparing", items=[("TAP-1", 5)])
    package_id, version, barcode = package.id, package.version, package.items[0].product.barcode_values[0]
    actor = staff(package.location)
    db.session.commit()
    taps = 10
    barrier = threading.Barrier(taps)

    def tap() -> str:
        with race_app.app_context():
            try:
                barrier.wait(timeout=30)
                run_package_command(package_id, "pick", {"barcode": barcode}, actor, expected_version=version)
                return "applied"
            except Conflict as exc:
                return exc.code
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=taps) as pool:
        outcomes = [f.result() for f in [pool.submit(tap) for _ in range(taps)]]
    assert sorted(outcomes) == ["applied"] + ["stale"] * (taps - 1)
    db.session.expire_all()
    from app.models import Package

    assert db.session.get(Package, package_id).items[0].picked_quantity == 1
