"""Append-only rows written by plain INSERTs while `deferred_rows.deferring()` is active (a
package command): the same rows as through the ORM, visible to the transaction's own queries,
dropped with a rollback, and a savepoint's rollback takes only its own rows. The changed rows of
such a transaction are written by plain UPDATEs when they can be, by the unit of work otherwise."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import timedelta

import pytest
from sqlalchemy import delete, event, func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from app.extensions import db
from app.models import AuditEntry, Order, Package, Product, StockLocation
from app.models.events import OutboxEvent, TransitionLog
from app.services import audit, deferred_rows, events
from app.services.db import begin_write
from app.services.packages import run_package_command
from tests.services.builders import make_package, staff, supervisor
from tests.statements import database_work


def _logged(entity_id: int) -> list[tuple]:
    return list(db.session.execute(
        select(TransitionLog.command, TransitionLog.from_state, TransitionLog.to_state, TransitionLog.params,
               TransitionLog.actor)
        .where(TransitionLog.entity_type == "test", TransitionLog.entity_id == entity_id)
        .order_by(TransitionLog.id)).tuples())


def _log(entity_id: int, command: str) -> None:
    events.log_transition("test", entity_id, "a", "b", command, {"otp": "123456", "n": 1}, "tester")


def test_deferred_rows_are_the_orm_rows_and_the_transactions_own_queries_see_them(app):
    begin_write()
    _log(1, "orm")
    db.session.commit()
    begin_write()
    with deferred_rows.deferring():
        _log(2, "deferred")
        events.emit("order.status_changed", "order", 2, {"id": 2, "status": "planned"}, {"status": "new"})
        # A query in the same transaction sees the row, as the autoflush makes it see an ORM object.
        assert [row[0] for row in _logged(2)] == ["deferred"]
    db.session.commit()
    assert _logged(1)[0][1:] == _logged(2)[0][1:] == ("a", "b", {"otp": "***", "n": 1}, "tester")
    event = db.session.scalars(select(OutboxEvent).where(OutboxEvent.aggregate_id == 2)).one()
    assert (event.type, event.data, event.previous) == ("order.status_changed", {"id": 2, "status": "planned"},
                                                         {"status": "new"})
    assert len(event.event_id) == 36 and event.occurred_at is not None and event.published_at is None


def test_a_rollback_drops_the_rows_not_yet_written(app):
    begin_write()
    with deferred_rows.deferring():
        _log(3, "dropped")
    db.session.rollback()
    begin_write()
    with deferred_rows.deferring():
        _log(3, "kept")
    db.session.commit()
    assert [row[0] for row in _logged(3)] == ["kept"]


def test_a_savepoint_rolled_back_takes_only_its_own_rows(app):
    begin_write()
    db.session.execute(select(func.count(TransitionLog.id)))  # the transaction has its connection
    with deferred_rows.deferring():
        _log(4, "before the savepoint")
        savepoint = db.session.begin_nested()
        _log(4, "in the savepoint")
        savepoint.rollback()
        _log(4, "after the savepoint")
        kept = db.session.begin_nested()
        _log(4, "in a savepoint kept")
        kept.commit()
    db.session.commit()
    assert [row[0] for row in _logged(4)] == ["before the savepoint", "after the savepoint", "in a savepoint kept"]


def test_a_package_command_writes_its_log_and_events_and_they_are_in_order(app):
    package = make_package("waiting", items=[("TSHIRT-M", 1), ("CAP", 1)])
    db.session.commit()
    actor = staff(package.location)
    run_package_command(package.id, "prepare", {}, actor)
    run_package_command(package.id, "complete_packing_without_shipment", {}, actor)
    db.session.rollback()
    states = list(db.session.execute(
        select(TransitionLog.from_state, TransitionLog.to_state)
        .where(TransitionLog.entity_type == "package", TransitionLog.entity_id == package.id)
        .order_by(TransitionLog.id)).tuples())
    assert states[-2:] == [("waiting", "preparing"), ("preparing", "packed")]
    package_events = list(db.session.execute(
        select(OutboxEvent.type, OutboxEvent.previous)
        .where(OutboxEvent.aggregate_type == "package", OutboxEvent.aggregate_id == package.id)
        .order_by(OutboxEvent.id)).tuples())
    assert package_events[-2:] == [("package.state_changed", {"state": "waiting"}),
                                    ("package.state_changed", {"state": "preparing"})]


def test_a_query_naming_the_rows_table_only_in_a_subquery_sees_them(app):
    from app.models import Package

    package = make_package("waiting")
    db.session.commit()
    begin_write()
    with deferred_rows.deferring():
        events.log_transition("package", package.id, "waiting", "waiting", "probe", {}, "tester")
        count = db.session.scalar(select(func.count(Package.id)).where(
            select(TransitionLog.id).where(TransitionLog.entity_type == "package", TransitionLog.command == "probe",
                                           TransitionLog.entity_id == Package.id).exists()))
    db.session.rollback()
    assert count == 1


def test_closing_the_session_drops_the_rows_not_yet_written(app):
    begin_write()
    with deferred_rows.deferring():
        _log(5, "never committed")
    db.session.close()
    begin_write()
    _log(5, "committed")
    db.session.commit()
    assert [row[0] for row in _logged(5)] == ["committed"]


@contextmanager
def _flushes():
    """Count the unit of work's flushes (its after_flush hook) in the body."""
    seen: list[int] = []

    def count(_session, _context) -> None:
        seen.append(1)

    event.listen(Session, "after_flush", count)
    try:
        yield seen
    finally:
        event.remove(Session, "after_flush", count)


