"""An import run's progress, saved with every chunk of rows in that chunk's own transaction.

A chunk is one short write transaction: the rows' writes, the run's counts and report, the last
line saved, where reading resumes, and a heartbeat, all committed together. So whatever stops
the job, the run row says exactly which rows are in, and a resumed run neither skips nor
repeats one. The job that writes must still own the run (`ImportRun.job_id`); one that was
replaced by a sweep stops at its next chunk without writing.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models import ImportRun
from app.models.base import utcnow
from app.services import said, stock_levels
from app.services.actors import Actor
from app.services.db import begin_write

MAX_ERRORS = 1000  # kept in the report; the rejected count is always exact
# SQLite has one write lock, and a writer waiting for it polls every 100 ms at most (its busy
# handler sleeps, it is not woken): between two chunks the import leaves the lock free that long,
# so a login or an order never waits more than one chunk plus this.
SQLITE_GAP_SECONDS = 0.1


def problem(line: int, message: Any, fields: dict | None = None) -> dict[str, Any]:
    """One entry of a run's report: the problem's English text (the API, logs) and, when it was
    said through the catalogue, its catalogue message, said in the reader's language when the
    report is shown (services/said.py; the job runs inside `said.listening()`)."""
    text, kept = said.stored(message)
    entry: dict[str, Any] = {"line": line, "message": text or "", "fields": fields or {}}
    if kept is not None:
        entry["said"] = kept
    return entry


class Superseded(Exception):
    """This job no longer owns the run (a sweep gave it to another job, or it ended)."""


class Progress:
    def __init__(self, run: ImportRun, job_id: str | None):
        self.run_id, self.job_id = run.id, job_id
        self.actor = Actor.system(f"import#{run.id}")
        self.done, self.created, self.updated, self.rejected = run.done, run.created, run.updated, run.rejected
        self.errors: list[dict] = list(run.errors or [])
        self.line, self.position = run.last_line, run.resume_offset
        self.stock_changes: list[stock_levels.LevelChange] = []  # in the current chunk
        self.ids: dict = {}  # code/SKU -> id, looked up once per slice
        self._committed_at = 0.0
        self._sqlite = db.session.get_bind().dialect.name == "sqlite"

    def reject(self, line: int, message: Any, fields: dict | None = None) -> None:
        self.rejected += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append(problem(line, message, fields))

    def passed(self, line: int, position: int, rows: int = 1) -> None:
        """`rows` rows up to `line` are handled (written, or rejected); reading resumes at `position`."""
        self.done += rows
        self.line, self.position = line, position

    @contextmanager
    def chunk(self) -> Iterator[None]:
        """One write transaction: the caller's writes, then the progress; committed together.
        Raises Superseded (nothing written) when the job lost the run."""
        if self._sqlite:
            time.sleep(max(0.0, self._committed_at + SQLITE_GAP_SECONDS - time.monotonic()))
        begin_write()
        run = self._owned()
        try:
            yield
            self._save(run)
            db.session.commit()
        except BaseException:
            db.session.rollback()
            raise
        self._committed_at = time.monotonic()
        changes, self.stock_changes = self.stock_changes, []
        stock_levels.replan_after_increase(changes)

    def committed(self) -> None:
        """The caller committed a write of its own (an order): the next chunk waits its gap after it."""
        self._committed_at = time.monotonic()

    def save(self) -> None:
        """Save the progress alone (orders commit themselves, one by one)."""
        with self.chunk():
            pass

    def _owned(self) -> ImportRun:
        run = db.session.scalar(select(ImportRun).where(ImportRun.id == self.run_id).with_for_update())
        if run is None or run.status != "running" or (self.job_id is not None and run.job_id != self.job_id):
            db.session.rollback()
            raise Superseded()
        return run

    def _save(self, run: ImportRun) -> None:
        run.done, run.created, run.updated, run.rejected = self.done, self.created, self.updated, self.rejected
        run.total = max(run.total, self.done)
        run.errors = list(self.errors)
        run.last_line, run.resume_offset, run.heartbeat_at = self.line, self.position, utcnow()
