"""Pruning ended sessions: idle or past their lifetime go, live ones stay."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import UserSession
from app.models.base import utcnow
from app.services.sessions import find_session, open_session, prune_sessions
from tests import factories


def test_prune_removes_exactly_the_sessions_that_can_no_longer_be_used(app):
    user = factories.user("ayse", "admin")
    db.session.flush()
    idle = timedelta(minutes=app.config["SESSION_IDLE_MINUTES"])
    lifetime = timedelta(hours=app.config["SESSION_ABSOLUTE_HOURS"])
    now = utcnow()
    ages = {  # name: (created, last seen)
        "live": (now - lifetime + timedelta(minutes=5), now),
        "idle": (now - idle - timedelta(minutes=5), now - idle - timedelta(minutes=1)),
        "too-old": (now - lifetime - timedelta(minutes=1), now),
    }
    raw = {}
    for name, (created, seen) in ages.items():
        raw[name] = open_session(user)
        record = find_session(raw[name])
        record.created_at, record.last_seen_at = created, seen
    db.session.commit()

    assert prune_sessions() == 2
    remaining = db.session.scalars(select(UserSession.token_hash)).all()
    assert remaining == [find_session(raw["live"]).token_hash]
