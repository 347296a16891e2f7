"""Periodic clean-up of short-lived rows."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete

from app.extensions import db
from app.models.api import IdempotencyRecord
from app.models.base import utcnow
from app.services.sessions import prune_sessions
from app.services.users import prune_login_failures
from app.tasks import job


@job
def housekeeping() -> dict[str, int]:
    removed = db.session.execute(
        delete(IdempotencyRecord).where(IdempotencyRecord.created_at < utcnow() - timedelta(hours=24))
    ).rowcount or 0
    db.session.commit()
    return {"idempotency_records": removed, "login_failures": prune_login_failures(),
            "user_sessions": prune_sessions()}
