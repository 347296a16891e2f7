"""An export whose worker dies mid-file does not stay "running" for ever: its heartbeat stops, and
the run is marked failed with a message telling its owner to start it again (a real `flask
worker` process killed with SIGKILL after it committed its first chunk)."""

from __future__ import annotations

import re
import time
from datetime import timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.models import ExportChunk, ExportRun
from app.models.base import utcnow
from app.services import export_runs
from tests import factories
from tests.services.builders import get_product
from tests.tasks.test_import_runs import stop, worker_process
from tests.views.test_auth import login
from tests.views.test_exports import _ledger_rows

ROWS = 60_000  # twelve chunks of 5,000


def fresh(run_id: int) -> ExportRun:
    db.session.rollback()  # a new snapshot: the worker writes from elsewhere
    run = db.session.get(ExportRun, run_id)
    db.session.refresh(run)
    return run


def test_a_run_whose_worker_was_killed_is_failed_with_a_message_to_start_it_again(app, client):
    loc = factories.location("IST-01")
    _ledger_rows(loc.id, get_product("MUG-1").id, ROWS)
    factories.user("sup", "supervisor")
    db.session.commit()
    login(client, "sup")
    app.config["EXPORT_STREAM_MAX_ROWS"] = 1000
    app.config["EXPORT_STALE_SECONDS"] = 3
    try:
        response = client.get("/reports/ledger.csv")
        assert response.status_code == 303
        page_url = response.headers["Location"]
        run_id = int(re.search(r"/exports/(\d+)/", page_url).group(1))
        worker = worker_process(app, "--burst", "imports")
        try:
            deadline = time.time() + 180
            while fresh(run_id).chunks == 0 and worker.poll() is None and time.time() < deadline:
                time.sleep(0.01)
        finally:
            stop(worker)  # SIGKILL, right after its first chunk was committed
        run = fresh(run_id)
        assert run.status == "running" and 0 < run.done < ROWS, (run.status, run.done, run.error)
        assert run.heartbeat_at is not None
        # While the heartbeat is recent the run is left alone: it may be a slow chunk.
        assert export_runs.notice_dead_runs() == 0
        assert 'data-status="running"' in client.get(page_url).get_data(as_text=True)

        time.sleep(3.5)  # no heartbeat for longer than EXPORT_STALE_SECONDS
        page = client.get(page_url, headers={"HX-Request": "true"}).get_data(as_text=True)
        assert 'data-status="failed"' in page and "hx-trigger" not in page  # the page stops polling
        assert "Start the export again" in page
        run = fresh(run_id)
        assert run.status == "failed" and run.finished_at is not None and "worker" in run.error
        assert client.get(f"/reports/exports/{run_id}/file").status_code != 200  # no half file
        # Starting it again writes the whole file.
        again = client.get("/reports/ledger.csv")
        new_id = int(re.search(r"/exports/(\d+)/", again.headers["Location"]).group(1))
        second = worker_process(app, "--burst", "imports")
        try:
            second.wait(timeout=300)
        finally:
            stop(second)
        done = fresh(new_id)
        assert (done.status, done.done) == ("finished", ROWS), done.error
        assert db.session.scalar(select(func.count()).select_from(ExportChunk)
                                 .where(ExportChunk.run_id == new_id)) == done.chunks
    finally:
        app.config.pop("EXPORT_STREAM_MAX_ROWS", None)
        app.config.pop("EXPORT_STALE_SECONDS", None)


def test_the_sweep_fails_only_runs_whose_heartbeat_stopped(app):
    user = factories.user("sup", "supervisor")
    db.session.commit()
    app.config["EXPORT_STALE_SECONDS"] = 60
    try:
        now = utcnow()
        alive = ExportRun(kind="ledger", filters={}, status="running", created_by_id=user.id, heartbeat_at=now)
        dead = ExportRun(kind="ledger", filters={}, status="running", created_by_id=user.id,
                         heartbeat_at=now - timedelta(minutes=5))
        never = ExportRun(kind="ledger", filters={}, status="running", created_by_id=user.id,
                          created_at=now - timedelta(minutes=5))
        queued = ExportRun(kind="ledger", filters={}, status="queued", created_by_id=user.id,
                           created_at=now - timedelta(minutes=5))
        db.session.add_all([alive, dead, never, queued])
        db.session.commit()
        ids = alive.id, dead.id, never.id, queued.id
        assert export_runs.notice_dead_runs() == 2
        assert [fresh(i).status for i in ids] == ["running", "failed", "failed", "queued"]
        assert "Start the export again" in fresh(dead.id).error
        # A job still writing after it was declared dead does not turn the run back to finished.
        assert export_runs.run_export(dead.id).status == "failed"
    finally:
        app.config.pop("EXPORT_STALE_SECONDS", None)
