"""channel inbox reasons kept as a catalogue message, to be said in the reader's language

An inbox entry's `reason` stays English text (logs, the admin API of tomorrow); the new
`reason_message` keeps the same sentence as its catalogue message id and values
(`services/said.py`), so the inbox screens say it in the reader's language. Older rows have
none and show their stored text.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07 05:20:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("channel_inbox") as batch:
        batch.add_column(sa.Column("reason_message", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("channel_inbox") as batch:
        batch.drop_column("reason_message")
