"""GET /api/v1/me: who this token acts as (role and location scope)."""

from __future__ import annotations

from flask import g, jsonify

from app.schemas.common import MeOut
from app.views.api.routing import api_route


@api_route("/v1/me", "GET", summary="Who this token acts as: role and locations (null: all)", tag="Me",
           response=MeOut)
def me():
    user = g.api_user
    return jsonify(
        username=user.username,
        role=user.role,
        locations=None if user.sees_all_locations else [loc.code for loc in user.locations],
    )
