"""What the supervisor's and the store's KPI pages share: reading the filters, building the
report, and answering a chart (SVG) or a table (CSV). The routes live in supervisor_kpis.py and
store_kpis.py; the numbers come from services/kpis.py, the charts from services/kpi_charts.py."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Response, abort, request
from sqlalchemy import select

from app.extensions import db
from app.models import Channel, StockLocation
from app.services import kpi_cache, kpi_charts, kpis
from app.services.exports import csv_response

# The chart is a document of its own: inline styles (pygal's), no script, nothing fetched.
FILTER_ARGS = ("from", "to", "location", "channel")
SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


@dataclass
class KpiPage:
    report: kpis.KpiReport
    problem: str | None
    locations: list[StockLocation]
    channels: list[Channel]
    charts: list[dict[str, Any]]
    link_args: dict[str, Any]  # the route's own arguments and the filters as given, for chart and CSV links

    @staticmethod
    def show(value: Any, unit: str = "") -> str:
        """A figure or a day in the request's language ("%100,0", "0,0 dk", "24 Kas 2026")."""
        return kpis.value_text(value, unit)


def channels() -> list[Channel]:
    return list(db.session.scalars(select(Channel).order_by(Channel.code)))


def build(allowed: list[StockLocation], *, sees_all: bool, with_charts: bool = True,
          url_args: dict[str, Any] | None = None) -> KpiPage:
    """The report for this request's filters, over the locations this person may see."""
    all_channels = channels()
    filters, problem = kpis.parse_filters(request.args, allowed, all_channels, sees_all=sees_all)
    report = kpi_cache.report(filters, allowed, all_channels)
    charts = []
    if with_charts:
        # The page links each chart (<img src> of the chart's own URL) instead of drawing it:
        # the browser fetches the six in parallel, each kept in Redis, and the page's own
        # answer does not wait for pygal (docs/benchmarks.md, KPI page).
        for spec in kpi_charts.CHARTS:
            charts.append({"spec": spec, "title": spec.title(), "table": kpi_charts.chart_table(spec, report)})
    query = {k: request.args.getlist(k)[:50] for k in FILTER_ARGS if k in request.args}
    return KpiPage(report, problem, allowed, all_channels, charts, {**(url_args or {}), **query})


def svg_response(allowed: list[StockLocation], name: str, *, sees_all: bool) -> Response:
    spec = kpi_charts.BY_NAME.get(name) or abort(404)
    page = build(allowed, sees_all=sees_all, with_charts=False)
    svg = kpi_charts.cached_chart_svg(spec, kpi_charts.chart_table(spec, page.report))
    response = Response(svg, mimetype="image/svg+xml")
    response.headers["Content-Security-Policy"] = SVG_CSP
    if request.args.get("download"):
        f = page.report.filters
        response.headers["Content-Disposition"] = f'attachment; filename="kpi-{name}-{f.start}-{f.end}.svg"'
    return response


def csv_table(allowed: list[StockLocation], name: str, *, sees_all: bool) -> Response:
    page = build(allowed, sees_all=sees_all, with_charts=False)
    table = page.report.tables.get(name) or abort(404)
    f = page.report.filters
    return csv_response(f"kpi-{name}-{f.start}-{f.end}.csv", table.header, table.plain_rows())
