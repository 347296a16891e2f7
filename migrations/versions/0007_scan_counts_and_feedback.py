"""store scanning: transfer items count scanned units on each side; users choose scan sound and vibration

Transfers are scanned like packages: the sender counts what it sends before dispatch, the receiver
what arrives before receiving. Each user may switch off the tone and vibration that confirm scans.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-09 10:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN on both databases; existing rows read as nothing scanned / feedback on.
    op.add_column("transfer_items", sa.Column("dispatch_scanned", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("transfer_items", sa.Column("receive_scanned", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("users", sa.Column("scan_feedback", sa.Boolean(), nullable=False, server_default=sa.true()))


def downgrade():
    with op.batch_alter_table("users") as batch:
        batch.drop_column("scan_feedback")
    with op.batch_alter_table("transfer_items") as batch:
        batch.drop_column("receive_scanned")
        batch.drop_column("dispatch_scanned")
