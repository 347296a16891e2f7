"""Daily KPI rollups (SPEC §10 KPIs, §12 "KPI page over 1,000,000 packages").

The KPI page never reads packages or the transition log: a job (`services/kpi_rollups.py`)
recomputes whole days into these tables, one set of rows per (day, location, channel). A day is
the location's own calendar day (its time zone, else the brand's). `location_id` is NULL for
figures that belong to no location yet (an order put on hold, a stock push to a channel).

- `kpi_days`: counts that add up over days, locations and channels.
- `kpi_day_buckets`: how many events fell in each bucket of a distribution (processing minutes,
  transfer lead time, channel delays, hour of the day), so medians and p90s over any range come
  from summed buckets instead of from every package.
- `kpi_day_reasons`: refusals, missing items and cancellations by their reason.
- `kpi_location_histograms`, `kpi_channel_histograms`: the same buckets summed over channels and
  over locations, one row per (day, location or channel, metric) holding the whole distribution
  as a list, one per Monday-to-Sunday week, and one per first or last 2-6 days of each week; a
  range reads its first days, its whole weeks and its last days, about three rows per location
  and metric for any range (docs/decisions.md). (Migration 0023 dropped the per-bucket
  `kpi_location_buckets` and `kpi_channel_buckets` of migration 0018 that these replaced.)

docs/kpis.md says which timestamps and states each figure counts.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import utcnow
from app.models.events import TransitionLog
from app.models.orders import Order, PlanningTrace

# Columns of kpi_days, in the order docs/kpis.md explains them.
DAY_COUNTS = (
    "packages",             # packages created (planned to the location) that day
    "packed",               # packages that became packed
    "packed_units",         # units in those packages
    "shipped",              # packages that left: shipped, or ready for pickup (click & collect)
    "shipped_with_target",  # ... of them at a location with a target_packaging_minutes
    "shipped_on_time",      # ... and within that target
    "refused",
    "missing_reports",
    "missing_units",
    "cancelled",
    "orders_received",
    "orders_planned",       # orders planned for the first time
    "orders_split",         # ... into more than one package
    "replans",
    "replans_succeeded",
    "transfers_received",
)
BUCKET_METRICS = ("processing", "transfer_lead", "order_sync", "stock_push", "packed_hour")
REASON_KINDS = ("refused", "missing", "cancelled")


class KpiDay(db.Model):
    __tablename__ = "kpi_days"
    __table_args__ = (Index("ix_kpi_days_day_location_channel", "day", "location_id", "channel_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    location_id: Mapped[int | None] = mapped_column(ForeignKey("stock_locations.id", ondelete="CASCADE"))
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    packages: Mapped[int] = mapped_column(Integer, default=0)
    packed: Mapped[int] = mapped_column(Integer, default=0)
    packed_units: Mapped[int] = mapped_column(Integer, default=0)
    shipped: Mapped[int] = mapped_column(Integer, default=0)
    shipped_with_target: Mapped[int] = mapped_column(Integer, default=0)
    shipped_on_time: Mapped[int] = mapped_column(Integer, default=0)
    refused: Mapped[int] = mapped_column(Integer, default=0)
    missing_reports: Mapped[int] = mapped_column(Integer, default=0)
    missing_units: Mapped[int] = mapped_column(Integer, default=0)
    cancelled: Mapped[int] = mapped_column(Integer, default=0)
    orders_received: Mapped[int] = mapped_column(Integer, default=0)
    orders_planned: Mapped[int] = mapped_column(Integer, default=0)
    orders_split: Mapped[int] = mapped_column(Integer, default=0)
    replans: Mapped[int] = mapped_column(Integer, default=0)
    replans_succeeded: Mapped[int] = mapped_column(Integer, default=0)
    transfers_received: Mapped[int] = mapped_column(Integer, default=0)
    computed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class KpiDayBucket(db.Model):
    """`count` events of `metric` whose value fell in the bucket starting at `bucket` (seconds;
    for `packed_hour` the local hour 0-23)."""

    __tablename__ = "kpi_day_buckets"
    __table_args__ = (Index("ix_kpi_day_buckets_day", "day", "metric", "location_id", "channel_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    location_id: Mapped[int | None] = mapped_column(ForeignKey("stock_locations.id", ondelete="CASCADE"))
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    metric: Mapped[str] = mapped_column(String(16))
    bucket: Mapped[int] = mapped_column(Integer)
    count: Mapped[int] = mapped_column(Integer)


WEEK = 7  # span_days of a week row: Monday to Sunday, `day` its Monday
# A row covers the days `day` .. `day + span_days - 1` of one Monday-to-Sunday week: a day (1),
# the whole week (7, from its Monday), the week's first 2-6 days (from its Monday) or its last
# 2-6 days (ending on its Sunday). A (day, span_days) pair names one row, whichever kind it is.


class KpiLocationHistogram(db.Model):
    """A distribution of one metric at one location over `span_days` days from `day` (a day, a
    Monday-to-Sunday week, or the first or last days of one, see WEEK): `counts` is the JSON list
    [bucket, count, bucket, count, ...] in bucket order, summed over channels. Written by the
    rollup job with kpi_day_buckets; the KPI page reads these for per-location figures."""

    __tablename__ = "kpi_location_histograms"
    __table_args__ = (Index("ix_kpi_location_histograms_span", "span_days", "day", "metric", "location_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    span_days: Mapped[int] = mapped_column(Integer)
    location_id: Mapped[int | None] = mapped_column(ForeignKey("stock_locations.id", ondelete="CASCADE"))
    metric: Mapped[str] = mapped_column(String(16))
    counts: Mapped[str] = mapped_column(Text)


class KpiChannelHistogram(db.Model):
    """As KpiLocationHistogram, per channel (summed over locations): the per-channel table, and
    the day series and totals when no location is picked out."""

    __tablename__ = "kpi_channel_histograms"
    __table_args__ = (Index("ix_kpi_channel_histograms_span", "span_days", "day", "metric", "channel_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    span_days: Mapped[int] = mapped_column(Integer)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    metric: Mapped[str] = mapped_column(String(16))
    counts: Mapped[str] = mapped_column(Text)


class KpiDayReason(db.Model):
    __tablename__ = "kpi_day_reasons"
    __table_args__ = (Index("ix_kpi_day_reasons_day", "day", "location_id", "channel_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    location_id: Mapped[int | None] = mapped_column(ForeignKey("stock_locations.id", ondelete="CASCADE"))
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(64))
    count: Mapped[int] = mapped_column(Integer)


# The rollup job reads recent history by time; these indexes make that a range scan instead of
# a walk through every row (declared here so the tables' own modules stay about their domain).
Index("ix_transition_log_created", TransitionLog.created_at)
Index("ix_planning_traces_created", PlanningTrace.created_at)
Index("ix_orders_received_at", Order.received_at)
