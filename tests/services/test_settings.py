"""Settings writes under concurrency: two admins saving a key nobody set yet both succeed."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from app import create_app
from app.config import TestConfig
from app.extensions import db
from app.models import Setting
from app.services.settings import get_setting, put_setting

WRITERS = 8


@pytest.fixture
def writers_app(app):
    class WritersConfig(TestConfig):
        SQLALCHEMY_DATABASE_URI = app.config["SQLALCHEMY_DATABASE_URI"]
        REDIS_URL = app.config["REDIS_URL"]
        SQLALCHEMY_ENGINE_OPTIONS = {"pool_size": WRITERS, "max_overflow": 0, "pool_timeout": 60}

    other = create_app(WritersConfig)
    yield other
    with other.app_context():
        db.engine.dispose()


def _writer(writers_app, barrier: threading.Barrier, key: str, value: int) -> str:
    with writers_app.app_context():
        try:
            barrier.wait(timeout=30)
            put_setting(key, value)
            return "ok"
        except Exception as exc:  # noqa: BLE001 - the test reports what went wrong
            return f"{type(exc).__name__}: {exc}"
        finally:
            db.session.remove()


@pytest.mark.parametrize("round_", range(5))
def test_admins_saving_a_new_key_at_the_same_moment_all_succeed(app, writers_app, round_):
    key = f"REPLAN_INTERVAL_MINUTES_{round_}"
    barrier = threading.Barrier(WRITERS)
    with ThreadPoolExecutor(WRITERS) as pool:
        results = list(pool.map(lambda n: _writer(writers_app, barrier, key, n + 1), range(WRITERS)))

    assert results == ["ok"] * WRITERS
    db.session.expire_all()
    assert db.session.get(Setting, key).value in range(1, WRITERS + 1)


def test_saving_a_setting_twice_keeps_one_row_with_the_last_value(app):
    put_setting("REQUIRE_SCAN_TO_PACK", True)
    put_setting("REQUIRE_SCAN_TO_PACK", False)
    assert db.session.query(Setting).filter_by(key="REQUIRE_SCAN_TO_PACK").count() == 1
    assert get_setting("REQUIRE_SCAN_TO_PACK") is False
