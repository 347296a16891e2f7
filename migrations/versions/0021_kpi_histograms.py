"""kpi histograms per (day or week, location) and per (day or week, channel)

A first view of an arbitrary range summed ~59,000 bucket rows of kpi_location_buckets for two
weeks of fifty locations (1M packages, docs/benchmarks.md). These tables hold each distribution
of one metric at one location (or channel) over one day, and over each Monday-to-Sunday week, as
one row: a range reads its whole weeks and the days at either end, a few hundred rows. Filled
here from the existing second rollup, so an upgraded database shows the same figures at once.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07 05:20:00
"""
import json
from collections import defaultdict
from datetime import date, timedelta

import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None

TABLES = (("kpi_location_histograms", "kpi_location_buckets", "location_id", "stock_locations", True),
          ("kpi_channel_histograms", "kpi_channel_buckets", "channel_id", "channels", False))


def upgrade():
    for table, _source, key, parent, nullable in TABLES:
        op.create_table(
            table,
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("day", sa.Date(), nullable=False),
            sa.Column("span_days", sa.Integer(), nullable=False),
            sa.Column(key, sa.Integer(), sa.ForeignKey(f"{parent}.id", ondelete="CASCADE"), nullable=nullable),
            sa.Column("metric", sa.String(length=16), nullable=False),
            sa.Column("counts", sa.Text(), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
        op.create_index(f"ix_{table}_span", table, ["span_days", "day", "metric", key])
    bind = op.get_bind()
    for table, source, key, _parent, _nullable in TABLES:
        _backfill(bind, table, source, key)


def _backfill(bind, table: str, source: str, key: str) -> None:
    """One week of the second rollup at a time (bounded memory at any size)."""
    first, last = bind.execute(sa.text(f"SELECT min(day), max(day) FROM {source}")).one()
    if first is None:
        return
    first, last = _date(first), _date(last)
    target = sa.table(table, sa.column("day", sa.Date()), sa.column("span_days", sa.Integer()),
                      sa.column(key, sa.Integer()), sa.column("metric", sa.String()), sa.column("counts", sa.Text()))
    monday = first - timedelta(days=first.weekday())
    while monday <= last:
        days: dict[tuple, dict[int, int]] = defaultdict(dict)
        week: dict[tuple, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        rows = bind.execute(sa.text(f"SELECT day, {key}, metric, bucket, count FROM {source} "
                                    "WHERE day >= :a AND day <= :b"),
                            {"a": monday, "b": monday + timedelta(days=6)})
        for day, owner, metric, bucket, count in rows:
            days[(_date(day), owner, metric)][int(bucket)] = int(count)
            week[(owner, metric)][int(bucket)] += int(count)
        out = [{"day": d, "span_days": 1, key: owner, "metric": m, "counts": _encode(h)}
               for (d, owner, m), h in days.items()]
        out += [{"day": monday, "span_days": 7, key: owner, "metric": m, "counts": _encode(h)}
                for (owner, m), h in week.items()]
        if out:
            bind.execute(target.insert(), out)
        monday += timedelta(days=7)


def _encode(histogram) -> str:
    return json.dumps([v for b in sorted(histogram) for v in (b, histogram[b])], separators=(",", ":"))


def _date(value):
    return date.fromisoformat(value[:10]) if isinstance(value, str) else value


def downgrade():
    op.drop_table("kpi_channel_histograms")
    op.drop_table("kpi_location_histograms")
