"""Transaction helpers shared by the service layer."""

from __future__ import annotations

from app.extensions import db


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
