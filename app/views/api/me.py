"""GET /api/v1/me: who this token acts as (role and location scope)."""

from __future__ import annotations

from flask import g, jsonify

from app.views.api import bp


@bp.get("/v1/me")
def me():
    user = g.api_user
    return jsonify(
        username=user.username,
        role=user.role,
        locations=None if user.sees_all_locations else [loc.code for loc in user.locations],
    )
