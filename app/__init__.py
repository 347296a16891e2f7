"""Packline: an order management system for store fulfilment."""

from __future__ import annotations

import functools
import os
import time
from datetime import timedelta

from flask import Flask, request
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import Pool

from app import i18n, metrics
from app.config import MIN_SECRET_KEY_LENGTH, Config, load_config
from app.extensions import csrf, db, htmx, login_manager, migrate
from app.logs import configure_logging, register_request_id
from app.services.db import intend_write, write_intended


def create_app(config: type[Config] | dict | None = None) -> Flask:
    """Application factory: config -> extensions -> blueprints -> error handlers -> CLI.

    The environment is read here, not when `app.config` is imported (see `Config.from_env`).
    """
    settings = load_config(config)
    app = Flask(__name__, instance_path=str(settings["INSTANCE_DIR"]), instance_relative_config=False)
    app.config.update(settings)
    if app.config["ENV_NAME"] == "production" and len(app.config.get("SECRET_KEY") or "") < MIN_SECRET_KEY_LENGTH:
        raise RuntimeError(f"Set SECRET_KEY in the environment to a random value of at least {MIN_SECRET_KEY_LENGTH} "
                           "characters for production, e.g. python3 -c 'import secrets; "
                           "print(secrets.token_urlsafe(48))'.")
    app.permanent_session_lifetime = timedelta(minutes=app.config["SESSION_IDLE_MINUTES"])
    os.makedirs(app.instance_path, exist_ok=True)
    configure_logging(app.config["LOG_FORMAT"])

    _configure_database(app)
    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(__file__), "..", "migrations"))
    csrf.init_app(app)
    htmx.init_app(app)
    login_manager.init_app(app)
    i18n.init_app(app)

    register_request_id(app)  # first: every later hook logs with the request id
    _register_write_intent(app)  # before any hook that may read the database
    metrics.init_app(app)

    from app import models  # noqa: F401  (register every table on the metadata)
    from app.views import register_blueprints
    from app.views.errors import register_error_handlers
    from app.views.security import register_security

    register_security(app)
    register_blueprints(app)
    _filters_answer_per_request(app)
    register_error_handlers(app)
    from app.services.webhooks import install_relay

    install_relay(app)

    from app.cli import register_cli

    register_cli(app)
    return app


def _filters_answer_per_request(app: Flask) -> None:
    """Our template filters answer in the request's language (`'needs_attention' | state_label`
    is "Needs attention" or "İlgi bekliyor"). Jinja evaluates a filter applied to a literal once,
    when it compiles the template, unless the filter takes the render context — so the first
    request to render a template would fix its language for every later one. Each of ours takes
    the context (and ignores it)."""
    from jinja2.defaults import DEFAULT_FILTERS
    from jinja2.utils import pass_context

    def per_request(func):
        @pass_context
        @functools.wraps(func)
        def filter_(_context, *args, **kwargs):
            return func(*args, **kwargs)
        return filter_

    filters = app.jinja_env.filters
    filters["lower"] = i18n.lower  # Turkish lowers İ to i and I to ı ("İptal edildi" → "iptal edildi")
    for name, func in list(filters.items()):
        if func is not DEFAULT_FILTERS.get(name) and getattr(func, "jinja_pass_arg", None) is None:
            filters[name] = per_request(func)


def _register_write_intent(app: Flask) -> None:
    @app.before_request
    def _changes_queue_for_the_write_lock() -> None:
        intend_write(request.method in ("POST", "PUT", "PATCH", "DELETE"))

    @app.teardown_request
    def _request_done(_exc: BaseException | None) -> None:
        intend_write(False)


def _configure_database(app: Flask) -> None:
    uri: str = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("postgres://"):
        uri = "postgresql+psycopg://" + uri[len("postgres://") :]
    elif uri.startswith("postgresql://"):
        uri = "postgresql+psycopg://" + uri[len("postgresql://") :]
    app.config["SQLALCHEMY_DATABASE_URI"] = uri
    if uri.startswith("sqlite"):
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        options.setdefault("connect_args", {"timeout": 30, "check_same_thread": False})
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


@event.listens_for(Engine, "connect")
def _sqlite_on_connect(dbapi_connection, connection_record) -> None:  # pragma: no cover - driver hook
    import sqlite3

    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    # Let SQLAlchemy emit BEGIN itself (see _sqlite_begin) instead of pysqlite's lazy BEGIN.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # After a big write (a planning batch) and its checkpoint, shrink the WAL file back to 64 MB.
    cursor.execute("PRAGMA journal_size_limit=67108864")
    # A 32 MB page cache (SQLite's default is 2 MB) keeps the indexes that batch planning writes
    # to in memory across chunks: 10-15% faster batches (docs/benchmarks.md). Filled lazily.
    cursor.execute("PRAGMA cache_size=-32768")
    cursor.close()
    # `COLLATE turkish`: names sorted in the Turkish alphabet, as PostgreSQL's (migration 0020).
    from app.services.text_search import register_collation

    register_collation(dbapi_connection)


@event.listens_for(Pool, "reset")
def _sqlite_restore_checkpoints(dbapi_connection, connection_record, reset_state) -> None:  # pragma: no cover
    # Batch planning turns automatic WAL checkpoints off for its chunk transactions (see
    # services.planning.batch); whatever happens, the connection goes back to the pool with them on.
    if connection_record.info.pop("checkpoints_deferred", False):
        dbapi_connection.execute("PRAGMA wal_autocheckpoint=1000")


@event.listens_for(Engine, "begin")
def _sqlite_begin(conn) -> None:  # pragma: no cover - driver hook
    # Writers ask for BEGIN IMMEDIATE (see services.db.begin_write) so SQLite's write lock is
    # taken up front and concurrent writers queue on busy_timeout instead of failing.
    if conn.dialect.name == "sqlite":
        immediate = conn.get_execution_options().get("sqlite_immediate") or write_intended()
        if immediate:
            _begin_immediate(conn)
        else:
            conn.exec_driver_sql("BEGIN")


SQLITE_BUSY_SECONDS = 30.0


def _begin_immediate(conn) -> None:  # pragma: no cover - driver hook
    """Take SQLite's write lock within a millisecond or two of its release. SQLite's own busy
    handler sleeps longer and longer between tries (up to 100 ms each), so with several writers
    queued the next one typically noticed the free lock tens of milliseconds late — most of a
    command's p95 with 8 clients (docs/benchmarks.md). Here the handler is off for this one
    statement and the retries sleep 0.5 ms growing to 5 ms, for the same 30 s in all; every
    other statement keeps the 30 s busy timeout."""
    from sqlalchemy.exc import OperationalError

    raw = conn.connection.dbapi_connection
    raw.execute("PRAGMA busy_timeout=0")
    try:
        deadline, pause = None, 0.0005
        while True:
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
                return
            except OperationalError as exc:
                if "locked" not in str(exc.orig) and "busy" not in str(exc.orig):
                    raise
                now = time.monotonic()
                deadline = deadline or now + SQLITE_BUSY_SECONDS
                if now >= deadline:
                    raise
                time.sleep(pause)
                pause = min(pause * 1.5, 0.005)
    finally:
        raw.execute("PRAGMA busy_timeout=30000")
