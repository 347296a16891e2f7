"""The KPI report: figures over a date range from the daily rollups (models/kpis.py).

Reads only the rollup tables, so the page costs the same with a thousand packages or a million
(docs/benchmarks.md). `parse_filters` turns the page's query string into `KpiFilters`, or a plain
message and the default range; `report` builds every figure and table; each `KpiTable` is a
plain header + list of rows, for the page, the CSV export and the charts alike. Definitions:
docs/kpis.md.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import math
import operator
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from babel import numbers as babel_numbers
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy import and_, bindparam, case, func, or_, select

from app import i18n
from app.extensions import db
from app.models import Channel, StockLocation
from app.models.base import utcnow
from app.models.kpis import (
    DAY_COUNTS,
    WEEK,
    KpiChannelHistogram,
    KpiDay,
    KpiDayBucket,
    KpiDayReason,
    KpiLocationHistogram,
)
from app.services import kpi_rollups, local_times

DEFAULT_DAYS = 14
MAX_DAYS = 366
EARLIEST = date(2000, 1, 1)
DURATION_METRICS = ("processing", "transfer_lead", "order_sync", "stock_push")


class FilterProblem(ValueError):
    """A date range or filter the page cannot use; the message says what to do instead."""


@dataclass(frozen=True)
class KpiFilters:
    start: date
    end: date
    location_ids: tuple[int, ...] | None  # None: every location (and figures with no location)
    channel_ids: tuple[int, ...] | None

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]


def default_range(today: date | None = None) -> tuple[date, date]:
    today = today or local_times.local(utcnow()).date()
    return today - timedelta(days=DEFAULT_DAYS - 1), today


def parse_day(raw: str | None, first: bool) -> date | None:
    if raw is None or not raw.strip():
        return None
    try:
        day = date.fromisoformat(raw.strip()[:10])
    except ValueError:
        if first:
            message = _l('"%(value)s" is not a date. Pick the first day from the calendar (YYYY-MM-DD).',
                         value=raw[:20])
        else:
            message = _l('"%(value)s" is not a date. Pick the last day from the calendar (YYYY-MM-DD).',
                         value=raw[:20])
        raise FilterProblem(str(message)) from None
    return day


def parse_filters(args: Mapping[str, Any], allowed: list[StockLocation], channels: list[Channel], *,
                  sees_all: bool, today: date | None = None) -> tuple[KpiFilters, str | None]:
    """The filters of `args` (`from`, `to`, `location` (codes, repeatable), `channel` (codes)).

    `allowed` are the locations this person may see; `sees_all` says whether that is every
    location (then figures with no location count too). Anything unusable gives the default
    range and the message to show, never an error page."""
    problem: str | None = None
    start, end = default_range(today)
    try:
        start_arg = parse_day(args.get("from"), first=True)
        end_arg = parse_day(args.get("to"), first=False)
        if start_arg or end_arg:
            latest = end + timedelta(days=366)
            if any(day is not None and not EARLIEST <= day <= latest for day in (start_arg, end_arg)):
                # Before any arithmetic: a day a year from 0001 or 9999 has no neighbour to step to.
                raise FilterProblem(_l("Pick days between 2000 and next year."))
            s = start_arg or (end_arg - timedelta(days=DEFAULT_DAYS - 1))
            e = end_arg or max(s, min(s + timedelta(days=DEFAULT_DAYS - 1), end))
            if e < s:
                raise FilterProblem(_l("The first day is after the last day. Swap them and try again."))
            if s < EARLIEST or e > latest:
                raise FilterProblem(_l("Pick days between 2000 and next year."))
            if (e - s).days + 1 > MAX_DAYS:
                raise FilterProblem(_l("Pick at most %(n)s days at a time.", n=MAX_DAYS))
            start, end = s, e
    except FilterProblem as exc:
        problem = str(exc)
    by_code = {loc.code: loc.id for loc in allowed}
    wanted_locations = [c for c in _list(args, "location") if c]
    unknown = [c for c in wanted_locations if c not in by_code]
    if unknown:
        problem = problem or str(_l("No location %(code)s here; showing every location you can see.",
                                    code=unknown[0][:64]))
        wanted_locations = []
    if wanted_locations:
        location_ids: tuple[int, ...] | None = tuple(by_code[c] for c in wanted_locations)
    else:
        location_ids = None if sees_all else tuple(by_code.values()) or (-1,)
    channel_codes = {c.code: c.id for c in channels}
    wanted_channels = [c for c in _list(args, "channel") if c]
    bad_channels = [c for c in wanted_channels if c not in channel_codes]
    if bad_channels:
        problem = problem or str(_l("No channel %(code)s; showing every channel.", code=bad_channels[0][:64]))
        wanted_channels = []
    channel_ids = tuple(channel_codes[c] for c in wanted_channels) or None
    return KpiFilters(start, end, location_ids, channel_ids), problem


def _list(args: Mapping[str, Any], name: str) -> list[str]:
    getlist = getattr(args, "getlist", None)
    values = getlist(name) if getlist else ([args[name]] if name in args else [])
    return [str(v).strip() for v in values][:50]


# --- reading the rollups ----------------------------------------------------------------------

def _where(model, filters: KpiFilters) -> list:
    clauses = [model.day >= filters.start, model.day <= filters.end]
    if filters.location_ids is not None:
        clauses.append(model.location_id.in_(filters.location_ids))
    if filters.channel_ids is not None:
        clauses.append(model.channel_id.in_(filters.channel_ids))
    return clauses


def bucket_source(filters: KpiFilters, by: str):  # noqa: ARG001 - one table answers every grouping now
    """The bucket table SQL reads percentiles from when the histograms cannot answer (a location
    and a channel both picked out): the full (day, location, channel) rollup. (The per-location
    and per-channel bucket tables of migration 0018 were dropped in 0023: the histograms hold the
    same sums.)"""
    return KpiDayBucket


def _day_sums(filters: KpiFilters) -> tuple[dict[date, dict[str, int]], datetime | None]:
    """The kpi_days sums per day, and when the range's figures were last computed."""
    statement = _sums_statement(("day",), filters.location_ids is not None, filters.channel_ids is not None, True)
    out, computed_at = {}, None
    for row in db.session.execute(statement, _params(filters)):
        out[_day(row[0])] = dict(zip(DAY_COUNTS, (int(v) for v in row[1:-1]), strict=True))
        if row[-1] is not None and (computed_at is None or row[-1] > computed_at):
            computed_at = row[-1]
    return out, computed_at


