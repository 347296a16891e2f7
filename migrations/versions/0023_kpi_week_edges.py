"""kpi histograms of each week's first and last 2-6 days; drop the per-bucket second rollup

A range read its whole weeks and then up to six day rows at either end: ~13 rows per location
and metric for two weeks. With a row for each Monday-to-Sunday week's first 2-6 days (from its
Monday) and last 2-6 days (ending on its Sunday), a range is its first week's last days, its
whole weeks and its last week's first days: three rows (docs/decisions.md). Filled here from the
day rows of migration 0021, so an upgraded database shows the same figures at once.

`kpi_location_buckets` and `kpi_channel_buckets` (migration 0018) are no longer read by the page
(the histograms hold the same sums); dropped, so the rollup stops writing ~2.3M rows a year at
1M packages. The downgrade re-creates them from `kpi_day_buckets`.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07 08:40:00
"""
import json
from collections import defaultdict
from datetime import date, timedelta

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

WEEK = 7
HISTOGRAMS = (("kpi_location_histograms", "location_id"), ("kpi_channel_histograms", "channel_id"))
BUCKETS = (("kpi_location_buckets", "location_id", "stock_locations", True),
           ("kpi_channel_buckets", "channel_id", "channels", False))


def upgrade():
    bind = op.get_bind()
    for table, key in HISTOGRAMS:
        _fill_week_edges(bind, table, key)
    for table, _key, _parent, _nullable in BUCKETS:
        op.drop_index(f"ix_{table}_cover", table_name=table)
        op.drop_table(table)


def _fill_week_edges(bind, table: str, key: str) -> None:
    """Each week's first and last 2-6 days summed from its day rows, one week at a time
    (bounded memory at any size); the same rows as kpi_rollups.week_spans writes."""
    bind.execute(sa.text(f"DELETE FROM {table} WHERE span_days > 1 AND span_days < {WEEK}"))
    first, last = bind.execute(sa.text(f"SELECT min(day), max(day) FROM {table} WHERE span_days = 1")).one()
    if first is None:
        return
    first, last = _date(first), _date(last)
    target = sa.table(table, sa.column("day", sa.Date()), sa.column("span_days", sa.Integer()),
                      sa.column(key, sa.Integer()), sa.column("metric", sa.String()), sa.column("counts", sa.Text()))
    monday = first - timedelta(days=first.weekday())
    while monday <= last:
        weeks: dict[tuple, list] = defaultdict(lambda: [None] * WEEK)
        rows = bind.execute(sa.text(f"SELECT day, {key}, metric, counts FROM {table} "
                                    "WHERE span_days = 1 AND day >= :a AND day <= :b"),
                            {"a": monday, "b": monday + timedelta(days=WEEK - 1)})
        for day, owner, metric, counts in rows:
            weeks[(owner, metric)][_date(day).weekday()] = json.loads(counts)
        out = [{"day": d, "span_days": span, key: owner, "metric": metric, "counts": counts}
               for (owner, metric), days in weeks.items()
               for d, span, counts in _edges(monday, days)]
        if out:
            bind.execute(target.insert(), out)
        monday += timedelta(days=WEEK)


def _edges(monday: date, days: list):
    """(day, span_days, counts) of the week's first 2-6 days and last 2-6 days that hold anything
    (the week rows themselves, span 7, are 0021's)."""
    running: dict[int, int] = defaultdict(int)
    for n in range(WEEK - 1):  # the first n + 1 days
        for i in range(0, len(days[n] or ()), 2):
            running[days[n][i]] += days[n][i + 1]
        if n and running:
            yield monday, n + 1, _encode(running)
    running = defaultdict(int)
    for n in range(WEEK - 1, 0, -1):  # day n to Sunday
        for i in range(0, len(days[n] or ()), 2):
            running[days[n][i]] += days[n][i + 1]
        if n < WEEK - 1 and running:
            yield monday + timedelta(days=n), WEEK - n, _encode(running)


def _encode(histogram) -> str:
    return json.dumps([v for b in sorted(histogram) for v in (b, histogram[b])], separators=(",", ":"))


def _date(value):
    return date.fromisoformat(value[:10]) if isinstance(value, str) else value


def downgrade():
    bind = op.get_bind()
    for table, key, parent, nullable in BUCKETS:
        op.create_table(
            table,
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("day", sa.Date(), nullable=False),
            sa.Column(key, sa.Integer(), sa.ForeignKey(f"{parent}.id", ondelete="CASCADE"), nullable=nullable),
            sa.Column("metric", sa.String(length=16), nullable=False),
            sa.Column("bucket", sa.Integer(), nullable=False),
            sa.Column("count", sa.Integer(), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index(f"ix_{table}_cover", table, ["day", "metric", key, "bucket", "count"])
        bind.execute(sa.text(f"INSERT INTO {table} (day, {key}, metric, bucket, count) "
                             f"SELECT day, {key}, metric, bucket, sum(count) FROM kpi_day_buckets "
                             f"GROUP BY day, {key}, metric, bucket"))
    for table, _key in HISTOGRAMS:
        bind.execute(sa.text(f"DELETE FROM {table} WHERE span_days > 1 AND span_days < {WEEK}"))
