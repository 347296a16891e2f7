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

At the commit of such a transaction, the rows it changed are written past the unit of work too,
when every pending change is a plain one (`_write_plain_updates`): a loaded row of an ordinary
mapped table whose changed attributes are its own columns, the key excepted, and which no flush
hook watches (audited records, cached configuration). Each one is an `UPDATE ... WHERE id` of the
changed columns and the table's `onupdate` values (consecutive rows of one table changing the same
columns in one statement, as the unit of work sends them), tables in dependency order and rows by
key, the row count checked as the unit of work checks it; the objects are then marked unchanged; anything else (a new or deleted object,
a changed relationship or key) leaves the whole commit to the unit of work.

A rollback or the session's close drops the rows not yet written (the database drops the
written ones). The rows keep the order they were added in, within and across tables' statements
(ids are in that order per table). The outbox relay learns the largest event id it must publish from here, as it does from
its ORM flushes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from itertools import groupby
from typing import Any

from sqlalchemy import ClauseElement, Delete, Insert, Select, Table, Update, bindparam, event, insert, update
from sqlalchemy.orm import ColumnProperty, Mapper, Session, SessionTransaction
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.orm.state import InstanceState
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
        _write_plain_updates(session)
        session.flush()  # the changed rows first (its after_flush writes the pending rows)
        write(session)


_UPDATE_KEY = "packline_row_key"
# mapper -> (its table, its key column, {attribute name: column}) or None when its changes
# always go through the unit of work.
_PLAIN: dict[Mapper, tuple[Table, Any, dict[str, Any]] | None] = {}
_UPDATES: dict[Table, Update] = {}


def _plain_mapper(mapper: Mapper):
    if mapper in _PLAIN:
        return _PLAIN[mapper]
    from app.services.audit import AUDITED
    from app.services.config_cache import CACHED_MODELS

    table = mapper.local_table
    plain = None
    if (isinstance(table, Table) and mapper.inherits is None and not mapper.polymorphic_map
            and mapper.version_id_col is None and len(mapper.primary_key) == 1
            and not issubclass(mapper.class_, (*AUDITED, *CACHED_MODELS))
            and not any(c.server_onupdate is not None or (c.onupdate is not None and not c.onupdate.is_callable)
                        for c in table.columns)):
        columns = {prop.key: prop.columns[0] for prop in mapper.iterate_properties
                   if isinstance(prop, ColumnProperty) and len(prop.columns) == 1
                   and prop.columns[0].table is table and not prop.columns[0].primary_key}
        plain = (table, mapper.primary_key[0], columns)
    _PLAIN[mapper] = plain
    return plain


def _write_plain_updates(session: Session) -> None:
    """Write the transaction's changed rows with plain UPDATEs, when all its pending changes are
    plain (see the module's docstring); otherwise leave them to the flush."""
    if session._new or session._deleted or session.in_nested_transaction():  # noqa: SLF001
        # (a savepoint's release fires before_commit too; its rollback restores only the objects
        # the unit of work registered, so a savepoint's changes always go through it)
        return
    modified = list(session.identity_map._modified)  # noqa: SLF001 — the states `Session.dirty` lists
    if not modified:
        return
    writes = []
    for state in modified:
        plain = _plain_mapper(state.mapper)
        if plain is None or state.deleted or not state.has_identity:
            return
        table, key_column, columns = plain
        values = {}
        dict_ = state.dict
        for name, before in state.committed_state.items():
            column = columns.get(name)
            if column is None:  # a relationship, the key, or a column of another table
                return
            if name not in dict_:
                return
            value = dict_[name]
            if hasattr(value, "__clause_element__") or isinstance(value, ClauseElement):
                return  # an SQL expression assigned to an attribute
            if state.manager[name].impl.is_equal(value, before) is not True:
                values[column.key] = value
        writes.append((state, table, key_column, values))
    # In one fixed order (tables in dependency order, then by key), so the writers that take this
    # path lock rows in the same order; consecutive rows of one table changing the same columns
    # go in one statement with a parameter set each (an executemany), as the unit of work sends them.
    order = _table_order()
    writes.sort(key=lambda w: (order.get(w[1], len(order)), w[0].identity))
    connection = session.connection()
    changed = (w for w in writes if w[3])
    for (table, _names), run in groupby(changed, key=lambda w: (w[1], tuple(sorted(w[3])))):
        batch = list(run)
        statement = _UPDATES.get(table)
        if statement is None:
            statement = _UPDATES[table] = update(table).where(batch[0][2] == bindparam(_UPDATE_KEY))
        result = connection.execute(statement, [{**values, _UPDATE_KEY: state.identity[0]}
                                                for state, _t, _k, values in batch])
        if (len(batch) == 1 or connection.dialect.supports_sane_multi_rowcount) and result.rowcount != len(batch):
            raise StaleDataError(f"UPDATE statement on table '{table.name}' expected to update {len(batch)} row(s); "
                                 f"{result.rowcount} were matched.")
        # What the table's onupdate defaults wrote (an updated_at) goes on the objects too.
        onupdate = [(name, column.key) for name, column in _PLAIN[batch[0][0].mapper][2].items()
                    if column.onupdate is not None and column.key not in batch[0][3]]
        if onupdate:
            written = result.last_updated_params()
            for (state, *_rest), params in zip(batch, written if isinstance(written, list) else [written],
                                               strict=True):
                for name, key in onupdate:
                    state.dict[name] = params[key]
    InstanceState._commit_all_states(((state, state.dict) for state, *_ in writes), session.identity_map)


_ORDER: dict[Table, int] = {}


def _table_order() -> dict[Table, int]:
    if not _ORDER:
        _ORDER.update({table: n for n, table in enumerate(db.metadata.sorted_tables)})
    return _ORDER


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
