"""connection and carrier failures kept as a catalogue message, said in the reader's language

A shipment's and a webhook delivery's `last_error` stay English text (logs and the API, as
before); the new `last_error_message` keeps the same sentence as its catalogue message id and
values (`services/said.py`), so the store's shipment panel and the admin delivery rows say it in
the reader's language ("timeout after 10s" → "10 sn içinde yanıt gelmedi"). Older rows have none
and show their stored text.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07 12:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("shipments") as batch:
        batch.add_column(sa.Column("last_error_message", sa.JSON(), nullable=True))
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.add_column(sa.Column("last_error_message", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.drop_column("last_error_message")
    with op.batch_alter_table("shipments") as batch:
        batch.drop_column("last_error_message")
