"""config_versions: one row the database changes whenever cached configuration changes

Settings, scenarios, scenario rules, locations, channels and cargo companies are read by every
planning call and command; processes keep them in memory (services/config_cache.py) and check
this row once per transaction. Triggers bump it on every INSERT/UPDATE/DELETE of those tables
(and TRUNCATE on PostgreSQL), whoever writes: the ORM, bulk SQL, another process.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 20:05:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# table -> columns whose UPDATE counts (None: any column). A channel's connector state (adapter,
# config, sync bookkeeping) changes often and nothing cached reads it.
TABLES = {
    "settings": None,
    "scenarios": None,
    "scenario_rules": None,
    "stock_locations": None,
    "channels": ("code", "name", "provides_shipping_label"),
    "cargo_companies": None,
}


def upgrade():
    op.create_table(
        "config_versions",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("token", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.execute("INSERT INTO config_versions (id, version, token) VALUES (1, 1, 1)")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE FUNCTION packline_config_changed() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO config_versions (id, version, token)
                VALUES (1, 1, (random() * 9.0e18)::bigint)
                ON CONFLICT (id) DO UPDATE
                    SET version = config_versions.version + 1, token = EXCLUDED.token;
                RETURN NULL;
            END $$""")
        for table, columns in TABLES.items():
            update = f"UPDATE OF {', '.join(columns)}" if columns else "UPDATE"
            op.execute(f"CREATE TRIGGER config_changed AFTER INSERT OR {update} OR DELETE ON {table} "
                       "FOR EACH STATEMENT EXECUTE FUNCTION packline_config_changed()")
            op.execute(f"CREATE TRIGGER config_truncated AFTER TRUNCATE ON {table} "
                       "FOR EACH STATEMENT EXECUTE FUNCTION packline_config_changed()")
        return
    bump = ("INSERT INTO config_versions (id, version, token) VALUES (1, 1, random()) "
            "ON CONFLICT (id) DO UPDATE SET version = version + 1, token = excluded.token;")
    for table, columns in TABLES.items():
        for event in ("INSERT", "UPDATE", "DELETE"):
            on = f"UPDATE OF {', '.join(columns)}" if event == "UPDATE" and columns else event
            op.execute(f"CREATE TRIGGER config_{table}_{event.lower()} AFTER {on} ON {table} "
                       f"FOR EACH ROW BEGIN {bump} END")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS config_changed ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS config_truncated ON {table}")
        op.execute("DROP FUNCTION IF EXISTS packline_config_changed()")
    else:
        for table in TABLES:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS config_{table}_{event}")
    op.drop_table("config_versions")
