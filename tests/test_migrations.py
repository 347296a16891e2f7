"""The schema comes from the Alembic migration, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from tests import factories


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
