"""The lock order of a package command (`packages.lock_package`): the order row, then the
package row, taken by one statement. Every writer keeps that order (order, package, transfer,
stock), so two commands on one order queue up instead of deadlocking; and a command that waited
works on the rows as the other transaction committed them."""

from __future__ import annotations

import threading
import time

from sqlalchemy import text

from app.extensions import db
from app.services.packages import run_package_command
from tests.services.builders import make_package, staff


def test_a_command_waits_for_the_order_before_it_takes_the_package_and_then_sees_the_new_order(app):
    package = make_package("waiting")
    package_id, order_id, actor = package.id, package.order.id, staff(package.location)
    db.session.commit()
    engine = db.engine
    postgres = engine.dialect.name == "postgresql"
    holding, checked = threading.Event(), threading.Event()
    seen: dict[str, object] = {}

    def another_writer_holds_the_order() -> None:  # another process's transaction on its own connection
        # SQLite: BEGIN IMMEDIATE, the database's write lock (what every writer there waits for).
        with engine.connect().execution_options(sqlite_immediate=True) as conn:
            conn.execute(text("UPDATE orders SET customer_name = 'Changed meanwhile' WHERE id = :o"), {"o": order_id})
            holding.set()
            checked.wait(10)
            conn.commit()

    def meanwhile_the_package_is_free() -> None:
        """While the command waits for the order, nobody holds the package row."""
        assert holding.wait(10)
        time.sleep(0.5)  # the command has started and is waiting by now
        if postgres:
            with engine.connect() as conn:
                waiting = conn.execute(text(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database()")).scalar()
                seen["waiting"] = waiting
                row = conn.execute(text("SELECT id FROM packages WHERE id = :p FOR UPDATE NOWAIT"),
                                   {"p": package_id}).scalar()  # raises if the command held it
                seen["package_free"] = row == package_id
                conn.rollback()
        checked.set()

    writer = threading.Thread(target=another_writer_holds_the_order)
    checker = threading.Thread(target=meanwhile_the_package_is_free)
    writer.start()
    checker.start()
    try:
        assert holding.wait(10)
        started = time.monotonic()
        result = run_package_command(package_id, "prepare", {}, actor)
        waited = time.monotonic() - started
    finally:
        checked.set()
        writer.join()
        checker.join()
    assert waited >= 0.4  # it did wait for the other writer
    if postgres:
        assert seen == {"waiting": 1, "package_free": True}
    assert result.state == "preparing"
    # The order row it locked is the one the other writer committed, not the one from before its wait.
    assert result.order.customer_name == "Changed meanwhile"
    db.session.expire_all()
    assert db.session.get(type(result.order), order_id).customer_name == "Changed meanwhile"