def _owner_sums(filters: KpiFilters) -> tuple[dict[int | None, dict[str, int]], dict[int, dict[str, int]]]:
    """The kpi_days sums per location and per channel, from one read per (location, channel)."""
    statement = _sums_statement(("location_id", "channel_id"), filters.location_ids is not None,
                                filters.channel_ids is not None)
    per_location: dict[int | None, dict[str, int]] = {}
    per_channel: dict[int, dict[str, int]] = {}
    for location_id, channel_id, *values in db.session.execute(statement, _params(filters)):
        for sums, key in ((per_location, location_id), (per_channel, channel_id)):
            mine = sums.get(key)
            if mine is None:
                sums[key] = dict(zip(DAY_COUNTS, map(int, values), strict=True))
            else:
                for name, v in zip(DAY_COUNTS, values, strict=True):
                    mine[name] += int(v)
    return per_location, per_channel


@functools.lru_cache(maxsize=16)
def _sums_statement(group_names: tuple[str, ...], by_location: bool, by_channel: bool, computed: bool = False):
    """The sums of kpi_days per `group_names`, built once with bound parameters: building 16
    summed columns and their cache key each time cost a cold report ~10 ms. `computed` adds the
    latest computed_at."""
    groups = [getattr(KpiDay, name) for name in group_names]
    columns = [func.coalesce(func.sum(getattr(KpiDay, name)), 0) for name in DAY_COUNTS]
    if computed:
        columns.append(func.max(KpiDay.computed_at))
    clauses = [KpiDay.day >= bindparam("start"), KpiDay.day <= bindparam("end")]
    if by_location:
        clauses.append(KpiDay.location_id.in_(bindparam("locations", expanding=True)))
    if by_channel:
        clauses.append(KpiDay.channel_id.in_(bindparam("channels", expanding=True)))
    return select(*groups, *columns).where(*clauses).group_by(*groups)


