"""Databases of a test's own: for tests that take a database up and down the migration chain or
hand it to processes they start, away from the worker's shared test database."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from flask import Flask
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

from app import create_app
from app.config import TestConfig
from app.extensions import db


@contextmanager
def postgres_database(url: URL, name: str) -> Iterator[URL]:
    """A new empty database `name` on the PostgreSQL server of `url` (one left over from an
    interrupted run is dropped first); dropped again afterwards."""
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield url.set(database=name)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def scratch_app(app: Flask, tmp_path: Path, label: str, *, sqlite: bool = False) -> Iterator[Flask]:
    """An app like `app` (same kind of database, same Redis) on an empty database of its own,
    not migrated: `<test database>_<label>` on PostgreSQL, `<label>.db` in tmp_path on SQLite
    (always SQLite with sqlite=True, whichever database the run tests)."""
    url = "sqlite://" if sqlite else app.config["SQLALCHEMY_DATABASE_URI"]
    with _scratch_url(url, tmp_path, label) as scratch:

        class ScratchConfig(TestConfig):
            SQLALCHEMY_DATABASE_URI = scratch
            REDIS_URL = app.config["REDIS_URL"]

        other = create_app(ScratchConfig)
        try:
            yield other
        finally:
            with other.app_context():
                db.session.remove()
                db.engine.dispose()  # no connection may be left when the database is dropped


@contextmanager
def _scratch_url(url: str, tmp_path: Path, label: str) -> Iterator[str]:
    if not url.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / f'{label}.db'}"
        return
    parsed = make_url(url)
    with postgres_database(parsed, f"{parsed.database}_{label.replace('-', '_')}") as scratch:
        yield scratch.render_as_string(hide_password=False)
