"""channels: connectors (SPEC §13) — adapter + config on channels, mappings, the inbox, status
pushes, stock syncs and cursors.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 19:55:00
"""
from alembic import op
import sqlalchemy as sa


revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("channels") as batch:
        batch.add_column(sa.Column("adapter", sa.String(length=16), nullable=False, server_default="api"))
        batch.add_column(sa.Column("config", sa.JSON(), nullable=True))
    op.create_table(
        "channel_mappings",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("channel_id", sa.Integer(), sa.ForeignKey("channels.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("channel_value", sa.String(length=200), nullable=False),
        sa.Column("our_value", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), server_default=sa.func.now(), nullable=False),
        sa.UniqueConstraint("channel_id", "kind", "channel_value", name="uq_channel_mappings_value"),
        sa.CheckConstraint("kind IN ('sku', 'location', 'payment', 'delivery', 'cargo', 'status')",
                           name="ck_channel_mappings_kind"),
    )
    op.create_index("ix_channel_mappings_channel_id", "channel_mappings", ["channel_id"])
    op.create_table(
        "channel_inbox",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("channel_id", sa.Integer(), sa.ForeignKey("channels.id", ondelete="CASCADE"), nullable=False),
        sa.Column("source", sa.String(length=8), nullable=False),
        sa.Column("topic", sa.String(length=100), nullable=False),
        sa.Column("delivery_id", sa.String(length=200), nullable=True),
        sa.Column("channel_order_id", sa.String(length=100), nullable=True),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("order_id", sa.Integer(), sa.ForeignKey("orders.id", ondelete="SET NULL"), nullable=True),
        sa.Column("processed_at", sa.DateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.UniqueConstraint("channel_id", "delivery_id", name="uq_channel_inbox_delivery"),
        sa.CheckConstraint("outcome IN ('pending', 'imported', 'updated', 'duplicate', 'needs_attention', 'ignored')",
                           name="ck_channel_inbox_outcome"),
    )
    op.create_index("ix_channel_inbox_outcome", "channel_inbox", ["channel_id", "outcome", "id"])
    op.create_index("ix_channel_inbox_order", "channel_inbox", ["channel_id", "channel_order_id"])
    op.create_table(
        "channel_pushes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("channel_id", sa.Integer(), sa.ForeignKey("channels.id", ondelete="CASCADE"), nullable=False),
        sa.Column("order_id", sa.Integer(), sa.ForeignKey("orders.id", ondelete="CASCADE"), nullable=False),
        sa.Column("package_id", sa.Integer(), sa.ForeignKey("packages.id", ondelete="CASCADE"), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("log", sa.JSON(), nullable=False),
        sa.Column("done_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), server_default=sa.func.now(), nullable=False),
        sa.UniqueConstraint("package_id", "kind", name="uq_channel_pushes_package_kind"),
        sa.CheckConstraint("kind IN ('shipped', 'delivered', 'refused', 'cancelled')", name="ck_channel_pushes_kind"),
        sa.CheckConstraint("status IN ('pending', 'done', 'failed')", name="ck_channel_pushes_status"),
    )
    op.create_index("ix_channel_pushes_order", "channel_pushes", ["order_id"])
    op.create_index("ix_channel_pushes_status", "channel_pushes", ["status", "id"])
    op.create_table(
        "channel_stock_syncs",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("channel_id", sa.Integer(), sa.ForeignKey("channels.id", ondelete="CASCADE"), nullable=False),
        sa.Column("product_id", sa.Integer(), sa.ForeignKey("products.id", ondelete="CASCADE"), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=True),
        sa.Column("pushed_at", sa.DateTime(), nullable=True),
        sa.Column("delay_ms", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("error_at", sa.DateTime(), nullable=True),
        sa.UniqueConstraint("channel_id", "product_id", name="uq_channel_stock_syncs"),
    )
    op.create_table(
        "channel_cursors",
        sa.Column("key", sa.String(length=100), primary_key=True),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )


def downgrade():
    op.drop_table("channel_cursors")
    op.drop_table("channel_stock_syncs")
    op.drop_index("ix_channel_pushes_status", table_name="channel_pushes")
    op.drop_index("ix_channel_pushes_order", table_name="channel_pushes")
    op.drop_table("channel_pushes")
    op.drop_index("ix_channel_inbox_order", table_name="channel_inbox")
    op.drop_index("ix_channel_inbox_outcome", table_name="channel_inbox")
    op.drop_table("channel_inbox")
    op.drop_index("ix_channel_mappings_channel_id", table_name="channel_mappings")
    op.drop_table("channel_mappings")
    with op.batch_alter_table("channels") as batch:
        batch.drop_column("config")
        batch.drop_column("adapter")
