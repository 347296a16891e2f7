"""a webhook attempt's error kept as a catalogue message too, said in the reader's language

As 0024 for shipments and deliveries: `webhook_attempts.error` stays English (logs, the API);
`error_message` keeps the same sentence as its catalogue message id and values
(`services/said.py`) for the admin's list of attempts. Older rows show their stored text.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-07 12:10:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("webhook_attempts") as batch:
        batch.add_column(sa.Column("error_message", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("webhook_attempts") as batch:
        batch.drop_column("error_message")
