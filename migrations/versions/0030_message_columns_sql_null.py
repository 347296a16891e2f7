"""a message column with no message holds SQL NULL: rows written before the models said
`none_as_null` keep the JSON text `null`, which `IS NULL` does not find; they become NULL (both
read as "no message", so going down changes nothing)

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-07 15:30:00
"""
from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None

COLUMNS = (("shipments", "last_error_message"), ("webhook_deliveries", "last_error_message"),
           ("webhook_attempts", "error_message"), ("channel_inbox", "reason_message"))


def upgrade() -> None:
    for table, column in COLUMNS:
        op.execute(f"UPDATE {table} SET {column} = NULL WHERE CAST({column} AS TEXT) = 'null'")


def downgrade() -> None:
    pass
