"""kpi rollups per (day, location) and per (day, channel); export runs' heartbeat

The KPI page read one bucket row per (day, location, channel, metric, bucket): ~100,000 rows for
two weeks at a million packages, three times. These two tables hold the same buckets summed over
channels and over locations, with covering indexes, so the page reads a few thousand rows
(services/kpis.py). `export_runs.heartbeat_at` lets a run whose worker died be noticed and
failed instead of staying "running" (services/export_runs.py).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 02:10:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "kpi_location_buckets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("location_id", sa.Integer(), sa.ForeignKey("stock_locations.id", ondelete="CASCADE"), nullable=True),
        sa.Column("metric", sa.String(length=16), nullable=False),
        sa.Column("bucket", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_kpi_location_buckets_cover", "kpi_location_buckets",
                    ["day", "metric", "location_id", "bucket", "count"])
    op.create_table(
        "kpi_channel_buckets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("channel_id", sa.Integer(), sa.ForeignKey("channels.id", ondelete="CASCADE"), nullable=False),
        sa.Column("metric", sa.String(length=16), nullable=False),
        sa.Column("bucket", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_kpi_channel_buckets_cover", "kpi_channel_buckets",
                    ["day", "metric", "channel_id", "bucket", "count"])
    # Fill them from the existing rollup, so an upgraded database shows the same figures at once.
    op.execute("INSERT INTO kpi_location_buckets (day, location_id, metric, bucket, count) "
               "SELECT day, location_id, metric, bucket, SUM(count) FROM kpi_day_buckets "
               "GROUP BY day, location_id, metric, bucket")
    op.execute("INSERT INTO kpi_channel_buckets (day, channel_id, metric, bucket, count) "
               "SELECT day, channel_id, metric, bucket, SUM(count) FROM kpi_day_buckets "
               "GROUP BY day, channel_id, metric, bucket")
    with op.batch_alter_table("export_runs") as batch:
        batch.add_column(sa.Column("heartbeat_at", sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table("export_runs") as batch:
        batch.drop_column("heartbeat_at")
    op.drop_table("kpi_channel_buckets")
    op.drop_table("kpi_location_buckets")
