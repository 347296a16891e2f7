"""users choose their language: English or Turkish, else the browser's, else the brand's

A NULL language means "not chosen": the browser's Accept-Language, then the brand's LANGUAGE
setting decide (app/i18n.py).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 22:55:00
"""
from alembic import op
import sqlalchemy as sa


revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("users", sa.Column("language", sa.String(length=8), nullable=True))


def downgrade():
    with op.batch_alter_table("users") as batch:
        batch.drop_column("language")
