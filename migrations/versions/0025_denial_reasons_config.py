"""denial_reasons bump config_versions too: the store's Refuse form lists them from the cache

The store's package answers (every Prepare, scan and Pack) draw the Refuse button with its list
of denial reasons, and the packing forms with the list of cargo companies. Cargo companies are
already cached configuration (0011); with denial reasons under the same triggers, both lists come
from the process's configuration snapshot (`config_cache`, checked once per transaction), so an
answer built after the command's commit no longer opens a transaction to read them.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-07 12:05:00
"""
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None

TABLE = "denial_reasons"


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        # packline_config_changed() comes from 0011.
        op.execute(f"CREATE TRIGGER config_changed AFTER INSERT OR UPDATE OR DELETE ON {TABLE} "
                   "FOR EACH STATEMENT EXECUTE FUNCTION packline_config_changed()")
        op.execute(f"CREATE TRIGGER config_truncated AFTER TRUNCATE ON {TABLE} "
                   "FOR EACH STATEMENT EXECUTE FUNCTION packline_config_changed()")
        return
    bump = ("INSERT INTO config_versions (id, version, token) VALUES (1, 1, random()) "
            "ON CONFLICT (id) DO UPDATE SET version = version + 1, token = excluded.token;")
    for event in ("INSERT", "UPDATE", "DELETE"):
        op.execute(f"CREATE TRIGGER config_{TABLE}_{event.lower()} AFTER {event} ON {TABLE} "
                   f"FOR EACH ROW BEGIN {bump} END")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS config_changed ON {TABLE}")
        op.execute(f"DROP TRIGGER IF EXISTS config_truncated ON {TABLE}")
    else:
        for event in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS config_{TABLE}_{event}")
