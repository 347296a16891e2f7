"""Two workers polling a pulling channel (Trendyol) at the same instant with nothing new and no
cursor yet — a fresh channel, or its claims' cursor added by issue 19 — both find no cursor row:
the second must lock the row the first made, not fail its whole pull on the key (it did on
PostgreSQL: 'duplicate key ... pk_channel_cursors'). Threads with their own sessions; the point
is PostgreSQL (SQLite's writers queue up anyway)."""

from __future__ import annotations

from sqlalchemy import delete, select

from app.extensions import db
from app.models import ChannelCursor
from app.services.channels import pull
from tests.channels.test_trendyol_pull import _ty
from tests.threads import at_once


def test_two_first_polls_at_once_both_succeed_and_leave_one_cursor_each(world, sim, app):
    channel_id = _ty()
    for _round in range(4):
        db.session.execute(delete(ChannelCursor))
        db.session.commit()
        db.session.remove()
        def poll() -> None:
            pull.pull_channel(channel_id, lock=False)  # no Redis lock: the database alone must hold

        _, errors = at_once(app, [poll, poll])
        assert not errors, errors
        keys = sorted(db.session.scalars(select(ChannelCursor.key)))
        assert keys == sorted([pull.cursor_key(channel_id), pull.returns_cursor_key(channel_id)])
