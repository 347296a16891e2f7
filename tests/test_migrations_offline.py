"""`flask db upgrade --sql` (alembic's offline mode) writes the SQL instead of running it. On
SQLite the script turns foreign keys off around the steps as the online run does
(migrations/env.py), lists rows left pointing nowhere, and turns them on again; PostgreSQL's
script has no such pragma. Scripts stop at a migration that must read the database
(docs/decisions.md), so these stop at 0018."""

from __future__ import annotations

import io
import sqlite3

from alembic import command as alembic_command

from tests import scratch_db

LAST_OFFLINE = "0018"  # 0019 rebuilds a SQLite table by reflecting it: a live database is needed


def _offline_sql(app, revision: str) -> str:
    with app.app_context():
        config = app.extensions["migrate"].migrate.get_config()
        config.output_buffer = io.StringIO()
        alembic_command.upgrade(config, revision, sql=True)
        return config.output_buffer.getvalue()


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";\n") if s.strip() and not s.strip().startswith("--")]


def test_sqlites_offline_script_turns_foreign_keys_off_around_the_steps_and_runs(app, tmp_path):
    with scratch_db.scratch_app(app, tmp_path, "offline", sqlite=True) as sqlite_app:
        script = _offline_sql(sqlite_app, LAST_OFFLINE)
    statements = _statements(script)
    assert statements[0] == "PRAGMA foreign_keys=OFF"
    assert statements[-2:] == ["PRAGMA foreign_key_check", "PRAGMA foreign_keys=ON"]
    assert script.count("PRAGMA foreign_keys") == 2 and "CREATE TABLE packages" in script
    # The script runs as the sqlite3 shell would run it, and leaves foreign keys on.
    shell = sqlite3.connect(tmp_path / "applied.db", isolation_level=None)
    try:
        shell.executescript(script)
        assert shell.execute("SELECT version_num FROM alembic_version").fetchone()[0] == LAST_OFFLINE
        assert shell.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    finally:
        shell.close()


def test_the_runs_database_gets_the_pragma_only_on_sqlite(app):
    script = _offline_sql(app, LAST_OFFLINE)
    sqlite = app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")
    assert ("PRAGMA foreign_keys" in script) is sqlite and "CREATE TABLE packages" in script
