"""The audit log: who changed which piece of configuration, when, and from what to what."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import utcnow


class AuditEntry(db.Model):
    """One created, changed or deleted record of configuration (scenarios, rules, settings,
    locations, channels, users, tokens, webhooks, cargo companies, denial reasons).
    `changes` is {field: [before, after]} with secrets already masked; never updated."""

    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_kind_key", "kind", "entity_key"),
        Index("ix_audit_entries_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    actor: Mapped[str] = mapped_column(String(200), index=True)  # "user:ayse", "token:erp#3"
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(32))  # "scenario", "user", "token", ...
    entity_id: Mapped[str | None] = mapped_column(String(64))
    entity_key: Mapped[str] = mapped_column(String(300))  # what people call it: a code, a username
    action: Mapped[str] = mapped_column(String(16))  # created | changed | deleted
    changes: Mapped[dict] = mapped_column(JSON, default=dict)
