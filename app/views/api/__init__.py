"""JSON API v1 under /api/v1, authenticated by `Authorization: Token <token>`."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, g, request
from sqlalchemy import update

from app.extensions import csrf, db
from app.models.base import utcnow
from app.models.users import ApiToken
from app.services.actors import Actor
from app.services.users import user_for_token
from app.views.errors import api_error

bp = Blueprint("api", __name__, url_prefix="/api")
csrf.exempt(bp)  # token-authenticated, no cookies: CSRF does not apply

PUBLIC_ENDPOINTS = {"api.openapi"}


@bp.before_request
def authenticate_token():
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    header = request.headers.get("Authorization", "")
    scheme, _, raw = header.partition(" ")
    if scheme.lower() != "token" or not raw.strip():
        return api_error(401, "not_authenticated", "Send your API token as 'Authorization: Token <token>'.")
    found = user_for_token(raw.strip())
    if found is None:
        return api_error(401, "invalid_token", "The API token is invalid, revoked, or its user is disabled.")
    user, token = found
    g.api_user = user
    g.actor = Actor.for_user(user, via_token_id=token.id)
    if token.last_used_at is None or utcnow() - token.last_used_at > timedelta(minutes=1):
        # Write in a fresh transaction: SQLite cannot upgrade this read transaction once a
        # concurrent request has committed ("database is locked"). Once a minute is enough.
        token_id = token.id
        db.session.rollback()
        db.session.execute(update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=utcnow()))
        db.session.commit()
    return None


def current_actor() -> Actor:
    return g.actor


from app.views.api import (  # noqa: E402,F401
    catalog,
    common,
    jobs,
    labels,  # noqa: E402,F401
    locations,
    me,  # noqa: E402,F401  (routes register on bp)
    openapi,
    orders,
    packages,
    planning,  # noqa: E402,F401
    settings,
    stock,
    transfers,
    webhooks,  # noqa: E402,F401
)
