"""Shared fixtures: a real Redis server, a migrated database (SQLite or PostgreSQL), the app.

TEST_DATABASE_URL=postgresql://user@host/db selects PostgreSQL; each pytest-xdist worker gets its
own database on that server. Every test starts from empty tables.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from app import create_app
from app.config import TestConfig
from app.extensions import db

WORKER = os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def tmp_root() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix=f"packline-test-{WORKER}-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


class RedisServer:
    """A private redis-server on a unix socket; can be stopped and restarted by tests."""

    def __init__(self, directory: Path):
        self.directory = directory
        self.socket = directory / "redis.sock"
        self.url = f"unix://{self.socket}"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        server = shutil.which("redis-server")
        if server is None:
            raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
        if self.socket.exists():
            self.socket.unlink()
        self.proc = subprocess.Popen(
            [server, "--port", "0", "--unixsocket", str(self.socket), "--save", "", "--appendonly", "no",
             "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.time() + 10
        while not self.socket.exists():
            if time.time() > deadline:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.proc = None


@pytest.fixture(scope="session")
def redis_server(tmp_root: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_root)
    server.start()
    yield server
    server.stop()


def pytest_collection_modifyitems(config, items) -> None:
    """The PostgreSQL run leaves out the tests marked `own_database`: they never use the database
    under test (`make run`'s supervisor starts on a SQLite file of its own), so the SQLite run
    already ran exactly them. They show as "deselected" in the summary, never as passed."""
    if not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"):
        return
    kept = [item for item in items if item.get_closest_marker("own_database") is None]
    if len(kept) < len(items):
        config.hook.pytest_deselected(items=[item for item in items if item not in kept])
        items[:] = kept


def pytest_terminal_summary(terminalreporter) -> None:
    if os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"):  # xdist does not count deselections
        terminalreporter.write_line("Left out of this PostgreSQL run: the tests marked own_database "
                                    "(they never use it; the SQLite run ran them).")


def _database_url(tmp_root: Path) -> str:
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        return f"sqlite:///{tmp_root / 'test.db'}"
    url = make_url(base.replace("postgresql://", "postgresql+psycopg://", 1)
                   if base.startswith("postgresql://") else base)
    # Unique per process, so several test runs can share one PostgreSQL server.
    name = f"{url.database or 'packline'}_test_{WORKER}_{os.getpid()}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def database_url(tmp_root: Path):
    url = _database_url(tmp_root)
    yield url
    if url.startswith("postgresql"):
        from app.extensions import db as _db

        try:
            _db.engine.dispose()
        except RuntimeError:
            pass
        parsed = make_url(url)
        admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def _app(database_url: str, redis_server: RedisServer, tmp_root: Path):
    from flask_migrate import upgrade

    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = database_url
        REDIS_URL = redis_server.url

    os.environ["PACKLINE_INSTANCE_DIR"] = str(tmp_root / "instance")
    app = create_app(Config)
    with app.app_context():
        upgrade()  # the real migration, never create_all
    from app.tasks import set_app

    set_app(app)
    return app


def _empty_all_tables() -> None:
    tables = [t for t in reversed(db.metadata.sorted_tables)]
    if db.engine.dialect.name == "postgresql":
        _empty_postgres_tables(tables)
    else:
        for table in tables:
            db.session.execute(table.delete())
        db.session.execute(text("DELETE FROM sqlite_sequence")) if _has_sqlite_sequence() else None
    db.session.commit()


# Configuration caches see the emptied tables as a change (as the triggers of migration 0011 would).
_BUMP_CONFIG_VERSION = text(
    "INSERT INTO config_versions (id, version, token) VALUES (1, 1, (random() * 9.0e18)::bigint) "
    "ON CONFLICT (id) DO UPDATE SET version = config_versions.version + 1, token = EXCLUDED.token")
# Every sequence of the schema a test drew from starts again (each belongs to a table's id column,
# so this is what TRUNCATE ... RESTART IDENTITY did).
_RESTART_USED_SEQUENCES = text(
    "SELECT setval(format('%I.%I', schemaname, sequencename)::regclass, start_value, false) "
    "FROM pg_sequences WHERE last_value IS NOT NULL AND schemaname = current_schema()")


def _empty_postgres_tables(tables) -> None:
    """DELETE FROM the tables that hold rows (children first), then restart the sequences used.
    A TRUNCATE of all 64 tables costs ~130 ms per test (new files for each table and index); most
    tests leave a handful of tables with a few rows."""
    holding = " UNION ALL ".join(f"SELECT {n} WHERE EXISTS (SELECT 1 FROM \"{t.name}\")"
                                 for n, t in enumerate(tables))
    filled = {n for (n,) in db.session.execute(text(holding))}
    for n, table in enumerate(tables):
        if n in filled:
            db.session.execute(text(f'DELETE FROM "{table.name}"'))
    db.session.execute(_RESTART_USED_SEQUENCES)
    db.session.execute(_BUMP_CONFIG_VERSION)


def _has_sqlite_sequence() -> bool:
    return bool(db.session.execute(
        text("SELECT 1 FROM sqlite_master WHERE name='sqlite_sequence'")).first())


@pytest.fixture
def app(_app, redis_server: RedisServer):
    if redis_server.proc is None or redis_server.proc.poll() is not None:
        redis_server.start()  # a test stopped it
    _app.config["WTF_CSRF_ENABLED"] = False  # csrf_client turns it on for its test only
    with _app.app_context():
        _empty_all_tables()
        from app.queues import redis_connection

        redis_connection().flushdb()
        from app.services.webhooks import reset_redis_backoff

        reset_redis_backoff()  # a previous test may have stopped Redis
        yield _app
        db.session.remove()


class IsolatedClient(FlaskClient):
    """Each request runs in its own app context, like a real request in another process:
    its own `g`, its own database session. Tests re-read rows (db.session.expire_all())."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def client(app):
    app.test_client_class = IsolatedClient
    return app.test_client()


@pytest.fixture
def csrf_client(app):
    """A client with CSRF checks on, as a real browser session would have."""
    app.config["WTF_CSRF_ENABLED"] = True
    app.test_client_class = IsolatedClient
    yield app.test_client()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def live_server(app):
    """The app served over real HTTP on 127.0.0.1 in a background thread."""
    from werkzeug.serving import make_server

    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    thread.join(timeout=5)


CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    """A tablet-sized page (768x1024) pointed at the live server."""
    context = browser.new_context(viewport={"width": 768, "height": 1024}, base_url=live_server)
    page = context.new_page()
    yield page
    context.close()