def test_a_package_commands_changed_rows_are_written_without_the_unit_of_work(app):
    package = make_package("waiting", items=[("TSHIRT-M", 1), ("CAP", 1)])
    package.updated_at -= timedelta(hours=1)
    db.session.commit()
    package_id, order_id, version, stamped = package.id, package.order_id, package.version, package.updated_at
    actor = staff(package.location)
    with _flushes() as flushes:
        answered = run_package_command(package_id, "prepare", {}, actor)
    assert flushes == []  # nothing went through the unit of work
    assert answered not in db.session.dirty and not db.session.dirty
    assert (answered.state, answered.version) == ("preparing", version + 1)
    in_memory = (answered.updated_at, answered.order.status)
    db.session.close()
    row = db.session.get(Package, package_id)
    # The row holds what the object holds, the table's onupdate (updated_at) included.
    assert (row.state, row.version, row.updated_at, row.order.status) == ("preparing", version + 1, *in_memory)
    assert row.updated_at > stamped
    assert db.session.get(Order, order_id).status == in_memory[1]
    # Packing changes both items the same way: one statement for the two rows, both written.
    db.session.rollback()
    with _flushes() as flushes, database_work() as work:
        packed = run_package_command(package_id, "complete_packing_without_shipment", {}, actor)
    assert flushes == [] and not db.session.dirty
    assert len([s for s in work["statements"] if s.startswith("UPDATE package_items")]) == 1
    in_memory = sorted((item.id, item.state) for item in packed.items)
    assert len({state for _id, state in in_memory}) == 1 and in_memory[0][1] != "open"
    db.session.close()
    assert sorted((item.id, item.state) for item in db.session.get(Package, package_id).items) == in_memory


def test_a_change_a_plain_update_cannot_write_goes_through_the_unit_of_work_with_its_hooks(app):
    package = make_package("waiting")
    location = package.location
    db.session.commit()
    package_id, location_id = package.id, location.id
    begin_write()
    with audit.acting(supervisor()), deferred_rows.deferring():
        _log(6, "beside an audited change")
        package.block_reason = "a reason"
        location.name = "Renamed store"  # audited (and configuration): only the flush's hooks see it
        with _flushes() as flushes:
            db.session.commit()
    assert flushes == [1]
    db.session.close()
    assert db.session.get(Package, package_id).block_reason == "a reason"
    assert db.session.get(StockLocation, location_id).name == "Renamed store"
    assert db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.kind == "location")) == 1
    assert [row[0] for row in _logged(6)] == ["beside an audited change"]


def test_a_row_gone_behind_the_sessions_back_fails_the_commit_and_writes_nothing(app):
    product = Product(sku="GONE-1", name="Soon gone")
    db.session.add(product)
    db.session.commit()
    product_id = product.id
    begin_write()
    with deferred_rows.deferring():
        _log(7, "with a row that is gone")
        assert product.name == "Soon gone"  # loaded again after the commit, before the change
        product.name = "Renamed"
    db.session.connection().execute(delete(Product.__table__).where(Product.__table__.c.id == product_id))
    with pytest.raises(StaleDataError):
        db.session.commit()
    db.session.rollback()
    assert _logged(7) == []
    assert db.session.scalar(select(Product.name).where(Product.sku == "GONE-1")) == "Soon gone"


def test_a_change_inside_a_released_savepoint_is_undone_by_the_enclosing_savepoints_rollback(app):
    package = make_package("waiting")
    db.session.commit()
    package_id = package.id
    begin_write()
    with deferred_rows.deferring():
        _log(8, "before the savepoints")
        assert package.block_reason is None
        outer = db.session.begin_nested()
        inner = db.session.begin_nested()
        package.block_reason = "inside the savepoints"
        _log(8, "inside the savepoints")
        inner.commit()  # a release fires before_commit too: the change must stay the unit of work's
        outer.rollback()
        assert package.block_reason is None  # restored in memory, as in the database
    db.session.commit()
    db.session.close()
    assert db.session.get(Package, package_id).block_reason is None
    assert [row[0] for row in _logged(8)] == ["before the savepoints"]
