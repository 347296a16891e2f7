"""A setting the scheduler cannot use (stored before settings were checked, or written straight
into the table) never stops the other periodic jobs: that job runs at its default and one line
is logged (real Redis, real database)."""

from __future__ import annotations

import logging
import time

import pytest
from rq import Queue

from app.extensions import db
from app.models import Setting
from app.queues import redis_connection
from app.worker import PERIODIC, _import_task_modules, tick


def _start_of_an_hour() -> float:
    """A moment just after a whole hour: the two ticks of a test (5 s apart) fall in the same slot
    of every interval that divides an hour. With the wall clock, a run a few seconds before a
    half hour saw its second tick in the next slot and the job enqueued again (a CI run at 14:00)."""
    return time.time() // 3600 * 3600 + 10


@pytest.mark.parametrize("value", [10**20, 1e20, "soon", -5])
def test_an_unusable_interval_setting_runs_at_its_default_and_the_other_jobs_still_run(app, value, caplog):
    _import_task_modules()  # what a worker does at start: every periodic job registered
    db.session.add(Setting(key="REPLAN_INTERVAL_MINUTES", value=value))
    db.session.add(Setting(key="REQUISITION_INTERVAL_MINUTES", value=value))
    db.session.commit()
    db.session.remove()  # the scheduler's tick runs in an app context of its own: a new session
    conn = redis_connection()
    now = _start_of_an_hour()
    with caplog.at_level(logging.WARNING):
        enqueued = tick(app, conn, now)
        again = tick(app, conn, now + 5)
    assert sorted(enqueued) == sorted(p.name for p in PERIODIC)
    # the bad setting's job runs on its default period (30 and 60 minutes)
    assert conn.exists(f"packline:periodic:replan-out-of-stock:{int(now // 1800)}"), sorted(k.decode() for k in conn.keys("packline:periodic:*"))
    assert conn.exists(f"packline:periodic:propose-requisitions:{int(now // 3600)}")
    assert Queue("planning", connection=conn).fetch_job(f"periodic-replan-out-of-stock-{int(now // 1800)}")
    assert "replan-out-of-stock" not in again
    lines = [r.getMessage() for r in caplog.records if "REPLAN_INTERVAL_MINUTES" in r.getMessage()]
    assert len(lines) <= 1  # one line, not one every tick


def test_a_job_whose_interval_fails_runs_at_its_default_without_stopping_the_jobs_after_it(app, caplog, monkeypatch):
    from app.worker import Periodic

    def broken(app):
        raise ValueError("value is not an integer or out of range")

    first = Periodic("broken-first", "default", "app.tasks.housekeeping.housekeeping", broken, default=120)
    huge = Periodic("huge-second", "default", "app.tasks.housekeeping.housekeeping", lambda app: 6 * 10**21, default=240)
    monkeypatch.setattr("app.worker.PERIODIC", [first, huge, *PERIODIC])
    conn = redis_connection()
    now = _start_of_an_hour()
    with caplog.at_level(logging.WARNING):
        enqueued = tick(app, conn, now)
        tick(app, conn, now + 1)
    assert sorted(enqueued) == sorted(["broken-first", "huge-second", *(p.name for p in PERIODIC)])
    assert conn.ttl(f"packline:periodic:broken-first:{int(now // 120)}") <= 240
    assert conn.exists(f"packline:periodic:huge-second:{int(now // 240)}")
    notes = [r.getMessage() for r in caplog.records if "periodic job" in r.getMessage()]
    assert len([n for n in notes if "broken-first" in n]) == 1
    assert len([n for n in notes if "huge-second" in n]) == 1
