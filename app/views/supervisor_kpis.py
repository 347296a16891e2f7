"""The supervisor's KPI page (SPEC §10): every location they may see, or some of them."""

from __future__ import annotations

from flask import render_template

from app.services import admin_queries
from app.views import kpi_pages
from app.views.security import role_required
from app.views.supervisor import MANAGERS, bp, current_actor


def _scope():
    actor = current_actor()
    return admin_queries.visible_locations(actor, active_only=False), actor.location_ids is None


@bp.get("/kpis")
@role_required(*MANAGERS)
def kpis():
    allowed, sees_all = _scope()
    page = kpi_pages.build(allowed, sees_all=sees_all)
    return render_template("supervisor/kpis.html", page=page, endpoint="supervisor.kpis",
                           chart_endpoint="supervisor.kpi_chart", csv_endpoint="supervisor.kpi_csv", url_args={})


@bp.get("/kpis/charts/<name>.svg")
@role_required(*MANAGERS)
def kpi_chart(name: str):
    allowed, sees_all = _scope()
    return kpi_pages.svg_response(allowed, name, sees_all=sees_all)


@bp.get("/kpis/<name>.csv")
@role_required(*MANAGERS)
def kpi_csv(name: str):
    allowed, sees_all = _scope()
    return kpi_pages.csv_table(allowed, name, sees_all=sees_all)
