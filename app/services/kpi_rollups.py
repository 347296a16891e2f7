"""Recompute the daily KPI rollups (models/kpis.py) from the history the commands write.

Every figure belongs to the day its event happened, in the location's time zone (else the
brand's): a package packed at 00:30 in Istanbul on 7 December counts on 7 December there. So a
finished day never changes again, and the periodic job only recomputes the last two days;
`rebuild(start, end)` (CLI `flask kpis rebuild`) recomputes any range, e.g. after an import of
old history. A run reads the history first, then replaces the rows of its days in one short write
transaction under a named lock, so two runs at once cannot double a day. docs/kpis.md defines each figure.
The same transaction writes each day's distributions as histogram rows per location and per
channel, and re-sums every Monday-to-Sunday week its days touch, with each week's first and last
2-6 days (`_replace_histograms`): what the page reads for a range.

Sources, read by time through indexes (migration 0015): the transition log (packages created,
packed, shipped, refused, cancelled, missing reports; transfers received), planning traces
(first plans, splits, re-plans), orders (received), and the channels' stock pushes.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, delete, func, or_, select

from app.extensions import db
from app.models import (
    ChannelStockSync,
    Order,
    Package,
    PackageItem,
    PlanningTrace,
    StockLocation,
    Transfer,
    TransitionLog,
)
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
from app.services import db as dbtx
from app.services import kpi_cache, local_times
from app.services.planning.writer import bulk_insert

PACKED = ("waiting_cargo_label", "packed")
LEFT = ("shipped", "ready_for_pickup")  # a package "left" the location: shipped or ready for pickup
CANCEL_COMMANDS = ("cancel", "cancel_order", "packed_for_refund")  # what a person or the channel cancelled
PLANNED_OUTCOMES = ("planned", "split", "transfer", "click_and_collect")
NOT_A_PLAN = ("on_hold", "no_scenario", "nothing_to_plan")
RECENT_DAYS = 2  # the periodic run recomputes today and yesterday
LOCK = "kpi-rollup"
MARGIN = timedelta(hours=15)  # wider than any zone's offset from UTC (-12 .. +14)
NO_REASON = ""


def bucket_of(seconds: float) -> int:
    """The lower bound (seconds) of the bucket a duration falls in: whole seconds under two
    minutes, minutes under two hours, 5 minutes under 8 hours, 30 minutes under 3 days, then
    hours. Medians and p90s are read off these buckets (docs/kpis.md)."""
    s = max(0, int(seconds))
    for limit, step in ((120, 1), (7200, 60), (8 * 3600, 300), (3 * 86400, 1800)):
        if s < limit:
            return s - s % step
    return s - s % 3600


Key = tuple[date, int | None, int]  # (day, location_id, channel_id)


@dataclass
class Rollup:
    """The figures of some days, built in memory before they replace the stored rows."""

    days: set[date]
    zones: dict[int | None, ZoneInfo]
    counts: dict[Key, dict[str, int]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(int)))
    buckets: dict[tuple[Key, str, int], int] = field(default_factory=lambda: defaultdict(int))
    reasons: dict[tuple[Key, str, str], int] = field(default_factory=lambda: defaultdict(int))

    def key(self, when: datetime, location_id: int | None, channel_id: int) -> Key | None:
        zone = self.zones.get(location_id) or self.zones[None]
        day = when.replace(tzinfo=UTC).astimezone(zone).date()
        return (day, location_id, channel_id) if day in self.days else None

    def local_hour(self, when: datetime, location_id: int | None) -> int:
        zone = self.zones.get(location_id) or self.zones[None]
        return when.replace(tzinfo=UTC).astimezone(zone).hour

    def add(self, key: Key, name: str, n: int = 1) -> None:
        self.counts[key][name] += n

    def sample(self, key: Key, metric: str, seconds: float) -> None:
        self.buckets[(key, metric, bucket_of(seconds))] += 1


def recompute_recent(now: datetime | None = None) -> dict[str, Any]:
    """Recompute today and yesterday (the brand's calendar, a day either side for other zones)."""
    now = now or utcnow()
    today = local_times.local(now).date()
    return rebuild(today - timedelta(days=RECENT_DAYS - 1) - timedelta(days=1), today + timedelta(days=1))


def rebuild(start: date, end: date) -> dict[str, Any]:
    """Recompute the days `start`..`end` (inclusive) for every location and channel; commits once."""
    if end < start:
        raise ValueError("end before start")
    try:
        # Read first, write after: on SQLite the write transaction holds the whole database, and
        # reading a few days of history takes seconds at a million packages. Two runs at once may
        # then write in either order (the later-read figures can lose to earlier ones until the
        # next run); the lock keeps each run's delete + insert whole, so a day is never doubled.
        rollup = _collect(start, end)
        dbtx.begin_write()
        dbtx.lock_names(LOCK)
        written = _replace(rollup, start, end)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    kpi_cache.bump()
    return {"from": start.isoformat(), "to": end.isoformat(), **written}


def _zones() -> dict[int | None, ZoneInfo]:
    zones: dict[int | None, ZoneInfo] = {None: local_times.zone(None)}
    for loc in db.session.scalars(select(StockLocation)):
        zones[loc.id] = local_times.zone(loc)
    return zones


def _collect(start: date, end: date) -> Rollup:
    days = {start + timedelta(days=n) for n in range((end - start).days + 1)}
    rollup = Rollup(days, _zones())
    since = datetime.combine(start, time()) - MARGIN
    until = datetime.combine(end + timedelta(days=1), time()) + MARGIN
    targets = dict(db.session.execute(select(StockLocation.id, StockLocation.target_packaging_minutes)).all())
    _packages(rollup, since, until, targets)
    _transfers(rollup, since, until)
    _orders(rollup, since, until)
    _traces(rollup, since, until)
    _stock_pushes(rollup, since, until)
    return rollup


def _packages(rollup: Rollup, since: datetime, until: datetime, targets: dict[int, int | None]) -> None:
    t = TransitionLog
    rows = db.session.execute(
        select(t.from_state, t.to_state, t.command, t.params, t.created_at, Package.id, Package.location_id,
               Package.created_at, Order.channel_id, Order.received_at, Order.cancel_reason)
        .join(Package, Package.id == t.entity_id).join(Order, Order.id == Package.order_id)
        .where(t.entity_type == "package", t.created_at >= since, t.created_at < until,
               or_(t.from_state.is_(None), t.to_state.in_((*PACKED, *LEFT, "refused", "cancelled", "packed_for_refund")),
                   t.command == "report_missing"))
    )
    packed: dict[int, Key] = {}
    for from_state, to_state, command, params, at, package_id, location_id, created, channel_id, received, \
            order_reason in rows:
        key = rollup.key(at, location_id, channel_id)
        if key is None:
            continue
        params = params or {}
        if from_state is None:
            rollup.add(key, "packages")
        elif to_state in PACKED and from_state not in PACKED:
            rollup.add(key, "packed")
            rollup.sample(key, "processing", (at - received).total_seconds())
            rollup.buckets[(key, "packed_hour", rollup.local_hour(at, location_id))] += 1
            packed[package_id] = key
        elif to_state in LEFT and from_state == "packed":
            rollup.add(key, "shipped")
            target = targets.get(location_id)
            if target:
                rollup.add(key, "shipped_with_target")
                if at - created <= timedelta(minutes=target):
                    rollup.add(key, "shipped_on_time")
        elif to_state == "refused" and from_state != "refused":
            rollup.add(key, "refused")
            rollup.reasons[(key, "refused", str(params.get("reason") or NO_REASON)[:64])] += 1
        elif command == "report_missing" and (to_state == from_state or params.get("whole_package")):
            items = params.get("items") or []
            rollup.add(key, "missing_reports")
            rollup.add(key, "missing_units", sum(int(i.get("quantity") or 0) for i in items))
            for reason in sorted({str(i.get("reason") or "not_found") for i in items} or {"not_found"}):
                rollup.reasons[(key, "missing", reason[:64])] += 1
        elif to_state in ("cancelled", "packed_for_refund") and command in CANCEL_COMMANDS and from_state != to_state:
            rollup.add(key, "cancelled")
            reason = params.get("reason") or order_reason or NO_REASON
            rollup.reasons[(key, "cancelled", str(reason)[:64])] += 1
    _packed_units(rollup, packed)


def _packed_units(rollup: Rollup, packed: dict[int, Key]) -> None:
    ids = list(packed)
    for n in range(0, len(ids), 5000):
        chunk = ids[n:n + 5000]
        rows = db.session.execute(
            select(PackageItem.package_id, func.sum(PackageItem.quantity))
            .where(dbtx.in_values(PackageItem.package_id, chunk), PackageItem.state != "cancelled")
            .group_by(PackageItem.package_id))
        for package_id, units in rows:
            rollup.add(packed[package_id], "packed_units", int(units or 0))


def _transfers(rollup: Rollup, since: datetime, until: datetime) -> None:
    t = TransitionLog
    rows = db.session.execute(
        select(t.created_at, Transfer.created_at, Transfer.destination_id, Order.channel_id)
        .join(Transfer, Transfer.id == t.entity_id).join(Package, Package.id == Transfer.package_id)
        .join(Order, Order.id == Package.order_id)
        .where(t.entity_type == "transfer", t.to_state == "received", t.from_state != "received",
               t.created_at >= since, t.created_at < until))
    for at, created, destination_id, channel_id in rows:
        key = rollup.key(at, destination_id, channel_id)
        if key is not None:
            rollup.add(key, "transfers_received")
            rollup.sample(key, "transfer_lead", (at - created).total_seconds())


def _first_package_location():
    """The location of an order's first package (its lowest id), as a correlated subquery."""
    return (select(Package.location_id).where(Package.order_id == Order.id)
            .order_by(Package.id).limit(1).correlate(Order).scalar_subquery())


def _orders(rollup: Rollup, since: datetime, until: datetime) -> None:
    rows = db.session.execute(
        select(Order.received_at, Order.placed_at, Order.channel_id, _first_package_location())
        .where(Order.received_at >= since, Order.received_at < until))
    for received, placed, channel_id, location_id in rows:
        key = rollup.key(received, location_id, channel_id)
        if key is not None:
            rollup.add(key, "orders_received")
            rollup.sample(key, "order_sync", (received - placed).total_seconds() if placed else 0)


def _traces(rollup: Rollup, since: datetime, until: datetime) -> None:
    rows = db.session.execute(
        select(PlanningTrace.created_at, PlanningTrace.outcome, PlanningTrace.is_replan, Order.channel_id,
               _first_package_location())
        .join(Order, Order.id == PlanningTrace.order_id)
        .where(PlanningTrace.created_at >= since, PlanningTrace.created_at < until))
    for at, outcome, is_replan, channel_id, location_id in rows:
        key = rollup.key(at, location_id, channel_id)
        if key is None or outcome in NOT_A_PLAN:
            continue
        if is_replan:
            rollup.add(key, "replans")
            if outcome in PLANNED_OUTCOMES:
                rollup.add(key, "replans_succeeded")
        else:
            rollup.add(key, "orders_planned")
            if outcome == "split":
                rollup.add(key, "orders_split")


def _stock_pushes(rollup: Rollup, since: datetime, until: datetime) -> None:
    rows = db.session.execute(
        select(ChannelStockSync.pushed_at, ChannelStockSync.delay_ms, ChannelStockSync.channel_id)
        .where(ChannelStockSync.pushed_at >= since, ChannelStockSync.pushed_at < until,
               ChannelStockSync.delay_ms.is_not(None)))
    for at, delay_ms, channel_id in rows:
        key = rollup.key(at, None, channel_id)
        if key is not None:
            rollup.sample(key, "stock_push", delay_ms / 1000)


def _replace(rollup: Rollup, start: date, end: date) -> dict[str, int]:
    in_range = and_(KpiDay.day >= start, KpiDay.day <= end)
    db.session.execute(delete(KpiDay).where(in_range))
    db.session.execute(delete(KpiDayBucket).where(KpiDayBucket.day >= start, KpiDayBucket.day <= end))
    db.session.execute(delete(KpiDayReason).where(KpiDayReason.day >= start, KpiDayReason.day <= end))
    now = utcnow()
    day_rows = [{"day": day, "location_id": loc, "channel_id": ch,
                 **{name: counts.get(name, 0) for name in DAY_COUNTS}, "computed_at": now}
                for (day, loc, ch), counts in rollup.counts.items()]
    bucket_rows = [{"day": key[0], "location_id": key[1], "channel_id": key[2], "metric": metric,
                    "bucket": bucket, "count": n} for (key, metric, bucket), n in rollup.buckets.items()]
    reason_rows = [{"day": key[0], "location_id": key[1], "channel_id": key[2], "kind": kind,
                    "reason": reason, "count": n} for (key, kind, reason), n in rollup.reasons.items()]
    # The same buckets summed over channels and over locations: the histogram rows the page
    # reads (services/kpis.py), so its cost follows days × locations, not packages.
    by_location: dict[tuple, int] = defaultdict(int)
    by_channel: dict[tuple, int] = defaultdict(int)
    for (key, metric, bucket), n in rollup.buckets.items():
        by_location[(key[0], key[1], metric, bucket)] += n
        by_channel[(key[0], key[2], metric, bucket)] += n
    # A day with only a distribution (a stock push) still gets its kpi_days row, so "computed
    # at" and the day's existence are in one place.
    seen = {(r["day"], r["location_id"], r["channel_id"]) for r in day_rows}
    for r in (*bucket_rows, *reason_rows):
        k = (r["day"], r["location_id"], r["channel_id"])
        if k not in seen:
            seen.add(k)
            day_rows.append({"day": k[0], "location_id": k[1], "channel_id": k[2],
                             **dict.fromkeys(DAY_COUNTS, 0), "computed_at": now})
    for table, rows in ((KpiDay.__table__, day_rows), (KpiDayBucket.__table__, bucket_rows),
                        (KpiDayReason.__table__, reason_rows)):
        bulk_insert(table, rows)
    histograms = _replace_histograms(by_location, by_channel, start, end)
    return {"days": len(day_rows), "buckets": len(bucket_rows), "reasons": len(reason_rows), "histograms": histograms}


def encode(histogram: dict[int, int]) -> str:
    """A distribution as stored in the histogram tables: [bucket, count, ...] in bucket order."""
    return json.dumps([v for b in sorted(histogram) for v in (b, histogram[b])], separators=(",", ":"))


def decode(text: str) -> list[int]:
    return json.loads(text)


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _replace_histograms(by_location: dict[tuple, int], by_channel: dict[tuple, int], start: date, end: date) -> int:
    """The third rollup: each (day, location/channel, metric) distribution as one row, then every
    Monday-to-Sunday week touching `start`..`end` summed again from the day rows (its days outside
    the range as they are stored) into its week row and the rows of its first and last 2-6 days
    (`week_spans`), so a range reads its first days, whole weeks and last days
    (services/kpis.py). Runs in the caller's write transaction, under its lock."""
    first_week, last_week = monday(start), monday(end)
    written = 0
    for model, key, summed in ((KpiLocationHistogram, "location_id", by_location),
                               (KpiChannelHistogram, "channel_id", by_channel)):
        db.session.execute(delete(model).where(model.span_days == 1, model.day >= start, model.day <= end))
        db.session.execute(delete(model).where(model.span_days > 1, model.day >= first_week,
                                               model.day <= last_week + timedelta(days=WEEK - 1)))
        days: dict[tuple, dict[int, int]] = defaultdict(dict)
        for (day, owner, metric, bucket), n in summed.items():
            days[(day, owner, metric)][bucket] = n
        rows = [{"day": d, "span_days": 1, key: owner, "metric": m, "counts": encode(h)}
                for (d, owner, m), h in days.items()]
        bulk_insert(model.__table__, rows)
        column = getattr(model, key)
        weeks: dict[tuple, list[list[int] | None]] = defaultdict(lambda: [None] * WEEK)
        for day, owner, metric, counts in db.session.execute(
                select(model.day, column, model.metric, model.counts)
                .where(model.span_days == 1, model.day >= first_week, model.day <= last_week + timedelta(days=6))):
            day = _as_date(day)
            weeks[(monday(day), owner, metric)][day.weekday()] = decode(counts)
        span_rows = [{"day": d, "span_days": span, key: owner, "metric": m, "counts": counts}
                     for (week, owner, m), week_days in weeks.items()
                     for d, span, counts in week_spans(week, week_days)]
        bulk_insert(model.__table__, span_rows)
        written += len(rows) + len(span_rows)
    return written


def week_spans(week: date, days: list[list[int] | None]) -> Iterable[tuple[date, int, str]]:
    """The rows longer than a day of the week starting on Monday `week`, from its seven day
    histograms (`days`, decoded, None for a day with nothing): (day, span_days, counts) of its
    first 2..7 days (7: the week row) and its last 2..6 days, each that holds anything
    (migration 0023 fills the same rows for an upgraded database)."""
    running: dict[int, int] = defaultdict(int)
    for n, flat in enumerate(days):  # the first n + 1 days
        if flat:
            for i in range(0, len(flat), 2):
                running[flat[i]] += flat[i + 1]
        if n and running:
            yield week, n + 1, encode(running)
    running = defaultdict(int)
    for n in range(WEEK - 1, 0, -1):  # from day n to Sunday: the last WEEK - n days, spans 2 .. 6
        flat = days[n]
        if flat:
            for i in range(0, len(flat), 2):
                running[flat[i]] += flat[i + 1]
        if n < WEEK - 1 and running:
            yield week + timedelta(days=n), WEEK - n, encode(running)


def _as_date(value: Any) -> date:
    return date.fromisoformat(value[:10]) if isinstance(value, str) else value


def last_computed() -> datetime | None:
    return db.session.scalar(select(func.max(KpiDay.computed_at)))


def days_between(start: date, end: date) -> Iterable[date]:
    for n in range((end - start).days + 1):
        yield start + timedelta(days=n)
