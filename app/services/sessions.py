"""Signed-in browser sessions, kept on the server.

The Flask cookie carries Flask-Login's user id and a random session id; the table keeps only
the id's SHA-256, so a copy of the table cannot be replayed as a cookie. A session ends when its
browser signs out (`end_session`), when the user's password, role or scope changes
(`end_all_sessions`), after SESSION_IDLE_MINUTES without a request, and SESSION_ABSOLUTE_HOURS
after sign-in however busy it is. Ending one session leaves the user's other browsers signed in.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Literal

from flask import current_app
from sqlalchemy import bindparam, delete, or_, select, update
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models.base import utcnow
from app.models.users import User, UserSession
from app.services import config_cache
from app.services.db import begin_write, intend_write, write_intended

# last_seen_at is written at most this often per session: the idle timeout needs minutes, not a
# write on every page view.
TOUCH_EVERY = timedelta(seconds=60)

Ended = Literal["idle", "limit"]


def _hash(raw: str) -> str:
    # A 256-bit random id: a fast hash is enough (no dictionary to attack).
    return hashlib.sha256(raw.encode()).hexdigest()


def open_session(user: User) -> str:
    """Start a session for `user` and return the raw id the browser keeps. Flushes."""
    raw = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.add(UserSession(user=user, token_hash=_hash(raw), created_at=now, last_seen_at=now))
    db.session.flush()
    return raw


def find_session(raw: object) -> UserSession | None:
    """The session (with its user and the user's locations loaded: every store page checks
    them) for the id a browser presented, or None."""
    if not isinstance(raw, str) or not raw:
        return None
    row = db.session.execute(_SESSION_BY_HASH, {"token_hash": _hash(raw)}).unique().first()
    if row is None:
        return None
    record, config_token = row
    config_cache.note_token(config_token)
    return record


# Built once (SQLAlchemy keeps a statement object's cache key), as the API token lookup; like it,
# it reads the configuration token too, so a store command needs no read of its own.
_SESSION_BY_HASH = (select(UserSession, config_cache.token_query())
                    .where(UserSession.token_hash == bindparam("token_hash"))
                    .options(joinedload(UserSession.user).joinedload(User.locations)))


def why_ended(record: UserSession) -> Ended | None:
    """"limit" past the absolute lifetime, "idle" after too long without a request, else None."""
    config, now = current_app.config, utcnow()
    if now - record.created_at >= timedelta(hours=config["SESSION_ABSOLUTE_HOURS"]):
        return "limit"
    if now - record.last_seen_at >= timedelta(minutes=config["SESSION_IDLE_MINUTES"]):
        return "idle"
    return None


def keep_alive(record: UserSession) -> None:
    """Note that the session was used now (at most once a minute). Commits when it writes."""
    now = utcnow()
    if now - record.last_seen_at < TOUCH_EVERY:
        return
    session_id, intended = record.id, write_intended()
    begin_write()
    db.session.execute(update(UserSession).where(UserSession.id == session_id).values(last_seen_at=now))
    db.session.commit()
    # The commit ended the request's write intent; the request's own write still needs it.
    intend_write(intended)


def end_session(raw: object) -> None:
    """Sign one browser out on the server: its cookie, or any copy of it, no longer works. Commits."""
    if not isinstance(raw, str) or not raw:
        return
    begin_write()
    db.session.execute(delete(UserSession).where(UserSession.token_hash == _hash(raw)))
    db.session.commit()


def end_all_sessions(user_id: int) -> None:
    """Sign a user out of every browser. Flushes."""
    db.session.execute(delete(UserSession).where(UserSession.user_id == user_id))


def prune_sessions() -> int:
    """Delete sessions that can no longer be used (idle or past their lifetime). Commits."""
    config, now = current_app.config, utcnow()
    begin_write()
    result = db.session.execute(delete(UserSession).where(or_(
        UserSession.created_at < now - timedelta(hours=config["SESSION_ABSOLUTE_HOURS"]),
        UserSession.last_seen_at < now - timedelta(minutes=config["SESSION_IDLE_MINUTES"]),
    )))
    db.session.commit()
    return result.rowcount or 0
