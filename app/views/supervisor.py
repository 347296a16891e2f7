"""Supervisor screens: the movements board."""

from __future__ import annotations

from flask import Blueprint, render_template

from app.services import dashboards
from app.views.security import role_required
from app.views.store import visible_locations

bp = Blueprint("supervisor", __name__, url_prefix="/supervisor")


@bp.get("/")
@role_required("supervisor", "admin")
def board():
    summaries = dashboards.location_summaries(visible_locations())
    return render_template("supervisor/board.html", summaries=summaries)