def _params(filters: KpiFilters) -> dict[str, Any]:
    params: dict[str, Any] = {"start": filters.start, "end": filters.end}
    if filters.location_ids is not None:
        params["locations"] = list(filters.location_ids)
    if filters.channel_ids is not None:
        params["channels"] = list(filters.channel_ids)
    return params


def percentile(buckets: Mapping[int, int], p: float) -> int | None:
    """Nearest rank: the value of the ceil(p% × n)-th smallest event (its bucket's lower bound)."""
    n = sum(buckets.values())
    if not n:
        return None
    rank = max(1, math.ceil(p / 100 * n))
    seen = 0
    for value in sorted(buckets):
        seen += buckets[value]
        if seen >= rank:
            return value
    return None


def rate(part: int, whole: int, per: int = 100) -> float | None:
    return round(part * per / whole, 1) if whole else None


# --- the report -------------------------------------------------------------------------------

@dataclass
class KpiTable:
    """A header and plain rows: what the page shows under a chart and what the CSV holds."""

    name: str
    title: str
    columns: list[tuple[str, str]]  # (key, header)
    rows: list[dict[str, Any]]

    @property
    def header(self) -> list[str]:
        return [str(label) for _, label in self.columns]

    def plain_rows(self) -> list[list[Any]]:
        return [[row.get(key) for key, _ in self.columns] for row in self.rows]

    def cells(self) -> list[list[str]]:
        """Every value as the page shows it ("–" for no data), built here rather than cell by
        cell in the template: a year of days or fifty locations is thousands of cells. Kept on
        the table (`shown_cells`), so a report kept in Redis (per language) is formatted once."""
        if self.shown_cells is None:
            symbols = _symbols(str(i18n.current_locale()))
            days: dict[date, str] = {}
            self.shown_cells = [[shown(row.get(key), symbols, days) for key, _ in self.columns] for row in self.rows]
        return self.shown_cells

    shown_cells: list[list[str]] | None = None

    def body(self) -> Markup:
        """The table's rows as HTML (the first cell a row header), escaped and joined here rather
        than by a template loop per cell; kept on the table like `cells`."""
        if self.shown_body is None:
            self.shown_body = Markup("".join(
                f'<tr><th scope="row">{escape(cells[0])}</th>{"".join(f"<td>{escape(v)}</td>" for v in cells[1:])}</tr>'
                for cells in self.cells()))
        return self.shown_body

    shown_body: Markup | None = None


NO_DATA = "–"


@functools.lru_cache(maxsize=16)
def _symbols(locale: str) -> tuple[str, str]:
    """The language's decimal and grouping signs ("," and "." in Turkish)."""
    return babel_numbers.get_decimal_symbol(locale), babel_numbers.get_group_symbol(locale)


def shown(value: Any, symbols: tuple[str, str] | None = None, days: dict | None = None) -> str:
    """A table cell in the request's language: "24 Kas 2026", "1.234", "12,5" in Turkish (the
    CSV keeps ISO days and dot decimals: `plain_rows`). Numbers are written with the language's
    own signs by Python's formatting (the same text as i18n.format_number for these "#,##0" and
    "#,##0.0" patterns, at a fraction of its cost over thousands of cells)."""
    if value is None:
        return NO_DATA
    if isinstance(value, date):
        if days is None:
            return local_times.date_text(value)
        if value not in days:
            days[value] = local_times.date_text(value)
        return days[value]
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    decimal, group = symbols or _symbols(str(i18n.current_locale()))
    text = f"{value:,.1f}" if isinstance(value, float) else f"{value:,d}"
    if (decimal, group) == (".", ","):
        return text
    return text.replace(",", "\0").replace(".", decimal).replace("\0", group)


UNITS = {"min": _l("%(v)s min"), "h": _l("%(v)s h"), "s": _l("%(v)s s")}


