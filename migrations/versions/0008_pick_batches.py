"""pick_batches and pick_batch_packages: many small packages picked in one walk, one tote each

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-10 09:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "pick_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("state IN ('picking', 'packing', 'done', 'cancelled')", name=op.f("ck_pick_batches_state")),
        sa.ForeignKeyConstraint(["location_id"], ["stock_locations.id"],
                                name=op.f("fk_pick_batches_location_id_stock_locations")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pick_batches")),
        sa.UniqueConstraint("location_id", "number", name=op.f("uq_pick_batches_location_id_number")),
    )
    with op.batch_alter_table("pick_batches", schema=None) as batch_op:
        batch_op.create_index("ix_pick_batches_location_state", ["location_id", "state"], unique=False)
    op.create_table(
        "pick_batch_packages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("package_id", sa.Integer(), nullable=False),
        sa.Column("slot", sa.Integer(), nullable=False),
        sa.CheckConstraint("slot > 0", name=op.f("ck_pick_batch_packages_slot_positive")),
        sa.ForeignKeyConstraint(["batch_id"], ["pick_batches.id"],
                                name=op.f("fk_pick_batch_packages_batch_id_pick_batches"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["package_id"], ["packages.id"],
                                name=op.f("fk_pick_batch_packages_package_id_packages"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pick_batch_packages")),
        sa.UniqueConstraint("batch_id", "slot", name=op.f("uq_pick_batch_packages_batch_id_slot")),
        sa.UniqueConstraint("batch_id", "package_id", name=op.f("uq_pick_batch_packages_batch_id_package_id")),
    )
    with op.batch_alter_table("pick_batch_packages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pick_batch_packages_package_id"), ["package_id"], unique=False)


def downgrade():
    with op.batch_alter_table("pick_batch_packages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pick_batch_packages_package_id"))
    op.drop_table("pick_batch_packages")
    with op.batch_alter_table("pick_batches", schema=None) as batch_op:
        batch_op.drop_index("ix_pick_batches_location_state")
    op.drop_table("pick_batches")
