"""webhook deliveries: an index on (subscription_id, status, event_id) for the line of first attempts

Each first attempt looks up its subscription's oldest pending delivery and checks that no earlier
one is pending (services/webhooks/outbox.py). Without this index both read every pending delivery
(through the status index) or every delivery the subscription ever had (through the unique
(subscription_id, event_id) one), so deliveries slowed down as a backlog grew (issue 17).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 23:35:00
"""
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_webhook_deliveries_subscription_status_event", "webhook_deliveries",
                    ["subscription_id", "status", "event_id"])


def downgrade() -> None:
    op.drop_index("ix_webhook_deliveries_subscription_status_event", table_name="webhook_deliveries")