def value_text(value: Any, unit: str = "") -> str:
    """A figure as the cards show it: "%100,0" / "100.0%", "0,0 dk" / "0.0 min", "–" for none."""
    if value is None:
        return NO_DATA
    if unit == "%":
        locale = i18n.current_locale()
        pattern = locale.percent_formats[None].pattern.replace("#,##0", "#,##0.0", 1)
        return babel_numbers.format_percent(value / 100, format=pattern, locale=locale, decimal_quantization=True)
    number = shown(value)
    return str(UNITS[unit] % {"v": number}) if unit in UNITS else number


@dataclass
class KpiReport:
    filters: KpiFilters
    totals: dict[str, Any]
    tables: dict[str, KpiTable] = field(default_factory=dict)
    hours: dict[int, int] = field(default_factory=dict)
    computed_at: datetime | None = None


Pcts = Mapping[str, tuple[int | None, int | None]]  # metric -> (median, p90) in seconds


def figures(counts: Mapping[str, int], pcts: Pcts) -> dict[str, Any]:
    """Every KPI from summed counts and the durations' medians and p90s (one day, one location,
    or all)."""
    none = (None, None)
    processing = pcts.get("processing", none)
    order_sync = pcts.get("order_sync", none)
    stock_push = pcts.get("stock_push", none)
    errors = counts.get("refused", 0) + counts.get("missing_reports", 0) + counts.get("cancelled", 0)
    return {
        **counts,
        "processing_median_min": _minutes(processing[0]),
        "processing_p90_min": _minutes(processing[1]),
        "fulfilment_rate": rate(counts.get("shipped_on_time", 0), counts.get("shipped_with_target", 0)),
        "errors": errors,
        "error_rate": rate(errors, counts.get("packages", 0)),
        "refused_rate": rate(counts.get("refused", 0), counts.get("packages", 0)),
        "missing_rate": rate(counts.get("missing_reports", 0), counts.get("packages", 0)),
        "cancelled_rate": rate(counts.get("cancelled", 0), counts.get("packages", 0)),
        "split_rate": rate(counts.get("orders_split", 0), counts.get("orders_planned", 0)),
        "replan_success": rate(counts.get("replans_succeeded", 0), counts.get("replans", 0)),
        "transfer_lead_median_h": _hours(pcts.get("transfer_lead", none)[0]),
        "order_sync_median_s": order_sync[0],
        "order_sync_p90_s": order_sync[1],
        "stock_push_median_s": stock_push[0],
        "stock_push_p90_s": stock_push[1],
        "missing_per_100_units": rate(counts.get("missing_units", 0),
                                      counts.get("packed_units", 0) + counts.get("missing_units", 0)),
    }


def _minutes(seconds: int | None) -> float | None:
    return None if seconds is None else round(seconds / 60, 1)


def _hours(seconds: int | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 1)


def bucket_percentiles(filters: KpiFilters, by: str | None) -> dict[Any, dict[str, tuple[int | None, int | None]]]:
    """The median and p90 (nearest rank, bucket lower edges) of every duration metric, per day,
    location or channel (`by`), or over the whole range (`by=None`, key None), computed in the
    database: summed buckets, a running total per group in bucket order, and the first bucket
    whose running total reaches the rank (running × 2 ≥ n for the median, × 10 ≥ 9n for the
    p90 — the same as ⌈p × n⌉ with whole numbers). Only one row per group and metric comes back,
    whatever the range holds."""
    model = bucket_source(filters, by or "day")
    keys = [getattr(model, {"day": "day", "location": "location_id", "channel": "channel_id"}[by])] if by else []
    grouped = (select(*[k.label("k") for k in keys], model.metric, model.bucket, func.sum(model.count).label("n"))
               .where(*_where(model, filters), model.metric.in_(DURATION_METRICS))
               .group_by(*keys, model.metric, model.bucket).subquery())
    part = ([grouped.c.k] if by else []) + [grouped.c.metric]
    running = select(*part, grouped.c.bucket,
                     func.sum(grouped.c.n).over(partition_by=part, order_by=grouped.c.bucket).label("cum"),
                     func.sum(grouped.c.n).over(partition_by=part).label("total")).subquery()
    outer = [running.c.k] if by else []
    rows = db.session.execute(
        select(*outer, running.c.metric,
               func.min(case((running.c.cum * 2 >= running.c.total, running.c.bucket))),
               func.min(case((running.c.cum * 10 >= running.c.total * 9, running.c.bucket))))
        .group_by(*outer, running.c.metric))
    out: dict[Any, dict[str, tuple[int | None, int | None]]] = defaultdict(dict)
    for row in rows:
        key, (metric, p50, p90) = (row[0], row[1:]) if by else (None, row)
        out[_day(key) if by == "day" else key][metric] = (_int(p50), _int(p90))
    return out


