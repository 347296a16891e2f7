"""KPI charts as SVG, drawn on the server by pygal (docs/decisions.md: why pygal).

Each chart reads one `KpiTable` of the report, so the table under it on the page holds exactly
the numbers it draws. The colours are the Okabe-Ito palette, which people with any common form
of colour blindness tell apart, and every series also has its name in the legend and the table.
The SVG carries no script (pygal's tooltip loader is off and its inline config is dropped): it
works as an <img>, in print, and as a downloaded file.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pygal
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from pygal.style import Style
from redis.exceptions import RedisError

from app import i18n
from app.queues import redis_connection
from app.services import local_times
from app.services.kpis import KpiReport, KpiTable

log = logging.getLogger(__name__)
CACHE_SECONDS = 3600

# Okabe & Ito (2008), "Color Universal Design": blue, orange, bluish green, reddish purple,
# sky blue, vermillion, yellow, black.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
STYLE = Style(
    colors=PALETTE, background="#ffffff", plot_background="#ffffff", foreground="#222222",
    foreground_strong="#111111", foreground_subtle="#666666", opacity=".9", opacity_hover="1",
    font_family="system-ui, -apple-system, 'Segoe UI', Roboto, 'Noto Sans', sans-serif",
    title_font_size=18, label_font_size=13, major_label_font_size=13, legend_font_size=14,
    value_font_size=12, tooltip_font_size=14,
)
_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.DOTALL)


@dataclass(frozen=True)
class ChartSpec:
    name: str
    title: Callable[[], str]
    table: str  # which KpiTable it draws
    x: str  # the column on the x axis
    series: tuple[tuple[str, Callable[[], str]], ...]  # (column, legend label)
    kind: str = "line"  # line | bar | hbar | stacked


CHARTS: tuple[ChartSpec, ...] = (
    ChartSpec("processing", lambda: str(_l("Order processing time per day (minutes, received to packed)")),
              "days", "day", (("processing_median_min", lambda: str(_l("Median"))),
                              ("processing_p90_min", lambda: str(_l("90th percentile"))))),
    ChartSpec("quality", lambda: str(_l("Fulfilment and planning per day (%)")), "days", "day",
              (("fulfilment_rate", lambda: str(_l("Shipped within target"))),
               ("split_rate", lambda: str(_l("Split orders"))),
               ("replan_success", lambda: str(_l("Re-plans that found stock"))))),
    ChartSpec("errors", lambda: str(_l("Errors per 100 packages per day")), "days", "day",
              (("refused_rate", lambda: str(_l("Refused"))), ("missing_rate", lambda: str(_l("Missing items"))),
               ("cancelled_rate", lambda: str(_l("Cancelled")))), kind="stacked"),
    ChartSpec("locations", lambda: str(_l("Per location")), "locations", "location",
              (("fulfilment_rate", lambda: str(_l("Shipped within target (%)"))),
               ("error_rate", lambda: str(_l("Errors per 100 packages"))),
               ("missing_per_100_units", lambda: str(_l("Missing units per 100 picked")))), kind="hbar"),
    ChartSpec("channels", lambda: str(_l("Per channel")), "channels", "channel",
              (("orders_received", lambda: str(_l("Orders received"))), ("packed", lambda: str(_l("Packed")))),
              kind="bar"),
    ChartSpec("hours", lambda: str(_l("Packages packed by hour of the day")), "hours", "hour",
              (("packed", lambda: str(_l("Packages packed"))),), kind="bar"),
)
BY_NAME = {spec.name: spec for spec in CHARTS}


def _x_label(value: Any) -> str:
    if hasattr(value, "isoformat"):
        return local_times.date_text(value)  # "24 Nov 2026" / "24 Kas 2026"
    return f"{value:02d}:00" if isinstance(value, int) else str(value)


def _chart(spec: ChartSpec, count: int):
    common = dict(style=STYLE, js=[], width=900, height=420 if spec.kind != "hbar" else max(300, 60 + 36 * count),
                  legend_at_bottom=True, legend_at_bottom_columns=3, show_y_guides=True, truncate_label=-1,
                  no_data_text=str(_l("No data in this range")), print_values=False, margin=16)
    if spec.kind == "hbar":
        return pygal.HorizontalBar(**common)
    if spec.kind == "bar":
        return pygal.Bar(**common)
    if spec.kind == "stacked":
        return pygal.StackedBar(x_label_rotation=45 if count > 10 else 0, **common)
    return pygal.Line(x_label_rotation=45 if count > 10 else 0, show_dots=True, dots_size=4, **common)


def _value_text(value: Any) -> str:
    """Values and the y axis in the request's language: 12.5 → "12,5" in Turkish."""
    return "" if value is None else i18n.format_number(value)


def chart_svg(spec: ChartSpec, table: KpiTable) -> str:
    """The SVG document of one chart over its table's rows."""
    chart = _chart(spec, len(table.rows))
    chart.title = spec.title()
    chart.value_formatter = _value_text
    chart.x_labels = [_x_label(row[spec.x]) for row in table.rows]
    for column, label in spec.series:
        chart.add(label(), [row.get(column) for row in table.rows])
    return _SCRIPT.sub("", chart.render(is_unicode=True))


def cached_chart_svg(spec: ChartSpec, table: KpiTable) -> str:
    """`chart_svg`, kept in Redis under a hash of exactly what it draws (the chart, the language,
    the table's rows): drawing six charts costs more than reading every figure, and the figures
    change only when the rollup job runs. Without Redis the chart is simply drawn."""
    payload = json.dumps([spec.name, str(get_locale()), table.columns, table.rows], default=str, sort_keys=True)
    key = "packline:kpi-chart:" + hashlib.sha256(payload.encode()).hexdigest()
    try:
        hit = redis_connection().get(key)
    except (RedisError, OSError):
        hit = None
    if hit is not None:
        return hit.decode()
    svg = chart_svg(spec, table)
    try:
        redis_connection().set(key, svg.encode(), ex=CACHE_SECONDS)
    except (RedisError, OSError):
        log.warning("could not keep a KPI chart in Redis", exc_info=True)
    return svg


def chart_table(spec: ChartSpec, report: KpiReport) -> KpiTable:
    """The chart's own numbers as a table: its x column and its series, nothing else."""
    source = report.tables[spec.table]
    headers = dict(source.columns)
    columns = [(spec.x, headers.get(spec.x, spec.x))] + [(column, label()) for column, label in spec.series]
    table = KpiTable(spec.name, spec.title(), columns, source.rows)
    if source.shown_cells is not None:  # already formatted (a kept report): reuse its cells
        where = {key: n for n, (key, _) in enumerate(source.columns)}
        if all(key in where for key, _ in columns):
            picks = [where[key] for key, _ in columns]
            table.shown_cells = [[cells[n] for n in picks] for cells in source.shown_cells]
    return table
