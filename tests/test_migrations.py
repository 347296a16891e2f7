"""The schema comes from the Alembic migration, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import datetime

import pytest
from alembic import command as alembic_command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from tests import factories, scratch_db
from tests.services.builders import make_package


def test_migration_creates_every_model_table_and_matches_the_models(app):
    names = set(inspect(db.engine).get_table_names())
    assert {t.name for t in db.metadata.sorted_tables} <= names
    assert "alembic_version" in names
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
    assert diff == [], f"models and migration disagree: {diff}"


def test_constraints_refuse_negative_stock_and_unknown_states(app):
    loc, prod = factories.location(), factories.product()
    db.session.commit()
    for statement in (
        "INSERT INTO stock (location_id, product_id, on_hand, reserved, updated_at) VALUES (:l, :p, -1, 0, CURRENT_TIMESTAMP)",
        "INSERT INTO stock (location_id, product_id, on_hand, reserved, updated_at) VALUES (:l, :p, 1, 2, CURRENT_TIMESTAMP)",
        "INSERT INTO stock_locations (code, name, type, is_packaging_center, is_transfer_source, is_pickup_location, active, priority, tags, created_at, updated_at) VALUES ('X', 'X', 'shop', true, true, true, true, 1, '[]', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
    ):
        try:
            db.session.execute(text(statement), {"l": loc.id, "p": prod.id})
            db.session.flush()
        except IntegrityError:
            db.session.rollback()
        else:
            raise AssertionError(f"accepted: {statement}")


def test_location_codes_and_skus_are_unique(app):
    factories.location("IST-01")
    db.session.commit()
    try:
        factories.location("IST-01")
    except IntegrityError:
        db.session.rollback()
    else:
        raise AssertionError("duplicate location code accepted")


# --- 0024 / 0026: failures kept as catalogue messages (leftover of issue 20) ---------------------


@pytest.fixture
def scratch_app(app, tmp_path):
    """An app on a database of its own, to take up and down the migration chain."""
    with scratch_db.scratch_app(app, tmp_path, "said-migrations") as other:
        yield other


def _columns(table: str) -> set[str]:
    db.session.remove()
    db.engine.dispose()  # SQLite's batch migrations rebuild tables: read them afresh
    return {c["name"] for c in inspect(db.engine).get_columns(table)}


def test_the_last_error_message_columns_go_down_and_up_again_keeping_the_rows(scratch_app):
    message = {"id": "timeout after %(seconds)ss", "values": {"seconds": 0.3}}
    with scratch_app.app_context():
        upgrade()
        assert "last_error_message" in _columns("shipments") and "last_error_message" in _columns("webhook_deliveries")
        assert "error_message" in _columns("webhook_attempts")
        shipment = make_package("waiting_cargo_label").shipment
        shipment.last_error, shipment.last_error_message = "timeout after 0.3s", message
        db.session.commit()
        shipment_id = shipment.id
        db.session.expire_all()
        assert db.session.get(type(shipment), shipment_id).last_error_message == message  # JSON kept as stored
        db.session.remove()  # no read transaction may hold the tables the migration alters (PostgreSQL)

        downgrade(revision="0023")
        assert "last_error_message" not in _columns("shipments")
        assert "last_error_message" not in _columns("webhook_deliveries")
        assert "error_message" not in _columns("webhook_attempts")
        # The English text stays: older code shows it as before.
        assert db.session.execute(text("SELECT last_error FROM shipments WHERE id = :i"),
                                  {"i": shipment_id}).scalar() == "timeout after 0.3s"
        db.session.remove()

        upgrade()
        assert "last_error_message" in _columns("shipments") and "error_message" in _columns("webhook_attempts")
        assert db.session.execute(text("SELECT last_error_message FROM shipments WHERE id = :i"),
                                  {"i": shipment_id}).scalar() is None  # a row from before: its text is shown


def _revision() -> str:
    return db.session.execute(text("SELECT version_num FROM alembic_version")).scalar()


def test_usernames_in_other_capitals_stop_the_username_key_upgrade_until_one_is_renamed(scratch_app):
    insert = text("INSERT INTO users (username, password_hash, role, active, session_version, scan_feedback, "
                  "created_at, updated_at) VALUES (:u, 'x', 'admin', :t, 1, :t, :now, :now)")
    with scratch_app.app_context():
        upgrade(revision="0027")
        for name in ("Ayse", "ayse", "Işık"):
            db.session.execute(insert, {"u": name, "t": True, "now": datetime(2026, 12, 1)})
        db.session.commit()
        db.session.remove()
        config = scratch_app.extensions["migrate"].migrate.get_config()
        with pytest.raises(RuntimeError, match="'Ayse', 'ayse'. Rename.*Nothing was changed"):
            alembic_command.upgrade(config, "head")  # flask-migrate's upgrade() would only log it and exit
        assert _revision() == "0027" and "username_key" not in _columns("users")

        db.session.execute(text("UPDATE users SET username = 'ayse2' WHERE username = 'ayse'"))
        db.session.commit()
        db.session.remove()
        upgrade()
        keys = dict(db.session.execute(text("SELECT username, username_key FROM users")).all())
        assert keys == {"Ayse": "ayse", "ayse2": "ayse2", "Işık": "işik"}
        with pytest.raises(IntegrityError):
            db.session.execute(text("UPDATE users SET username_key = 'ayse' WHERE username = 'ayse2'"))
            db.session.flush()
        db.session.rollback()
        db.session.remove()

        downgrade(revision="0027")
        assert "username_key" not in _columns("users")
        upgrade()
        assert "username_key" in _columns("users")


# --- every migration down and up again keeps the rows of the tables it keeps ---------------------
# SQLite batch mode rebuilds a table to drop a column (copy, DROP TABLE, rename): with foreign keys
# on, that DROP deleted the rows pointing at the table (ON DELETE CASCADE: webhook_attempts going
# down from 0024) or failed (inbound_shipment_lines going down from 0027). migrations/env.py turns
# them off while migrations run and checks the references before each migration commits.

LOWEST = "0006"  # below the first migration that rebuilds a table (0007 drops users.scan_feedback)


def _filler(table, column, row: int):
    """A value for `column` that the table's CHECK constraints accept: the first of an IN list,
    1 where the number must be above 0, else 0 / its own name / a fixed moment."""
    import datetime
    import re

    from sqlalchemy import CheckConstraint
    from sqlalchemy import types as t

    if column.foreign_keys:
        return 1
    if column.primary_key:
        return row if isinstance(column.type, t.Integer) else f"{table.name}-{row}"
    checks = " ".join(str(c.sqltext) for c in table.constraints if isinstance(c, CheckConstraint))
    listed = re.search(rf"\b{column.name} IN \('([^']*)'", checks)
    if listed:
        return listed[1]
    kind = column.type
    if isinstance(kind, (t.Integer, t.Numeric, t.Float)):
        return 1 if re.search(rf"\b{column.name} (> 0|>= 1)", checks) else 0
    if isinstance(kind, t.Boolean):
        return False
    if isinstance(kind, t.DateTime):
        return datetime.datetime(2026, 1, 5, 12, 0)
    if isinstance(kind, t.Date):
        return datetime.date(2026, 1, 5)
    if isinstance(kind, t.JSON):
        return {}
    if isinstance(kind, t.LargeBinary):
        return b"x"
    return f"{column.name}-{row}"[: getattr(kind, "length", None) or 100]


def _one_row_everywhere() -> None:
    """A row in every table, every foreign key (nullable ones too) pointing at row 1 of its table,
    so a table rebuilt under its dependents takes rows of theirs down with it if anything does."""
    from sqlalchemy import insert

    special = {("transfers", "destination_id"): 2,  # source and destination differ
               ("reservations", "package_item_id"): None}  # a reservation is for one kind of item
    for table in db.metadata.sorted_tables:
        if db.session.execute(text(f"SELECT COUNT(*) FROM {table.name}")).scalar():
            continue  # rows a migration put there (config_versions)
        for row in (1, 2) if table.name == "stock_locations" else (1,):
            values = {c.name: special.get((table.name, c.name), _filler(table, c, row)) for c in table.columns}
            db.session.execute(insert(table).values(values))
    db.session.commit()


def _rows() -> dict[str, set[tuple]]:
    """Every table's rows as (column, value) pairs, read afresh (SQLite rebuilds tables)."""
    db.session.remove()
    db.engine.dispose()
    seen = {}
    for name in inspect(db.engine).get_table_names():
        if name == "alembic_version":
            continue
        result = db.session.execute(text(f'SELECT * FROM "{name}"'))
        columns = list(result.keys())
        seen[name] = {tuple(zip(columns, (str(v) for v in row), strict=True)) for row in result}
    db.session.remove()
    return seen