def histogram_source(filters: KpiFilters, by: str | None):
    """The histogram table (models/kpis.py) that can answer a grouping `by` ("day", "location",
    "channel", None for the whole range) under these filters, or None when only the full (day,
    location, channel) bucket rollup can (a location and a channel both picked out)."""
    if by == "location":
        return KpiLocationHistogram if filters.channel_ids is None else None
    if by == "channel":
        return KpiChannelHistogram if filters.location_ids is None else None
    if filters.location_ids is None:
        return KpiChannelHistogram
    return KpiLocationHistogram if filters.channel_ids is None else None


def whole_weeks(start: date, end: date) -> tuple[date, date] | None:
    """The Mondays of the first and last Monday-to-Sunday weeks lying wholly inside start..end."""
    first = start + timedelta(days=-start.weekday() % 7)
    last = kpi_rollups.monday(end - timedelta(days=WEEK - 1))
    return (first, last) if first <= last else None


@dataclass(frozen=True)
class Spans:
    """Which histogram rows add up to the days start..end exactly once: `rows` are (day,
    span_days) pairs (the range's last days of its first week, its first days of its last week, or
    one week's first or last days), `weeks` the Mondays of the whole weeks between, `days` a range
    read day by day (only a few days in the middle of one week)."""

    rows: tuple[tuple[date, int], ...] = ()
    weeks: tuple[date, date] | None = None
    days: tuple[date, date] | None = None


def spans(start: date, end: date) -> Spans:
    """A range as its histogram rows: Thursday 5 to Thursday 26 November is the last 4 days of
    the week of 2 November, the weeks of 9 and 16 November and the first 4 days of the week of 23
    November — three rows per location and metric whatever the range's length."""
    n = (end - start).days + 1
    if kpi_rollups.monday(start) == kpi_rollups.monday(end):
        if start.weekday() == 0 or end.weekday() == WEEK - 1:
            return Spans(rows=((start, n),))  # the week's first or last days, a day or the whole week
        return Spans(days=(start, end))
    rows = []
    if start.weekday():
        rows.append((start, WEEK - start.weekday()))
    if end.weekday() != WEEK - 1:
        rows.append((kpi_rollups.monday(end), end.weekday() + 1))
    return Spans(rows=tuple(rows), weeks=whole_weeks(start, end))


def histograms(filters: KpiFilters, by: str | None,
               metrics: Iterable[str]) -> dict[tuple[Any, str], list[tuple[int, int]]]:
    """The (bucket, count) pairs per (group, metric) from the histogram tables: the rows `spans`
    names (every day from the day rows when grouping `by` day). Added up, the same sums as the
    bucket rollup, from a few hundred rows; a bucket appears once per row that holds it (`ranked`
    needs no sums)."""
    model = histogram_source(filters, by)
    owners = filters.location_ids if model is KpiLocationHistogram else filters.channel_ids
    shape = Spans(days=(filters.start, filters.end)) if by == "day" else spans(filters.start, filters.end)
    params: dict[str, Any] = {}
    if shape.days:
        params.update(start=shape.days[0], end=shape.days[1])
    if shape.weeks:
        params.update(first=shape.weeks[0], last=shape.weeks[1])
    for n, (day, span) in enumerate(shape.rows):
        params.update({f"day{n}": day, f"span{n}": span})
    if owners is not None:
        params["owners"] = list(owners)
    statement = _histogram_statement(model, shape.days is not None, shape.weeks is not None, len(shape.rows),
                                     owners is not None, tuple(metrics))
    merged: dict[tuple[Any, str], list[tuple[int, int]]] = defaultdict(list)
    decode = kpi_rollups.decode
    for day, owner, metric, counts in db.session.execute(statement, params):
        flat = decode(counts)
        merged[(_day(day) if by == "day" else owner if by else None, metric)] += zip(flat[::2], flat[1::2], strict=True)
    return merged


