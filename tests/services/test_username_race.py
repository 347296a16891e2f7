"""Two admins creating "Ayse" and "AYSE" at the same moment: one user is made, the other is
refused — on PostgreSQL both pass the name check before either inserts (held there on purpose),
and the unique username_key decides; on SQLite the write lock puts them one after the other."""

from __future__ import annotations

import threading

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import User
from app.services.db import committed
from app.services.errors import Conflict
from app.services.users import create_user

RACERS = ("racer-1", "racer-2")


def test_two_names_differing_only_by_capitals_created_at_once_make_one_user(app):
    both_checked = threading.Barrier(2, timeout=3)
    outcomes: dict[str, str] = {}

    def hold_before_insert(session, _context, _instances) -> None:
        if threading.current_thread().name in RACERS and any(isinstance(o, User) for o in session.new):
            try:
                both_checked.wait()  # both have looked for the name and found none
            except threading.BrokenBarrierError:
                pass  # SQLite: the other is waiting for the write lock, not here

    def create(name: str) -> None:
        with app.app_context():
            try:
                committed(create_user, name, "admin", "long-enough-pw-1")
                outcomes[name] = "created"
            except Conflict as exc:
                outcomes[name] = f"refused: {exc.code}"
            finally:
                db.session.remove()

    event.listen(Session, "before_flush", hold_before_insert)
    try:
        threads = [threading.Thread(target=create, args=(name,), name=racer)
                   for name, racer in zip(("Ayse", "AYSE"), RACERS, strict=True)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    finally:
        event.remove(Session, "before_flush", hold_before_insert)

    assert sorted(outcomes.values())[0] == "created" and sorted(outcomes.values())[1].startswith("refused"), outcomes
    if db.engine.dialect.name == "postgresql":  # both passed the check: the unique index refused one
        assert "refused: duplicate" in outcomes.values(), outcomes
    db.session.rollback()
    assert db.session.scalar(select(func.count(User.id)).where(User.username_key == "ayse")) == 1
