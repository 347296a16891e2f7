"""import runs resume where they stopped: the last committed line, the read offset, a heartbeat

An import commits in short chunks; with each chunk it now records the last line saved and where
reading resumes, so a run interrupted by a killed worker continues from there (a sweep finds it
by its stale heartbeat) instead of showing "running" forever.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-08 12:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN on both databases (no table rebuild); existing runs read as line 0.
    op.add_column("import_runs", sa.Column("last_line", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("import_runs", sa.Column("resume_offset", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("import_runs", sa.Column("heartbeat_at", sa.DateTime(), nullable=True))
    op.add_column("import_runs", sa.Column("interruptions", sa.Integer(), nullable=False, server_default="0"))


def downgrade():
    for name in ("interruptions", "heartbeat_at", "resume_offset", "last_line"):
        op.drop_column("import_runs", name)
