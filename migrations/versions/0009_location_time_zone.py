"""locations: a time zone per location (IANA name, e.g. Europe/Istanbul); empty = the brand's

Times on the store and supervisor screens are shown in the location's local time. A location
without its own zone uses the brand's (`TIME_ZONE` setting).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 19:45:00
"""
from alembic import op
import sqlalchemy as sa


revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("stock_locations", sa.Column("time_zone", sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table("stock_locations") as batch:
        batch.drop_column("time_zone")