def ranked(pairs: list[tuple[int, int]], *ps: int) -> tuple[int | None, ...]:
    """The nearest-rank percentiles `ps` of (bucket, count) pairs that may repeat a bucket (one per
    histogram row added): sorted by bucket, a running total, and the first bucket whose total
    reaches ⌈p × n / 100⌉ — the same as `percentile` over the summed buckets, with no Python loop
    over the buckets (sort, accumulate and bisect run in C)."""
    if not pairs:
        return (None,) * len(ps)
    pairs.sort()
    running = list(itertools.accumulate(map(operator.itemgetter(1), pairs)))
    n = running[-1]
    if not n:
        return (None,) * len(ps)
    return tuple(pairs[bisect.bisect_left(running, max(1, -(-p * n // 100)))][0] for p in ps)


@functools.lru_cache(maxsize=128)
def _histogram_statement(model, days: bool, weeks: bool, rows: int, owners: bool, metrics: tuple[str, ...]):
    """The histogram rows of a range, built once per shape with bound parameters (`spans`): the
    day rows from `start` to `end`, the week rows from Monday `first` to Monday `last`, and the
    rows (`day0`, `span0`), (`day1`, `span1`)."""
    key = model.location_id if model is KpiLocationHistogram else model.channel_id
    parts = []
    if days:
        parts.append(and_(model.span_days == 1, model.day >= bindparam("start"), model.day <= bindparam("end")))
    if weeks:
        parts.append(and_(model.span_days == WEEK, model.day >= bindparam("first"), model.day <= bindparam("last")))
    parts += [and_(model.span_days == bindparam(f"span{n}"), model.day == bindparam(f"day{n}")) for n in range(rows)]
    clauses = [or_(*parts) if len(parts) > 1 else parts[0], model.metric.in_(metrics)]
    if owners:
        clauses.append(key.in_(bindparam("owners", expanding=True)))
    return select(model.day, key, model.metric, model.counts).where(*clauses)


Percentiles = dict[Any, dict[str, tuple[int | None, int | None]]]


def _ranked_groups(merged: Mapping[tuple[Any, str], list[tuple[int, int]]],
                   whole: bool = False) -> tuple[Percentiles, dict[str, tuple[int | None, int | None]]]:
    """The median and p90 of each (group, metric)'s pairs, and (`whole`) of each metric's pairs
    over every group: the range's total, without reading the rows a second time."""
    out: Percentiles = defaultdict(dict)
    every: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for (group, metric), pairs in merged.items():
        if whole:
            every[metric] += pairs
        out[group][metric] = ranked(pairs, 50, 90)
    return out, {metric: ranked(pairs, 50, 90) for metric, pairs in every.items()}


def percentiles(filters: KpiFilters, by: str | None) -> Percentiles:
    """The median and p90 (nearest rank, bucket lower edges) of every duration metric per day,
    location or channel (`by`), or over the whole range (`by=None`, key None): from the
    histogram tables where the filters allow (`histograms`), else in SQL from the full bucket
    rollup (`bucket_percentiles`). Both give the same figures (tests/services/test_kpi_weeks.py)."""
    if histogram_source(filters, by) is None:
        return bucket_percentiles(filters, by)
    return _ranked_groups(histograms(filters, by, DURATION_METRICS))[0]


def _grouped_percentiles(filters: KpiFilters, by: str, whole: bool) -> tuple[Percentiles, dict | None]:
    """`percentiles(filters, by)`, and with `whole` the range's totals from the same pairs."""
    if histogram_source(filters, by) is None:
        return bucket_percentiles(filters, by), None
    out, total = _ranked_groups(histograms(filters, by, DURATION_METRICS), whole)
    return out, total if whole else None


def packed_by_hour(filters: KpiFilters) -> tuple[dict[int, int], int]:
    """Packages packed per local hour of the day over the range, and the number of (day, hour)
    pairs in which any was packed."""
    if histogram_source(filters, "day") is not None:
        return _packing_hours(histograms(filters, "day", ("packed_hour",)))
    hours: dict[int, int] = defaultdict(int)
    active_hours = 0
    hb = bucket_source(filters, "day")
    for _d, hour, n in db.session.execute(
            select(hb.day, hb.bucket, func.sum(hb.count))
            .where(*_where(hb, filters), hb.metric == "packed_hour")
            .group_by(hb.day, hb.bucket)):
        hours[int(hour)] += int(n)
        active_hours += 1
    return hours, active_hours


def _packing_hours(merged: Mapping[tuple[Any, str], list[tuple[int, int]]]) -> tuple[dict[int, int], int]:
    hours: dict[int, int] = defaultdict(int)
    active = 0
    for (_group, metric), pairs in merged.items():
        if metric != "packed_hour":
            continue
        seen = set()
        for hour, n in pairs:
            if n:
                hours[int(hour)] += n
                seen.add(hour)
        active += len(seen)
    return hours, active


def _day_figures(filters: KpiFilters) -> tuple[Percentiles, dict[int, int], int]:
    """The per-day percentiles and the packing hours, from one read of the day rows."""
    if histogram_source(filters, "day") is None:
        return bucket_percentiles(filters, "day"), *packed_by_hour(filters)
    merged = histograms(filters, "day", (*DURATION_METRICS, "packed_hour"))
    hours, active = _packing_hours(merged)
    durations, _ = _ranked_groups({k: v for k, v in merged.items() if k[1] != "packed_hour"})
    return durations, hours, active


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _day(value: Any) -> Any:
    """SQLite hands a date back from a subquery as text."""
    return date.fromisoformat(value) if isinstance(value, str) else value


def report(filters: KpiFilters, locations: Iterable[StockLocation], channels: Iterable[Channel]) -> KpiReport:
    """Every KPI of the range: totals, per day (every day, empty ones too), per location, per
    channel, errors by reason and packing by hour of the day."""
    names = {loc.id: loc for loc in locations}
    channel_names = {c.id: c for c in channels}
    per_day, computed_at = _day_sums(filters)
    per_location, per_channel = _owner_sums(filters)
    day_durations, hours, active_hours = _day_figures(filters)
    # The range's totals come from the pairs of the grouping that reads the same histogram table
    # (the channels' when no location is picked out, else the locations'), not from a fifth read.
    whole_from = {KpiChannelHistogram: "channel", KpiLocationHistogram: "location"}.get(
        histogram_source(filters, None))
    location_durations, location_total = _grouped_percentiles(filters, "location", whole_from == "location")
    channel_durations, channel_total = _grouped_percentiles(filters, "channel", whole_from == "channel")
    total_durations = location_total if whole_from == "location" else channel_total if whole_from else \
        bucket_percentiles(filters, None).get(None, {})

    totals_counts = {name: sum(c[name] for c in per_day.values()) for name in DAY_COUNTS}
    totals = figures(totals_counts, total_durations)

    totals["throughput_per_hour"] = round(totals["packed"] / active_hours, 1) if active_hours else None
    totals["active_hours"] = active_hours

    empty = dict.fromkeys(DAY_COUNTS, 0)
    day_rows = [{"day": day, **figures(per_day.get(day, empty), day_durations.get(day, {}))} for day in filters.days]
    location_rows = []
    for location_id, counts in sorted(per_location.items(), key=lambda kv: _location_sort(names, kv[0])):
        loc = names.get(location_id)
        location_rows.append({"location": loc.code if loc else str(_l("No location yet")),
                              "location_name": loc.name if loc else "",
                              **figures(counts, location_durations.get(location_id, {}))})
    channel_rows = [{"channel": channel_names[cid].code if cid in channel_names else str(cid),
                     **figures(counts, channel_durations.get(cid, {}))}
                    for cid, counts in sorted(per_channel.items(), key=lambda kv: _channel_sort(channel_names, kv[0]))]
    reason_rows = [
        {"kind": str(KIND_LABELS[kind]) if kind in KIND_LABELS else kind, "reason": reason_label(reason),
         "count": int(n), "per_100": rate(int(n), totals_counts["packages"])}
        for kind, reason, n in db.session.execute(
            select(KpiDayReason.kind, KpiDayReason.reason, func.sum(KpiDayReason.count))
            .where(*_where(KpiDayReason, filters)).group_by(KpiDayReason.kind, KpiDayReason.reason)
            .order_by(KpiDayReason.kind, func.sum(KpiDayReason.count).desc(), KpiDayReason.reason))]
    hour_rows = [{"hour": h, "packed": hours.get(h, 0)} for h in range(24)]

    out = KpiReport(filters, totals, hours=dict(hours), computed_at=computed_at)
    for table in (
        KpiTable("days", str(_l("Per day")), DAY_COLUMNS(), day_rows),
        KpiTable("locations", str(_l("Per location")), [("location", str(_l("Location")))] + FIGURE_COLUMNS(),
                 location_rows),
        KpiTable("channels", str(_l("Per channel")), [("channel", str(_l("Channel")))] + FIGURE_COLUMNS(),
                 channel_rows),
        KpiTable("reasons", str(_l("Errors by reason")),
                 [("kind", str(_l("Kind"))), ("reason", str(_l("Reason"))), ("count", str(_l("Count"))),
                  ("per_100", str(_l("Per 100 packages")))], reason_rows),
        KpiTable("hours", str(_l("Packed by hour of the day")),
                 [("hour", str(_l("Hour"))), ("packed", str(_l("Packages packed")))], hour_rows),
    ):
        out.tables[table.name] = table
    return out


KIND_LABELS = {"refused": _l("Refused"), "missing": _l("Missing items"), "cancelled": _l("Cancelled")}
MISSING_REASONS = {"not_found": _l("Not found (missing)"), "wrong_product": _l("Wrong item"),
                   "defective": _l("Defective")}


def reason_label(code: str) -> str:
    """A reason as people read it: the missing-item reasons in words, denial reason codes and
    cancellation texts as they were given, an empty one as "No reason given"."""
    if not code:
        return str(_l("No reason given"))
    return str(MISSING_REASONS[code]) if code in MISSING_REASONS else code


def _location_sort(names: Mapping[int, StockLocation], location_id: int | None) -> tuple[int, str]:
    loc = names.get(location_id) if location_id is not None else None
    return (1, "") if loc is None else (0, loc.code)


def _channel_sort(names: Mapping[int, Channel], channel_id: int) -> str:
    channel = names.get(channel_id)
    return channel.code if channel else str(channel_id)


def FIGURE_COLUMNS() -> list[tuple[str, str]]:  # noqa: N802 - a table's columns, read in the request's language
    return [
        ("packages", str(_l("Packages"))),
        ("packed", str(_l("Packed"))),
        ("processing_median_min", str(_l("Processing median (min)"))),
        ("processing_p90_min", str(_l("Processing p90 (min)"))),
        ("shipped", str(_l("Shipped"))),
        ("fulfilment_rate", str(_l("Shipped within target (%)"))),
        ("refused", str(_l("Refused"))),
        ("missing_reports", str(_l("Missing reports"))),
        ("cancelled", str(_l("Cancelled"))),
        ("error_rate", str(_l("Errors per 100 packages"))),
        ("orders_received", str(_l("Orders received"))),
        ("split_rate", str(_l("Split orders (%)"))),
        ("replan_success", str(_l("Re-plans that found stock (%)"))),
        ("transfers_received", str(_l("Transfers received"))),
        ("transfer_lead_median_h", str(_l("Transfer lead time median (h)"))),
        ("order_sync_median_s", str(_l("Order arrival delay median (s)"))),
        ("missing_per_100_units", str(_l("Missing units per 100 picked"))),
    ]


def DAY_COLUMNS() -> list[tuple[str, str]]:  # noqa: N802
    return [("day", str(_l("Day")))] + FIGURE_COLUMNS()


def csv_rows(table: KpiTable) -> tuple[list[str], list[list[Any]]]:
    """The header and rows of a KPI table for exports.csv_response."""
    return table.header, table.plain_rows()


Formatter = Callable[[Any], str]
