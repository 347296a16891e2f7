"""purchase order lines keep the receiving screen's running count (`scanned`), as return items
and transfer items do, so a reload or another tablet sees the scans; Finish sets it back to 0

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-07 13:05:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("purchase_order_lines") as batch:
        batch.add_column(sa.Column("scanned", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("purchase_order_lines") as batch:
        batch.drop_column("scanned")
