"""CSV exports too large to stream in one request: a run written by a job, chunk by chunk."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import utcnow


class ExportRun(db.Model):
    """One background CSV export: what was asked (kind + filters), how far the job is, and the
    file kept as numbered chunks (export_chunks) so no process ever holds it whole."""

    __tablename__ = "export_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    filters: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued | running | finished | failed
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    chunks: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(String(500))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The job writes it when it starts and after every chunk: a "running" run whose heartbeat
    # stopped lost its worker (services/export_runs.py `notice_dead_runs`).
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime)


class ExportChunk(db.Model):
    __tablename__ = "export_chunks"
    __table_args__ = (UniqueConstraint("run_id", "seq", name="uq_export_chunks_run_seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("export_runs.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
