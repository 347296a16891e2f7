"""returns and return_items: customer returns and failed deliveries coming back (SPEC §14)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 23:10:00
"""
from alembic import op
import sqlalchemy as sa


revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "returns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=140), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("package_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=True),
        sa.Column("inspected_at", sa.DateTime(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), server_default=sa.text("(CURRENT_TIMESTAMP)"), nullable=False),
        sa.Column("updated_at", sa.DateTime(), server_default=sa.text("(CURRENT_TIMESTAMP)"), nullable=False),
        sa.CheckConstraint("state IN ('requested', 'in_transit', 'received', 'inspected', 'restocked', "
                           "'written_off', 'cancelled')", name=op.f("ck_returns_state")),
        sa.CheckConstraint("source IN ('channel', 'api', 'counter', 'delivery_failed')",
                           name=op.f("ck_returns_source")),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], name=op.f("fk_returns_order_id_orders")),
        sa.ForeignKeyConstraint(["location_id"], ["stock_locations.id"],
                                name=op.f("fk_returns_location_id_stock_locations")),
        sa.ForeignKeyConstraint(["package_id"], ["packages.id"], name=op.f("fk_returns_package_id_packages")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_returns")),
        sa.UniqueConstraint("number", name=op.f("uq_returns_number")),
        sa.UniqueConstraint("package_id", name=op.f("uq_returns_package_id")),
    )
    with op.batch_alter_table("returns", schema=None) as batch_op:
        batch_op.create_index("ix_returns_location_state", ["location_id", "state"], unique=False)
        batch_op.create_index(batch_op.f("ix_returns_order_id"), ["order_id"], unique=False)
    op.create_table(
        "return_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("return_id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("scanned", sa.Integer(), nullable=False),
        sa.Column("received", sa.Integer(), nullable=False),
        sa.Column("resellable", sa.Integer(), nullable=False),
        sa.Column("damaged", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.CheckConstraint("quantity > 0", name=op.f("ck_return_items_quantity_positive")),
        sa.CheckConstraint("scanned >= 0 AND received >= 0 AND resellable >= 0 AND damaged >= 0",
                           name=op.f("ck_return_items_counts_non_negative")),
        sa.CheckConstraint("resellable + damaged <= received", name=op.f("ck_return_items_inspected_within_received")),
        sa.ForeignKeyConstraint(["return_id"], ["returns.id"], name=op.f("fk_return_items_return_id_returns"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"], name=op.f("fk_return_items_product_id_products")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_return_items")),
    )
    with op.batch_alter_table("return_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_return_items_return_id"), ["return_id"], unique=False)


def downgrade():
    with op.batch_alter_table("return_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_return_items_return_id"))
    op.drop_table("return_items")
    with op.batch_alter_table("returns", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_returns_order_id"))
        batch_op.drop_index("ix_returns_location_state")
    op.drop_table("returns")
