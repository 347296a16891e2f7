"""Append-only rows written by one multi-row INSERT per table instead of the unit of work.

A package command writes, besides its changed rows, a few rows nobody changes afterwards: its
outbox events, its transition-log rows and its stock-ledger rows. As ORM objects each one goes
through the unit of work at the commit (registered, sorted with the other mappers, its defaults
fetched, one statement per table); that bookkeeping costs more than the rows themselves. While
`deferring()` is active, `events.emit`, `events.log_transition` and the stock ledger hand their
rows here instead, and they are written by plain `INSERT`s (one per table, every row in it):

- at every flush, after the flush's own statements (a row may point at a row the flush inserted),
  and before every statement the session executes that may touch their tables, subqueries
  included (any text statement) — so a query in the same transaction sees them, as it would see
  ORM objects after the autoflush (a statement sent on the connection itself, past the session,
  does not: none reads these tables inside a package command);
- before the commit;
- before a savepoint begins, on the enclosing transaction's connection, so rolling the savepoint
  back cannot take the enclosing transaction's rows with it.

A rollback or the session's close drops the rows not yet written (the database drops the
written ones). The rows keep the order they were added in, within and across tables' statements
(ids are in that order per table). The outbox relay learns the largest event id it must publish from here, as it does from
its ORM flushes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Delete, Insert, Select, Table, Update, event, insert
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.sql.util import find_tables

from app.extensions import db

_ON = "packline.defer_rows"
_ROWS = "packline.deferred_rows"
OUTBOX_MAX_ID = "outbox_max_id"  # the relay's session.info key (webhooks/outbox.py)


@contextmanager
def deferring() -> Iterator[None]:
    """Defer append-only rows for the body of the `with` (one write's work in its transaction)."""
    info = db.session().info
    before = info.get(_ON, False)
    info[_ON] = True
    try:
        yield
    finally:
        info[_ON] = before


def defer(table: Table, row: dict[str, Any]) -> bool:
    """Keep `row` for `table` until the next write point; False when deferring is not active
    (the caller then adds its ORM object as usual)."""
    info = db.session().info
    if not info.get(_ON):
        return False
    info.setdefault(_ROWS, []).append((table, row))
    return True


def write(session: Session, connection=None) -> None:
    """Insert the pending rows, one statement per table, in the order they were added."""
    rows = session.info.pop(_ROWS, None)
    if not rows:
        return
    connection = connection if connection is not None else session.connection()
    by_table: dict[Table, list[dict[str, Any]]] = {}
    for table, row in rows:
        by_table.setdefault(table, []).append(row)
    for table, table_rows in by_table.items():
        if table.name == "outbox_events":
            ids = connection.execute(insert(table).returning(table.c.id),
                                     table_rows).scalars().all()
            session.info[OUTBOX_MAX_ID] = max([*ids, session.info.get(OUTBOX_MAX_ID, 0)])
        else:
            connection.execute(insert(table), table_rows)


def _forget(session: Session) -> None:
    session.info.pop(_ROWS, None)


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context) -> None:
    # After the flush's own statements, so a deferred row may point at a row the flush inserted.
    write(session)


@event.listens_for(Session, "do_orm_execute")
def _before_statement(state) -> None:
    rows = state.session.info.get(_ROWS)
    if rows and not _elsewhere(state, rows):
        write(state.session)


def _elsewhere(state, rows) -> bool:
    """True for a statement that cannot touch a table with pending rows, so the rows can wait and
    go out with the others in one statement: a relationship load of other entities (an order's
    packages), or a SELECT/INSERT/UPDATE/DELETE none of whose tables, subqueries included, is
    one of theirs (a stock UPDATE). A text statement may touch anything: the rows go first."""
    pending = {table for table, _row in rows}
    if state.is_relationship_load:
        return not any(table in pending for mapper in state.all_mappers for table in mapper.tables)
    statement = state.statement
    if not isinstance(statement, (Select, Insert, Update, Delete)):
        return False
    return not any(table in pending for table in find_tables(
        statement, check_columns=True, include_aliases=True, include_joins=True, include_crud=True))


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    if _ROWS in session.info:
        session.flush()  # the changed rows first (its after_flush writes the pending rows)
        write(session)


@event.listens_for(Session, "after_transaction_create")
def _before_savepoint(session: Session, transaction: SessionTransaction) -> None:
    # The SAVEPOINT itself is sent when the new transaction first needs its connection; the
    # enclosing transaction's connection is the same one, so writing on it now puts the rows
    # before the savepoint. (A session that has rows to write has run a statement already.)
    if transaction.nested and _ROWS in session.info:
        parent = transaction.parent
        connections = getattr(parent, "_connections", {}) if parent is not None else {}
        connection = next(iter(connections.values()))[0] if connections else None
        if connection is None:
            raise RuntimeError("deferred rows pending but the enclosing transaction has no connection")
        write(session, connection)


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    _forget(session)  # a savepoint's too: the rows still pending were added inside it


@event.listens_for(Session, "after_transaction_end")
def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the outermost one ended: committed (nothing left) or closed
        _forget(session)
