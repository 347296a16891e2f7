"""Import runs: start one, process it a slice at a time on the `imports` queue, and pick up runs
whose worker died.

A job works on a run for about SLICE_SECONDS, committing a chunk at a time, then enqueues the
next slice under a new job id and returns: a worker listening to every queue takes other queues'
jobs first (`imports` is listed last), so one big file never holds up planning, labels,
webhooks or periodic jobs for longer than a slice.
"""

from __future__ import annotations

import logging
import math
import os
import secrets
import time
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from redis.exceptions import RedisError
from sqlalchemy import func, select

from app.extensions import db
from app.models import ImportRun
from app.models.base import utcnow
from app.services import said
from app.services.actors import Actor
from app.services.db import begin_write
from app.services.errors import NotFound, ValidationFailed
from app.services.imports import files, rows
from app.services.imports.progress import MAX_ERRORS, Progress, Superseded, problem

log = logging.getLogger("packline.imports")

QUEUE = "imports"
JOB = "app.tasks.imports.run_import"
JOB_TIMEOUT = 600  # a slice takes seconds; this only stops one that hangs
SLICE_SECONDS = 2.0  # IMPORT_SLICE_SECONDS
STALE_SECONDS = 60  # no chunk committed for this long: the job is gone (IMPORT_STALE_SECONDS)
MAX_INTERRUPTIONS = 3
BUSY = ("queued", "running")
MAX_BYTES = 50 * 1024 * 1024
FILE_TTL_SECONDS = 7 * 24 * 3600
UNAVAILABLE = "Background processing is unavailable right now; upload the file again in a minute."


def _file_key(run_id: int) -> str:
    return f"packline:import-file:{run_id}"


