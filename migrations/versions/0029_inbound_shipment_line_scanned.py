"""inbound shipment lines keep the receiving screen's running count (`scanned`), as purchase
order lines do since 0027, so a reload or another tablet sees the scans; any booking of the
shipment or of a purchase order it carries sets it back to 0

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-07 15:20:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0029"
down_revision = "0028"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("inbound_shipment_lines") as batch:
        batch.add_column(sa.Column("scanned", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("inbound_shipment_lines") as batch:
        batch.drop_column("scanned")
