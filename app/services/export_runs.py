"""CSV exports of the explorers' lists: streamed straight to the browser when small, written by a
background job when large (more than EXPORT_STREAM_MAX_ROWS rows).

Each kind of export (orders, packages, the stock ledger, the audit log) names who may run it,
how its filters are read from URL parameters, how many rows match and the rows themselves — the
very functions behind its screen, so the file always matches what the screen shows. A
background run keeps the filters and its owner; the job reads the rows a keyset page at a time
and stores the CSV as numbered chunks, committing each with the progress, so neither the job
nor the download ever holds the whole file (an export of millions of rows costs one chunk of
memory). The owner watches a progress bar and downloads the file; nobody else sees the run.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from redis.exceptions import RedisError
from sqlalchemy import and_, delete, insert, or_, select, update

from app.extensions import db
from app.models import ExportChunk, ExportRun, User
from app.models.base import utcnow
from app.services import audit_log, ledger_explorer, listing, package_explorer
from app.services import order_explorer as orders
from app.services.actors import Actor
from app.services.db import begin_write
from app.services.errors import Forbidden, NotFound, ValidationFailed
from app.services.exports import csv_chunks

log = logging.getLogger("packline.exports")

QUEUE = "imports"  # the bulk queue a worker serves last
JOB = "app.tasks.exports.run_export"
JOB_TIMEOUT = 4 * 3600
STREAM_MAX_ROWS = 20_000  # EXPORT_STREAM_MAX_ROWS: above this, a background run
CHUNK_ROWS = 5_000  # rows per stored chunk and per committed progress step
KEEP_DAYS = 7
STALE_SECONDS = 300  # EXPORT_STALE_SECONDS: a running export with no heartbeat for this long lost its worker
DEAD_MESSAGE = _l("The export stopped: the background worker writing it ended before it finished. "
                  "Start the export again from the list.")
BUSY = ("queued", "running")
MANAGERS = ("supervisor", "admin")


@dataclass(frozen=True)
class ExportKind:
    name: str
    filename: str
    header: tuple[str, ...]
    read: Callable[[Mapping[str, str], Actor, listing.Problems], Any]  # URL parameters -> filters
    count: Callable[[Actor, Any], int]
    rows: Callable[[Actor, Any], Iterator[list[Any]]]
    roles: tuple[str, ...] = MANAGERS


KINDS: dict[str, ExportKind] = {
    "orders": ExportKind("orders", "orders", orders.HEADER, orders.read_filters, orders.count, orders.export_rows),
    "packages": ExportKind("packages", "packages", package_explorer.HEADER, package_explorer.read_filters,
                           package_explorer.count, package_explorer.export_rows),
    "ledger": ExportKind("ledger", "stock-ledger", ledger_explorer.HEADER, ledger_explorer.read_filters,
                         ledger_explorer.count, ledger_explorer.export_rows),
    "audit": ExportKind("audit", "audit-log", audit_log.HEADER, audit_log.read_filters, audit_log.count,
                        audit_log.export_rows, roles=("admin",)),
}


def kind_for(name: str, actor: Actor) -> ExportKind:
    kind = KINDS.get(name)
    if kind is None:
        raise NotFound(_("There is no such export."))
    if actor.role not in kind.roles:
        raise Forbidden(_("Your role cannot run this export."))
    return kind


def stream_limit() -> int:
    return int(current_app.config.get("EXPORT_STREAM_MAX_ROWS", STREAM_MAX_ROWS))


def start_export(kind: ExportKind, args: Mapping[str, str], actor: Actor) -> ExportRun:
    """Record a background export of `kind` with these filters for `actor` and queue its job.
    Commits. Problems with the filters were refused before (the screen read them first)."""
    from app.queues import enqueue

    begin_write()
    run = ExportRun(kind=kind.name, filters=dict(args), status="queued", created_by_id=actor.user_id)
    db.session.add(run)
    db.session.commit()
    try:
        enqueue(QUEUE, JOB, run.id, job_id=f"export-{run.id}", job_timeout=JOB_TIMEOUT)
    except RedisError:
        _finish(run.id, "failed", _("Background work is unavailable right now; try the export again in a minute."))
    return db.session.get(ExportRun, run.id)


def get_run(run_id: int, actor: Actor) -> ExportRun:
    """A run its owner may see; anyone else's is not found."""
    run = db.session.get(ExportRun, run_id)
    if run is None or run.created_by_id is None or run.created_by_id != actor.user_id:
        raise NotFound(_("There is no such export."))
    if run.status == "running" and _looks_dead(run) and notice_dead_runs(run_id):
        db.session.refresh(run)
    return run


def _looks_dead(run: ExportRun) -> bool:
    """No heartbeat for EXPORT_STALE_SECONDS (read before writing: a page polled every second
    must not take the write lock each time)."""
    stale = utcnow() - timedelta(seconds=_stale_seconds())
    return (run.heartbeat_at or run.created_at) < stale


