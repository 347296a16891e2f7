"""Transaction helpers shared by the service layer."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from typing import TypeVar

from flask_babel import gettext as _
from sqlalchemy import any_, bindparam, event, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.extensions import db
from app.services.errors import Conflict
from app.services.stock import InsufficientStock

T = TypeVar("T")

# A web request that changes something (POST/PUT/PATCH/DELETE) intends to write: on SQLite its
# first transaction then begins IMMEDIATE, like `begin_write`, so it queues for the write lock
# instead of failing ("database is locked") when it upgrades a read after another commit. Set by
# the request hooks in app/__init__.py, cleared by the first commit or rollback and at the end of
# the request.
_WRITE_INTENT: ContextVar[bool] = ContextVar("packline_write_intent", default=False)


def intend_write(intent: bool = True) -> None:
    _WRITE_INTENT.set(intent)


def write_intended() -> bool:
    return _WRITE_INTENT.get()


@event.listens_for(Session, "after_commit")
def _write_intent_done(_session: Session) -> None:
    # Once the request's write is committed, later reads (rendering the answer) must not hold the
    # write lock; a further write goes through `begin_write` like every service write.
    _WRITE_INTENT.set(False)


@event.listens_for(Session, "after_soft_rollback")
def _write_intent_abandoned(_session: Session, previous_transaction) -> None:
    # Likewise once the request's write was rolled back (a refused command): the error page it
    # renders next is a read. Only the outermost transaction: a savepoint rolled back inside a
    # write is still that write.
    if previous_transaction.parent is None:
        _WRITE_INTENT.set(False)


def begin_write() -> None:
    """Start the write transaction of a public service function.

    Ends whatever read transaction the caller had open (views never hold pending changes), then
    begins a new one; on SQLite it is `BEGIN IMMEDIATE`, so the database write lock is held
    from the first statement and read-then-write sequences cannot interleave with other writers.
    On PostgreSQL row locks (`SELECT ... FOR UPDATE`) do that work.

    A transaction that has only read so far and already is what a write transaction would be —
    a web request's writing request began it IMMEDIATE on SQLite (`intend_write`), or any
    PostgreSQL transaction (READ COMMITTED: each statement reads the latest commits) — simply
    continues: committing it and beginning again would only cost a commit and, on SQLite, a
    second trip through the write lock (an API command read its token in it).
    """
    session = db.session()
    if not _continues_as_write(session):
        if session.in_transaction():
            session.commit()
        session.connection(execution_options={"sqlite_immediate": True})
    hooks = session.info.get(_WRITE_HOOKS)
    if hooks:
        session.info[_HOOKS_RAN] = (session.get_transaction(), list(hooks))
        for hook in list(hooks.values()):
            hook()


_BEGAN_IMMEDIATE = "packline.began_immediate"
_WROTE = "packline.wrote"


def _continues_as_write(session: Session) -> bool:
    if not session.in_transaction() or session.info.get(_WROTE) or session.new or session.dirty or session.deleted:
        return False
    if session.get_bind().dialect.name == "sqlite":
        return bool(session.info.get(_BEGAN_IMMEDIATE))
    return True


@event.listens_for(Session, "after_begin")
def _note_begin(session: Session, _transaction, connection) -> None:
    session.info[_WROTE] = False
    session.info[_BEGAN_IMMEDIATE] = bool(connection.get_execution_options().get("sqlite_immediate")
                                          or write_intended())


@event.listens_for(Session, "after_flush")
def _note_flush(session: Session, _context) -> None:
    session.info[_WROTE] = True


@event.listens_for(Session, "do_orm_execute")
def _note_write(state) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[_WROTE] = True


def lock_names(*names: str) -> None:
    """Hold named locks until the end of the current write transaction (`begin_write`).

    For a count-then-insert that no single row stands for (the failed sign-ins of a username or
    an address): transactions locking the same name run one after another, so each one counts
    the rows the ones before it committed. PostgreSQL takes transaction-level advisory locks, in
    sorted order so two transactions never wait for each other; SQLite's write transaction
    already holds the whole database.
    """
    if db.session.get_bind().dialect.name != "postgresql":
        return
    for name in sorted(set(names)):
        db.session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:name, 0))"), {"name": name})


# --- write hooks: rows a request adds to the transaction of whatever command it runs -------------

_WRITE_HOOKS = "packline.write_hooks"
_HOOKS_RAN = "packline.write_hooks_ran"


def on_next_write(name: str, hook: Callable[[], None]) -> None:
    """Run `hook` first thing in this session's next write transaction (`begin_write`).

    The hook's statements ride on that transaction: if it rolls back, the hook runs again in
    the next write transaction; once one commits, the hook is done. The API edge uses it to put
    its own rows (the Idempotency-Key claim, the token's last use) into the transaction of the
    command a request runs, without every service taking a parameter for them. Hooks run in the
    order they were added, so concurrent requests take their rows' locks in the same order.
    """
    db.session().info.setdefault(_WRITE_HOOKS, {})[name] = hook


def write_hook_pending(name: str) -> bool:
    """True while `name` has not yet been committed by a write transaction."""
    return name in db.session().info.get(_WRITE_HOOKS, {})


def cancel_write_hook(name: str) -> None:
    db.session().info.get(_WRITE_HOOKS, {}).pop(name, None)


def run_pending_write_hooks() -> None:
    """Give the hooks no write transaction picked up (a read-only request) one short transaction."""
    if db.session().info.get(_WRITE_HOOKS):
        begin_write()
        db.session.commit()


def discard_write_hooks() -> None:
    """Forget every hook (the end of a request: hooks never outlive the request that added them)."""
    info = db.session().info
    info.pop(_WRITE_HOOKS, None)
    info.pop(_HOOKS_RAN, None)


@event.listens_for(db.session, "after_commit")
def _write_hooks_committed(session: Session) -> None:
    ran = session.info.get(_HOOKS_RAN)
    # Only the commit of the very transaction the hooks ran in (not a savepoint inside it, not a
    # later one after a rollback) settles them.
    if ran is None or session.in_nested_transaction() or ran[0] is not session.get_transaction():
        return
    del session.info[_HOOKS_RAN]
    hooks = session.info.get(_WRITE_HOOKS, {})
    for name in ran[1]:
        hooks.pop(name, None)


def in_values(column, values):
    """`column IN (values)`; on PostgreSQL `column = ANY(:array)`, one parameter however many
    values (psycopg spends real time parsing a statement with thousands of placeholders). The
    parameter stays a typed array, not a cast literal: PostgreSQL then plans with the actual
    values (index or hashed lookup); behind a cast it scanned a table per query."""
    values = list(values)
    if db.session.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, values, type_=ARRAY(column.type)))
    return column.in_(values)


def pg_array(values) -> str:
    """A PostgreSQL array literal ('{1,2,3}', '{"a","b"}') of ints or strings, to be CAST to
    int[] / text[]: one string parameter instead of a list psycopg dumps element by element."""
    return "{" + ",".join(str(v) if isinstance(v, int) else _quoted(v) for v in values) + "}"


def _quoted(value) -> str:
    if value is None:
        return "NULL"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


RACE_ATTEMPTS = 5  # a write that re-plans retries a lost reservation race this many times


def write_with_race_retry(work: Callable[[], T], attempts: int = RACE_ATTEMPTS, keep_loaded: bool = False) -> T:
    """Run `work` in a fresh write transaction and commit once.

    A lost reservation race (another transaction took the stock first) rolls back and runs
    `work` again with fresh rows; after `attempts` tries it becomes a 409 the caller can retry.
    Any other error rolls back and propagates.

    `keep_loaded`: the objects `work` loaded keep their attributes through the commit instead
    of being expired, so describing them afterwards (the response body) does not read them all
    again. Only for work that locked the rows it returns: what it wrote is then exactly what
    was committed.
    """
    for attempt in range(1, attempts + 1):
        begin_write()
        try:
            result = work()
            if keep_loaded:
                _commit_keeping_loaded()
            else:
                db.session.commit()
            return result
        except InsufficientStock:
            db.session.rollback()
            if attempt == attempts:
                raise Conflict(_('The stock changed too often; try again.'), code="planning_busy") from None
        except BaseException:
            db.session.rollback()
            raise
    raise AssertionError("unreachable")


def _commit_keeping_loaded() -> None:
    session = db.session()
    before = session.expire_on_commit
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = before


def committed(operation: Callable[..., T], *args, **kwargs) -> T:
    """Run one domain operation (one that only flushes) in its own write transaction and commit:
    the edges' way to write (API views, admin forms, the CLI). Any error rolls everything back;
    a unique index tripped by a concurrent writer becomes a 409 the caller can retry."""
    begin_write()
    try:
        result = operation(*args, **kwargs)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(_('Another request changed the same records at the same time; try again.'),
                       code="duplicate") from None
    except BaseException:
        db.session.rollback()
        raise
    return result
