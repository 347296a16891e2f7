"""Admin console. Entity forms, stock, settings, users and imports live in admin_*.py modules on
this blueprint; every route is admin-only (decorator per route, plus a blueprint-wide check)."""

from __future__ import annotations

from flask import Blueprint, current_app, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.extensions import db
from app.models import CargoCompany, Channel, DenialReason, Product, StockLocation, User
from app.views.htmx import render
from app.views.security import role_required

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.before_request
def admins_only():
    return role_required("admin")(lambda: None)()


@bp.app_context_processor
def admin_links() -> dict:
    def optional_url(*endpoints: str) -> str | None:
        """A link to a page another module provides, when it is installed."""
        for endpoint in endpoints:
            if endpoint in current_app.view_functions:
                return url_for(endpoint)
        return None

    return {"optional_url": optional_url}


@bp.get("/")
@role_required("admin")
def console():
    counts = [
        (label, endpoint, db.session.scalar(select(func.count()).select_from(model)))
        for label, endpoint, model in (
            (_l("Locations"), "admin.entity_list:locations", StockLocation),
            (_l("Channels"), "admin.entity_list:channels", Channel),
            (_l("Products"), "admin.entity_list:products", Product),
            (_l("Cargo companies"), "admin.entity_list:cargo_companies", CargoCompany),
            (_l("Denial reasons"), "admin.entity_list:denial_reasons", DenialReason),
            (_l("Users"), "admin.users", User),
        )
    ]
    return render("admin/console.html", counts=counts)


from app.views import (  # noqa: E402, F401
    admin_entities,
    admin_imports,
    admin_scenarios,
    admin_settings,
    admin_stock,
    admin_users,
)