def start_import(kind: str, filename: str | None, content: bytes, actor: Actor) -> ImportRun:
    """Record an import run, keep the file and enqueue the job that processes it. Commits."""
    from app.queues import redis_connection

    if actor.role not in ("admin", "system"):
        raise ValidationFailed(_('Only admins can import.'), {"kind": _('Not allowed.')})
    if kind not in files.KINDS:
        raise ValidationFailed(_('Unknown import type.'), {"kind": _('Choose one of: %(value)s.', value=', '.join(files.KINDS))})
    if not content:
        raise ValidationFailed(_('The file is empty.'), {"file": _('The file is empty.')})
    if len(content) > MAX_BYTES:
        raise ValidationFailed(_('The file is too large.'), {"file": _('Files up to %(value)s MB.', value=MAX_BYTES // (1024 * 1024))})
    begin_write()
    run = ImportRun(kind=kind, filename=(filename or "upload")[:300], status="queued", created_by_id=actor.user_id)
    db.session.add(run)
    db.session.flush()
    run.job_id = f"import-{run.id}"
    try:
        redis_connection().set(_file_key(run.id), content, ex=FILE_TTL_SECONDS)
    except RedisError:
        db.session.rollback()
        raise ValidationFailed(_('Background work is unavailable.'), {"file": UNAVAILABLE}) from None
    db.session.commit()
    if not _enqueue(run.id, run.job_id):
        return _end(run.id, run.job_id, "failed", {"line": 0, "message": UNAVAILABLE})
    return run


def get_run(run_id: int) -> ImportRun:
    run = db.session.get(ImportRun, run_id)
    if run is None:
        raise NotFound(_('No such import.'))
    return run


def run_import(run_id: int, job_id: str | None = None) -> ImportRun | None:
    """Process one slice of an import run (the RQ job `job_id` calls this): rows from where the
    last committed chunk left off, for about SLICE_SECONDS, then the next slice is enqueued (with
    RQ_SYNC, the whole file at once). A job that no longer owns the run does nothing. Whatever
    goes wrong, the run ends "failed" with the reason, never stays "running"."""
    try:
        with said.listening():  # row problems are kept as the catalogue messages they were said in
            return _slice(run_id, job_id)
    except Superseded:
        db.session.rollback()
        return db.session.get(ImportRun, run_id)
    except Exception as exc:  # noqa: BLE001 - any failure is reported on the run
        db.session.rollback()
        log.exception("import run %s failed", run_id)
        reason = f"{exc.__class__.__name__}: {exc}".strip(": ")[:300]
        return _fail(run_id, job_id, f"The import stopped: {reason}")


def _slice(run_id: int, job_id: str | None) -> ImportRun | None:
    from app.queues import redis_connection

    run = db.session.get(ImportRun, run_id)
    if run is None or run.status not in BUSY or (job_id is not None and run.job_id != job_id):
        return run
    content = redis_connection().get(_file_key(run_id))
    if content is None:
        return _fail(run_id, job_id, "The uploaded file has expired; upload it again.")
    try:
        source = files.open_rows(content, run.filename, run.kind, run.last_line, run.resume_offset)
    except files.HeaderError as exc:
        return _end(run_id, job_id, "failed", problem(1, exc.args[0]), replace=True)
    del content
    if run.status == "queued":
        run = _owned(run_id, job_id)
        run.status, run.total, run.errors, run.heartbeat_at = "running", source.total, [
            problem(note["line"], note["message"]) for note in source.notes], utcnow()
        db.session.commit()
    progress = Progress(run, job_id)
    sync = current_app.config.get("RQ_SYNC")
    deadline = math.inf if sync else time.monotonic() + _setting("IMPORT_SLICE_SECONDS", SLICE_SECONDS)
    if rows.write_rows(run.kind, source, progress, deadline):
        return _hand_over(run_id, job_id)
    return _end(run_id, job_id, "finished")


def _owned(run_id: int, job_id: str | None) -> ImportRun:
    """The run, locked in a new write transaction, if `job_id` still owns it; else Superseded."""
    begin_write()
    run = db.session.scalar(select(ImportRun).where(ImportRun.id == run_id).with_for_update())
    if run is None or run.status not in BUSY or (job_id is not None and run.job_id != job_id):
        db.session.rollback()
        raise Superseded()
    return run


def _hand_over(run_id: int, job_id: str | None) -> ImportRun:
    """The next slice gets the run under a new job id, queued behind other queues' work."""
    run = _owned(run_id, job_id)
    run.job_id, run.heartbeat_at = f"import-{run_id}-{secrets.token_hex(4)}", utcnow()
    db.session.commit()
    if not _enqueue(run_id, run.job_id):
        log.warning("import run %s: the next slice could not be queued; the sweep will resume it", run_id)
    return run


def _end(run_id: int, job_id: str | None, status: str, error: dict | None = None,
         replace: bool = False) -> ImportRun:
    run = _owned(run_id, job_id)
    errors = [] if replace else list(run.errors or [])
    if error is not None:
        errors.append(error)
    run.status, run.errors, run.finished_at = status, errors[:MAX_ERRORS + 1], utcnow()
    if status == "finished":
        run.total = run.done
    db.session.commit()
    return run


def _fail(run_id: int, job_id: str | None, message: str) -> ImportRun | None:
    """End the run as failed with `message` on the line it stopped at (rows before it are saved)."""
    try:
        run = db.session.get(ImportRun, run_id)
        line = run.last_line if run is not None else 0
        return _end(run_id, job_id, "failed", {"line": line, "message": message})
    except Superseded:
        db.session.rollback()
        return db.session.get(ImportRun, run_id)


def _enqueue(run_id: int, job_id: str) -> bool:
    from app.queues import enqueue

    try:
        enqueue(QUEUE, JOB, run_id, job_id, job_id=job_id, job_timeout=JOB_TIMEOUT)
    except RedisError:
        return False
    return True


# ------------------------------------------------------------------------------ interrupted runs

def recover_stuck_runs() -> dict[str, int]:
    """Runs that say queued or running but whose job is gone (a killed worker, a lost Redis):
    no chunk committed for IMPORT_STALE_SECONDS and their job not waiting in the queue. Each is
    resumed from its last committed chunk under a new job, or failed with the reason once it
    was interrupted MAX_INTERRUPTIONS times or its file expired. The worker runs this at start-up
    and every minute. Returns {"resumed": n, "failed": n}."""
    stale = utcnow() - timedelta(seconds=_setting("IMPORT_STALE_SECONDS", STALE_SECONDS))
    candidates = list(db.session.scalars(select(ImportRun.id).where(
        ImportRun.status.in_(BUSY), func.coalesce(ImportRun.heartbeat_at, ImportRun.created_at) < stale)))
    db.session.rollback()
    counts = {"resumed": 0, "failed": 0}
    for run_id in candidates:
        outcome = _recover(run_id, stale)
        if outcome:
            counts[outcome] += 1
    return counts


def _recover(run_id: int, stale) -> str | None:
    from app.queues import get_queue, redis_connection

    run = db.session.get(ImportRun, run_id)
    job = get_queue(QUEUE).fetch_job(run.job_id) if run.job_id else None
    if job is not None and job.get_status(refresh=True) in ("queued", "deferred", "scheduled"):
        return None  # still waiting for a worker
    has_file = bool(redis_connection().exists(_file_key(run_id)))
    try:
        run = _owned(run_id, run.job_id)
    except Superseded:
        return None
    if (run.heartbeat_at or run.created_at) >= stale:  # it moved on meanwhile
        db.session.rollback()
        return None
    if not has_file or run.interruptions >= MAX_INTERRUPTIONS:
        reason = ("The uploaded file has expired; upload it again." if not has_file else
                  f"The import was interrupted {run.interruptions} times (the worker running it stopped) and "
                  f"was given up.")
        saved = f" Rows up to line {run.last_line} were saved." if run.last_line else ""
        run.status, run.finished_at = "failed", utcnow()
        run.errors = [*(run.errors or [])[:MAX_ERRORS], {"line": run.last_line, "message": reason + saved}]
        db.session.commit()
        return "failed"
    run.interruptions += 1
    run.job_id, run.heartbeat_at = f"import-{run_id}-{secrets.token_hex(4)}", utcnow()
    db.session.commit()
    log.warning("import run %s was interrupted at line %s; resuming", run_id, run.last_line)
    _enqueue(run_id, run.job_id)
    return "resumed"


def _setting(name: str, default: float) -> float:
    """A tuning figure from the app's config or the environment (tests shorten them)."""
    configured = current_app.config.get(name)
    if configured is None:
        configured = os.environ.get(name) or default
    return float(configured)
