"""What API tests share: a user's token header, and row counts read afresh."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from tests import factories


def auth(username: str, role: str = "admin", locations=None) -> dict[str, str]:
    """The Authorization header of a new user `username` with `role` (at `locations`)."""
    db.session.commit()  # SQLite cannot upgrade a read transaction older than the requests' writes
    factories.user(username, role, locations)
    db.session.commit()
    return {"Authorization": f"Token {factories.api_token(username)}"}


def count(model) -> int:
    db.session.commit()  # a fresh snapshot: on SQLite an open read transaction sees old rows
    return db.session.scalar(select(func.count()).select_from(model))