def _stale_seconds() -> int:
    return int(current_app.config.get("EXPORT_STALE_SECONDS", STALE_SECONDS))


def notice_dead_runs(run_id: int | None = None) -> int:
    """Fail every "running" run (or just `run_id`) whose job stopped beating: its worker was
    killed or lost. The job writes `heartbeat_at` when it starts and after every chunk (a few
    seconds apart), so a heartbeat older than EXPORT_STALE_SECONDS means nobody is writing it;
    the owner reads why and starts it again. Commits; returns how many runs were failed."""
    stale = utcnow() - timedelta(seconds=_stale_seconds())
    query = (update(ExportRun).where(ExportRun.status == "running",
                                     or_(ExportRun.heartbeat_at < stale,
                                         and_(ExportRun.heartbeat_at.is_(None), ExportRun.created_at < stale)))
             .values(status="failed", error=str(DEAD_MESSAGE)[:500], finished_at=utcnow()))
    if run_id is not None:
        query = query.where(ExportRun.id == run_id)
    begin_write()
    failed = db.session.execute(query).rowcount or 0
    db.session.commit()
    if failed:
        log.warning("%s export run(s) had no heartbeat for %s s: marked failed", failed, _stale_seconds())
    return failed


def run_export(run_id: int) -> ExportRun | None:
    """Write the whole file of one run (the job calls this). The owner's scope is read again
    now: a supervisor who lost a location meanwhile does not export it. Whatever goes wrong,
    the run ends "failed" with the reason, never stays "running"."""
    run = db.session.get(ExportRun, run_id)
    if run is None or run.status not in BUSY:
        return run
    user = db.session.get(User, run.created_by_id) if run.created_by_id else None
    try:
        if user is None or not user.active:
            raise Forbidden(_("The person who asked for this export can no longer sign in."))
        actor = Actor.for_user(user)
        kind = kind_for(run.kind, actor)
        problems = listing.Problems()
        filters = kind.read(run.filters or {}, actor, problems)
        if problems:
            raise ValidationFailed("; ".join(problems.found.values()))
        total = kind.count(actor, filters)
        begin_write()
        db.session.execute(delete(ExportChunk).where(ExportChunk.run_id == run_id))  # a retried job starts over
        db.session.execute(update(ExportRun).where(ExportRun.id == run_id)
                           .values(status="running", total=total, done=0, chunks=0, heartbeat_at=utcnow()))
        db.session.commit()
        counter = _Counter()
        seq = 0
        for block in csv_chunks(kind.header, counter.wrap(kind.rows(actor, filters)), block_rows=CHUNK_ROWS):
            begin_write()
            db.session.execute(insert(ExportChunk), [{"run_id": run_id, "seq": seq, "body": block}])
            seq += 1
            beat = db.session.execute(update(ExportRun).where(ExportRun.id == run_id, ExportRun.status == "running")
                                      .values(done=counter.count, chunks=seq, total=max(total, counter.count),
                                              heartbeat_at=utcnow()))
            if not beat.rowcount:  # declared dead meanwhile (notice_dead_runs): the owner starts it again
                db.session.rollback()
                return db.session.get(ExportRun, run_id)
            db.session.commit()
    except Exception as exc:  # noqa: BLE001 - any failure is reported on the run
        db.session.rollback()
        log.exception("export run %s failed", run_id)
        message = getattr(exc, "message", None) or f"{exc.__class__.__name__}: {exc}"
        return _finish(run_id, "failed", str(message)[:500])
    return _finish(run_id, "finished", None, only_running=True)


class _Counter:
    def __init__(self) -> None:
        self.count = 0

    def wrap(self, rows: Iterator[list[Any]]) -> Iterator[list[Any]]:
        for row in rows:
            self.count += 1
            yield row


def _finish(run_id: int, status: str, error: str | None, only_running: bool = False) -> ExportRun | None:
    begin_write()
    query = update(ExportRun).where(ExportRun.id == run_id)
    if only_running:  # a run declared dead stays failed
        query = query.where(ExportRun.status == "running")
    db.session.execute(query.values(status=status, error=error, finished_at=utcnow()))
    db.session.commit()
    return db.session.get(ExportRun, run_id)


def file_blocks(run: ExportRun) -> Iterator[str]:
    """The finished file, one stored chunk at a time."""
    for seq in range(run.chunks):
        body = db.session.scalar(select(ExportChunk.body).where(ExportChunk.run_id == run.id, ExportChunk.seq == seq))
        if body is None:
            return
        yield body


def forget_old_runs(days: int = KEEP_DAYS) -> int:
    """Delete runs (and their files) older than `days`. Commits; returns how many went."""
    begin_write()
    old = select(ExportRun.id).where(ExportRun.created_at < utcnow() - timedelta(days=days))
    db.session.execute(delete(ExportChunk).where(ExportChunk.run_id.in_(old)))
    gone = db.session.execute(delete(ExportRun).where(ExportRun.id.in_(old))).rowcount or 0
    db.session.commit()
    return gone
