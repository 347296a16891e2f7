"""pickup_code_failures: wrong click & collect codes, counted per package and per person

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 17:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "pickup_code_failures",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("package_id", sa.Integer(), sa.ForeignKey("packages.id", ondelete="CASCADE"), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_pickup_code_failures_package_id", "pickup_code_failures", ["package_id"])
    op.create_index("ix_pickup_code_failures_actor", "pickup_code_failures", ["actor"])
    op.create_index("ix_pickup_code_failures_created_at", "pickup_code_failures", ["created_at"])


def downgrade():
    op.drop_table("pickup_code_failures")
