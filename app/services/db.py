"""Transaction helpers shared by the service layer."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY

from app.extensions import db

T = TypeVar("T")


def begin_write() -> None:
    """Start the write transaction of a public service function.

    Ends whatever read transaction the caller had open (views never hold pending changes), then
    begins a new one; on SQLite it is `BEGIN IMMEDIATE`, so the database write lock is held
    from the first statement and read-then-write sequences cannot interleave with other writers.
    On PostgreSQL row locks (`SELECT ... FOR UPDATE`) do that work.
    """
    if db.session().in_transaction():
        db.session.commit()
    db.session.connection(execution_options={"sqlite_immediate": True})


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
    from app.services.errors import Conflict
    from app.services.stock import InsufficientStock

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
                raise Conflict("The stock changed too often; try again.", code="planning_busy") from None
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
