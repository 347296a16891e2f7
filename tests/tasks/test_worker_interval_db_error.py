"""A periodic job whose interval cannot be read because the database refused the read (here: a
table it reads was dropped) runs at its default, and the jobs after it in the same tick still
read their own intervals: the scheduler rolls the failed transaction back (on PostgreSQL every
statement after an error fails until then). Real database, real Redis, a real SQL error."""

from __future__ import annotations

import logging
import os

from sqlalchemy import text

from app.extensions import db
from app.models import Setting
from app.queues import redis_connection
from app.worker import PERIODIC, Periodic, _import_task_modules, tick
from tests.tasks.test_worker_bad_settings import _start_of_an_hour


def _scratch_table() -> str:
    """A table of the test's own (in a schema of its own on PostgreSQL), holding an interval."""
    if db.engine.dialect.name == "postgresql":
        schema = f"scratch_{os.getpid()}"
        db.session.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        name = f'"{schema}".intervals'
    else:
        name = f"scratch_intervals_{os.getpid()}"
    db.session.execute(text(f"CREATE TABLE {name} (seconds INTEGER)"))
    db.session.execute(text(f"INSERT INTO {name} VALUES (600)"))
    db.session.commit()
    return name


def test_a_database_error_reading_one_interval_leaves_the_other_jobs_of_the_tick_their_own(app, monkeypatch, caplog):
    _import_task_modules()
    db.session.add(Setting(key="REPLAN_INTERVAL_MINUTES", value=7))
    db.session.add(Setting(key="REQUISITION_INTERVAL_MINUTES", value=12))
    db.session.commit()
    table = _scratch_table()

    def from_the_table(app) -> int:
        return db.session.execute(text(f"SELECT seconds FROM {table}")).scalar_one()

    first = Periodic("from-a-table", "default", "app.tasks.housekeeping.housekeeping", from_the_table, default=120)
    monkeypatch.setattr("app.worker.PERIODIC", [first, *PERIODIC])
    conn = redis_connection()
    now = _start_of_an_hour()
    db.session.remove()
    try:
        assert "from-a-table" in tick(app, conn, now)  # it reads 600 s while the table is there
        assert conn.exists(f"packline:periodic:from-a-table:{int(now // 600)}")
        db.session.remove()
        db.session.execute(text(f"DROP TABLE {table}"))
        db.session.commit()
        db.session.remove()  # the scheduler's tick runs in an app context of its own: a new session
        conn.flushdb()
        with caplog.at_level(logging.WARNING):
            enqueued = tick(app, conn, now)
    finally:
        db.session.rollback()
        db.session.execute(text(f"DROP TABLE IF EXISTS {table}"))
        if "." in table:
            db.session.execute(text(f"DROP SCHEMA IF EXISTS {table.split('.')[0]} CASCADE"))
        db.session.commit()
    assert sorted(enqueued) == sorted(["from-a-table", *(p.name for p in PERIODIC)])
    keys = sorted(k.decode() for k in conn.keys("packline:periodic:*"))
    assert f"packline:periodic:from-a-table:{int(now // 120)}" in keys  # its default
    # the jobs after it read their stored intervals (7 and 12 minutes), not their defaults
    assert f"packline:periodic:replan-out-of-stock:{int(now // 420)}" in keys, keys
    assert f"packline:periodic:propose-requisitions:{int(now // 720)}" in keys, keys
    notes = [r.getMessage() for r in caplog.records if "periodic job" in r.getMessage()]
    assert [n for n in notes if "from-a-table" in n] and not [n for n in notes if "from-a-table" not in n], notes
