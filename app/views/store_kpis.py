"""The store's own KPIs: the same report as the supervisor's, for this one location."""

from __future__ import annotations

from flask import render_template
from flask_login import login_required

from app.views import kpi_pages
from app.views.store import bp, location_or_404


@bp.get("/<code>/kpis")
@login_required
def kpis(code: str):
    location = location_or_404(code)
    page = kpi_pages.build([location], sees_all=False, url_args={"code": location.code})
    return render_template("store/kpis.html", location=location, page=page, endpoint="store.kpis",
                           chart_endpoint="store.kpi_chart", csv_endpoint="store.kpi_csv",
                           url_args={"code": location.code})


@bp.get("/<code>/kpis/charts/<name>.svg")
@login_required
def kpi_chart(code: str, name: str):
    return kpi_pages.svg_response([location_or_404(code)], name, sees_all=False)


@bp.get("/<code>/kpis/<name>.csv")
@login_required
def kpi_csv(code: str, name: str):
    return kpi_pages.csv_table([location_or_404(code)], name, sees_all=False)
