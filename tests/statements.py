"""Counting what a request costs the database: the statement-ceiling tests' shared recorder."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from app.extensions import db


@contextmanager
def database_work() -> Iterator[dict[str, Any]]:
    """Record every statement the app's engine sends inside the `with` (`statements`: shortened,
    one line each; `sql`: as sent), the number of commits and how many statements came before
    the last commit (`after_commit`: statements[after_commit:] ran after it)."""
    seen: dict[str, Any] = {"statements": [], "sql": [], "commits": 0, "after_commit": 0}

    def statement(conn, cursor, sql, parameters, context, executemany):
        seen["statements"].append(" ".join(sql.split())[:120])
        seen["sql"].append(sql)

    def commit(conn):
        seen["commits"] += 1
        seen["after_commit"] = len(seen["statements"])

    event.listen(db.engine, "before_cursor_execute", statement)
    event.listen(db.engine, "commit", commit)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", statement)
        event.remove(db.engine, "commit", commit)
