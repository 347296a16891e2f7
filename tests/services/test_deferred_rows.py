"""Append-only rows written by plain INSERTs while `deferred_rows.deferring()` is active (a
package command): the same rows as through the ORM, visible to the transaction's own queries,
dropped with a rollback, and a savepoint's rollback takes only its own rows."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models.events import OutboxEvent, TransitionLog
from app.services import deferred_rows, events
from app.services.db import begin_write
from app.services.packages import run_package_command
from tests.services.builders import make_package, staff


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
