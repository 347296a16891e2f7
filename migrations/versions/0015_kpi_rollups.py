"""kpi rollups: daily KPI figures per location, channel and day, and the indexes that feed them

The KPI page reads only these tables (services/kpis.py); a job recomputes recent days from
packages, the transition log, planning traces and orders (services/kpi_rollups.py). The three
indexes let that job read a few days of history by time instead of scanning every row.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 23:10:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

COUNTS = ("packages", "packed", "packed_units", "shipped", "shipped_with_target", "shipped_on_time", "refused",
          "missing_reports", "missing_units", "cancelled", "orders_received", "orders_planned", "orders_split",
          "replans", "replans_succeeded", "transfers_received")


def _keys():
    return [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("location_id", sa.Integer(), sa.ForeignKey("stock_locations.id", ondelete="CASCADE"), nullable=True),
        sa.Column("channel_id", sa.Integer(), sa.ForeignKey("channels.id", ondelete="CASCADE"), nullable=False),
    ]


def upgrade():
    op.create_table(
        "kpi_days", *_keys(),
        *[sa.Column(name, sa.Integer(), nullable=False) for name in COUNTS],
        sa.Column("computed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_kpi_days_day_location_channel", "kpi_days", ["day", "location_id", "channel_id"])
    op.create_table(
        "kpi_day_buckets", *_keys(),
        sa.Column("metric", sa.String(length=16), nullable=False),
        sa.Column("bucket", sa.Integer(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_kpi_day_buckets_day", "kpi_day_buckets", ["day", "metric", "location_id", "channel_id"])
    op.create_table(
        "kpi_day_reasons", *_keys(),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_kpi_day_reasons_day", "kpi_day_reasons", ["day", "location_id", "channel_id"])
    op.create_index("ix_transition_log_created", "transition_log", ["created_at"])
    op.create_index("ix_planning_traces_created", "planning_traces", ["created_at"])
    op.create_index("ix_orders_received_at", "orders", ["received_at"])


def downgrade():
    op.drop_index("ix_orders_received_at", table_name="orders")
    op.drop_index("ix_planning_traces_created", table_name="planning_traces")
    op.drop_index("ix_transition_log_created", table_name="transition_log")
    op.drop_table("kpi_day_reasons")
    op.drop_table("kpi_day_buckets")
    op.drop_table("kpi_days")