def _kept(before: dict[str, set[tuple]], after: dict[str, set[tuple]]) -> dict[str, str]:
    """Tables in both whose rows changed, on the columns both have."""
    lost = {}
    for name in before.keys() & after.keys():
        columns = {c for row in before[name] | after[name] for c, _ in row}
        shared = [c for c in columns if all(any(c == k for k, _ in row) for row in before[name] | after[name])]
        cut = [{(k, v) for k, v in row if k in shared} for row in before[name]], \
              [{(k, v) for k, v in row if k in shared} for row in after[name]]
        if sorted(map(sorted, cut[0])) != sorted(map(sorted, cut[1])):
            lost[name] = f"{len(before[name])} rows before, {len(after[name])} after"
    return lost


def test_every_migration_goes_down_and_up_keeping_the_rows_of_the_tables_it_keeps(scratch_app):
    with scratch_app.app_context():
        upgrade()
        head = _revision()
        _one_row_everywhere()
        rows = _rows()
        assert all(len(r) >= 1 for r in rows.values()), [n for n, r in rows.items() if not r]
        while (now := _revision()) != LOWEST:
            db.session.remove()
            downgrade(revision="-1")
            after = _rows()
            assert _kept(rows, after) == {}, f"going down from {now}"
            rows = after
        while (now := _revision()) != head:
            db.session.remove()
            upgrade(revision="+1")
            after = _rows()
            assert _kept(rows, after) == {}, f"going up from {now}"
            rows = after
        # the references are on again for the app's connections
        with db.engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_0030_turns_the_json_null_of_message_columns_into_sql_null(scratch_app):
    with scratch_app.app_context():
        upgrade(revision="0029")
        _one_row_everywhere()
        json_null = "CAST('null' AS JSON)" if db.engine.dialect.name == "postgresql" else "'null'"
        for table, column in (("shipments", "last_error_message"), ("webhook_deliveries", "last_error_message"),
                              ("channel_inbox", "reason_message")):
            db.session.execute(text(f"UPDATE {table} SET {column} = {json_null}"))  # as written before 0030
        kept = '{"id": "HTTP %(status)s", "values": {"status": 500}}'
        db.session.execute(text("UPDATE webhook_attempts SET error_message = :m"), {"m": kept})
        db.session.commit()
        assert not db.session.execute(text("SELECT last_error_message IS NULL FROM shipments")).scalar()
        db.session.remove()

        upgrade()
        nulls = [bool(db.session.execute(text(f"SELECT {column} IS NULL FROM {table}")).scalar()) for table, column in
                 (("shipments", "last_error_message"), ("webhook_deliveries", "last_error_message"),
                  ("channel_inbox", "reason_message"), ("webhook_attempts", "error_message"))]
        assert nulls == [True, True, True, False]
        assert "HTTP %(status)s" in db.session.execute(text("SELECT CAST(error_message AS TEXT) FROM webhook_attempts")).scalar()


