"""Housekeeping on a real RQ worker: short-lived rows older than a day go, younger ones stay."""

from __future__ import annotations

from datetime import timedelta

from rq import Queue, SimpleWorker
from sqlalchemy import select

from app.extensions import db
from app.models import IdempotencyRecord, LoginFailure
from app.models.base import utcnow
from app.queues import redis_connection
from tests import factories

# Either side of the 24-hour cutoff, far enough from it that a slow run cannot cross it.
AGES = {"day-old": timedelta(hours=25), "almost-a-day": timedelta(hours=23), "fresh": timedelta(0)}
KEPT = ["almost-a-day", "fresh"]


def seed_old_and_new_rows() -> None:
    """One idempotency record and one login failure of each age in AGES, named after it."""
    user = factories.user("erp", "admin")
    db.session.flush()
    now = utcnow()
    for name, age in AGES.items():
        db.session.add(IdempotencyRecord(user_id=user.id, key=name, method="POST", path="/api/v1/orders",
                                         request_hash="0" * 64, status_code=201, response_body="{}",
                                         created_at=now - age))
        db.session.add(LoginFailure(username=name, address="192.0.2.1", created_at=now - age))
    db.session.commit()


def remaining() -> dict[str, list[str]]:
    db.session.rollback()  # see what the worker committed
    return {"idempotency_records": sorted(db.session.scalars(select(IdempotencyRecord.key))),
            "login_failures": sorted(db.session.scalars(select(LoginFailure.username)))}


def test_housekeeping_removes_exactly_the_rows_older_than_a_day(app):
    seed_old_and_new_rows()
    conn = redis_connection()
    queue = Queue("default", connection=conn)
    job = queue.enqueue("app.tasks.housekeeping.housekeeping")
    SimpleWorker([queue], connection=conn).work(burst=True)
    assert job.get_status() == "finished"
    assert job.return_value() == {"idempotency_records": 1, "login_failures": 1, "user_sessions": 0}
    assert remaining() == {"idempotency_records": KEPT, "login_failures": KEPT}
