"""The store app for staff on tablets: location picker and home."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from app.extensions import db
from app.models.locations import StockLocation
from app.services import dashboards

bp = Blueprint("store", __name__, url_prefix="/store")


def visible_locations() -> list[StockLocation]:
    query = select(StockLocation).where(StockLocation.active.is_(True)).order_by(StockLocation.code)
    if not current_user.sees_all_locations:
        query = query.where(StockLocation.id.in_(current_user.location_ids or {-1}))
    return list(db.session.scalars(query))


def location_or_404(code: str) -> StockLocation:
    """The location if this user may work there; 404 otherwise (never reveal other stores)."""
    location = db.session.scalar(select(StockLocation).where(StockLocation.code == code))
    if location is None or not (current_user.sees_all_locations or location.id in current_user.location_ids):
        abort(404)
    return location


@bp.get("/")
@login_required
def index():
    locations = visible_locations()
    if len(locations) == 1:
        return redirect(url_for("store.home", code=locations[0].code))
    return render_template("store/picker.html", locations=locations)


@bp.get("/<code>/")
@login_required
def home(code: str):
    location = location_or_404(code)
    summary = dashboards.location_summary(location)
    return render_template("store/home.html", location=location, summary=summary)