# --- SQLite: a row that already pointed nowhere does not block the migrations -------------------
# (an admin deleted a row in the sqlite3 shell, where foreign keys are off by default); a migration
# that breaks a reference itself still fails and is rolled back.


@pytest.fixture
def sqlite_scratch_app(app, tmp_path):
    """An app on a SQLite database of its own, whichever database the run tests: the check it
    exercises is SQLite's (PostgreSQL never lets a row point nowhere)."""
    with scratch_db.scratch_app(app, tmp_path, "orphans", sqlite=True) as other:
        yield other


def _sqlite_shell(path, sql: str) -> None:
    """As the sqlite3 shell would: foreign keys off (its default), autocommit."""
    import sqlite3

    shell = sqlite3.connect(path, isolation_level=None)
    try:
        assert shell.execute("PRAGMA foreign_keys").fetchone()[0] == 0
        shell.execute(sql)
    finally:
        shell.close()


def _breaking_migrations(tmp_path, down_revision: str):
    """The project's migrations and one more, in tmp_path, that deletes a package the shipment,
    invoice and items of the test's rows point at."""
    import shutil
    from pathlib import Path

    directory = tmp_path / "migrations"
    shutil.copytree(Path(__file__).resolve().parent.parent / "migrations", directory,
                    ignore=shutil.ignore_patterns("__pycache__"))
    (directory / "versions" / "9001_breaks_a_reference.py").write_text(
        '"""deletes package 1 under the rows that point at it"""\n'
        "from alembic import op\n\n"
        f'revision = "9001"\ndown_revision = "{down_revision}"\nbranch_labels = None\ndepends_on = None\n\n\n'
        "def upgrade():\n    op.execute('DELETE FROM packages WHERE id = 1')\n\n\n"
        "def downgrade():\n    pass\n")
    return str(directory)


