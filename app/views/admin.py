"""Admin console."""

from __future__ import annotations

from flask import Blueprint, render_template
from sqlalchemy import func, select

from app.extensions import db
from app.models import CargoCompany, Channel, DenialReason, Product, StockLocation, User
from app.views.security import role_required

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.get("/")
@role_required("admin")
def console():
    counts = {
        label: db.session.scalar(select(func.count()).select_from(model))
        for label, model in (
            ("Locations", StockLocation),
            ("Channels", Channel),
            ("Products", Product),
            ("Cargo companies", CargoCompany),
            ("Denial reasons", DenialReason),
            ("Users", User),
        )
    }
    return render_template("admin/console.html", counts=counts)
