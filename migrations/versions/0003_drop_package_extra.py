"""drop packages.extra: a JSON column nothing read or wrote but the batch writer's empty {}

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06 17:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    # SQLite (3.35+) and PostgreSQL both drop a column in place: no table rebuild.
    op.drop_column("packages", "extra")


def downgrade():
    op.add_column("packages", sa.Column("extra", sa.JSON(), nullable=False, server_default="{}"))