def test_sqlite_rows_pointing_nowhere_before_a_migration_do_not_block_it_and_new_ones_still_do(
        sqlite_scratch_app, tmp_path, capfd):
    # env.py's fileConfig() takes the handlers off the alembic loggers at each run: what it logs
    # is read where its console handler writes it, stderr.
    path = tmp_path / "orphans.db"
    with sqlite_scratch_app.app_context():
        upgrade()
        head = _revision()
        _one_row_everywhere()
        db.session.remove()
        db.engine.dispose()
        _sqlite_shell(path, "DELETE FROM cargo_companies WHERE id = 1")  # shipments row 1 points at it
        orphans = db.session.execute(text("PRAGMA foreign_key_check")).fetchall()
        assert ("shipments", 1, "cargo_companies") in {tuple(r[:3]) for r in orphans}
        db.session.remove()

        # Down over 0024 rebuilds shipments (drops last_error_message) with the row in it, and up again.
        downgrade(revision="0023")
        assert _revision() == "0023"
        assert "last_error_message" not in _columns("shipments")
        upgrade()
        assert _revision() == head
        assert "last_error_message" in _columns("shipments")
        still = db.session.execute(text("PRAGMA foreign_key_check")).fetchall()
        assert {tuple(r[:3]) for r in still} == {tuple(r[:3]) for r in orphans}  # kept, none added
        db.session.remove()

        said = [line for line in capfd.readouterr().err.splitlines() if line.startswith(("WARN", "ERROR"))]
        assert len(said) == 2, said  # one line per run (down, up), none per migration
        assert all("pre-existing" in line and "shipments row 1 (cargo_company_id) -> cargo_companies" in line
                   for line in said), said

        # A migration that itself leaves rows pointing nowhere still fails, naming only its own rows.
        with pytest.raises(RuntimeError, match=r"migration up to 9001 would leave \d+ rows pointing at rows "
                                               r"that are not there: .*-> packages") as failed:
            config = sqlite_scratch_app.extensions["migrate"].migrate.get_config(_breaking_migrations(tmp_path, head))
            alembic_command.upgrade(config, "head")  # flask-migrate's upgrade() would only log it and exit
        assert "cargo_compan" not in str(failed.value)
        db.session.remove()
        db.engine.dispose()
        assert _revision() == head  # rolled back whole
        assert db.session.execute(text("SELECT COUNT(*) FROM packages WHERE id = 1")).scalar() == 1
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1  # on again for the app
