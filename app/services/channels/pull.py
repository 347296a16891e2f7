"""Orders pulled from channels without webhooks (Trendyol's shipment package list), from a
stored cursor. Two workers polling at once never import twice: a Redis lock keeps a second poll
of the same channel from running at all, and should it run anyway (the lock expired, Redis was
restarted) the inbox's unique (channel, delivery id) and `create_order`'s idempotency on
(channel, number) still store and import each package once."""

from __future__ import annotations

import logging
import time
from typing import Any

from redis.exceptions import RedisError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import Channel, ChannelCursor
from app.models.base import utcnow
from app.queues import redis_connection
from app.services.channels import CONNECTORS, ChannelError, connector_for
from app.services.channels.intake import enqueue_processing, store_pulled, store_pulled_return
from app.services.db import begin_write

log = logging.getLogger("packline.channels")

LOCK_SECONDS = 300


def cursor_key(channel_id: int) -> str:
    return f"pull:{channel_id}"


def read_cursor(key: str) -> ChannelCursor | None:
    return db.session.get(ChannelCursor, key)


def pull_channel(channel_id: int, *, lock: bool = True) -> dict[str, Any]:
    """Fetch the channel's packages changed since the cursor, store the new ones in the inbox
    and queue their processing. Returns counts (or why nothing ran)."""
    channel = db.session.get(Channel, channel_id)
    if channel is None or not CONNECTORS.get(channel.adapter or "api", CONNECTORS["api"]).pulls_orders:
        return {"skipped": "not a pulling channel"}
    lock_key = f"packline:channels:pull-lock:{channel_id}"
    if lock:
        try:
            if not redis_connection().set(lock_key, "1", nx=True, ex=LOCK_SECONDS):
                return {"skipped": "another worker is pulling this channel"}
        except RedisError:
            pass  # the database constraints still hold
    try:
        return _pull(channel)
    finally:
        if lock:
            try:
                redis_connection().delete(lock_key)
            except RedisError:
                pass


def _pull(channel: Channel) -> dict[str, Any]:
    connector = connector_for(channel.adapter, channel.config)
    key = cursor_key(channel.id)
    stored = read_cursor(key)
    now_ms = int(time.time() * 1000)
    lookback_ms = int(getattr(connector.config, "lookback_minutes", 60)) * 60_000
    since = int(stored.value) if stored and stored.value.isdigit() else now_ms - lookback_ms
    channel_id = channel.id
    db.session.commit()  # no transaction is held while the channel answers
    try:
        packages = connector.pull_orders(since, now_ms)
    except ChannelError as exc:
        _note_error(key, exc.message)
        raise
    stamps = [int(p.get("lastModifiedDate") or 0) for p in packages]
    new_ids = _store_and_advance(channel_id, key, since, stamps, packages, store_pulled, connector)
    result = {"fetched": len(packages), "stored": len(new_ids), "cursor": max([since, *stamps])}
    try:
        result.update(_pull_returns(channel_id, connector, now_ms, lookback_ms))
    except ChannelError as exc:  # the orders are in; the claims are asked for again next time
        _note_error(returns_cursor_key(channel_id), exc.message)
        result["returns_error"] = exc.message
    return result


def _store_and_advance(channel_id: int, key: str, since: int, stamps: list[int], items: list[dict],
                       store, connector) -> list[int]:
    """Store the pulled items in the inbox (`store(channel, connector, item)` -> new entry id or
    None) and move the cursor to the newest stamp seen, in one transaction; then queue the new
    entries. The next poll starts at that stamp (inclusive: an item of the same millisecond is
    seen again and stored once by its delivery id); the cursor never moves back."""
    begin_write()
    try:
        channel = db.session.get(Channel, channel_id)
        new_ids = [entry_id for item in items if (entry_id := store(channel, connector, item)) is not None]
        cursor = _locked_cursor(key, since)
        newest = max([since, *stamps])
        if not cursor.value.isdigit() or int(cursor.value) < newest:
            cursor.value = str(newest)
        cursor.updated_at = utcnow()
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    for entry_id in new_ids:
        enqueue_processing(entry_id)
    return new_ids


def _locked_cursor(key: str, since: int) -> ChannelCursor:
    """The cursor row, locked; created at `since` when there is none. Two workers pulling at once
    may both find none: the second's insert waits for the first's and fails on the key, and it
    then locks the row the first made (instead of failing its whole pull)."""
    cursor = db.session.get(ChannelCursor, key, with_for_update=True)
    if cursor is not None:
        return cursor
    try:
        with db.session.begin_nested():
            cursor = ChannelCursor(key=key, value=str(since))
            db.session.add(cursor)
        return cursor
    except IntegrityError:
        return db.session.get(ChannelCursor, key, with_for_update=True, populate_existing=True)


def returns_cursor_key(channel_id: int) -> str:
    return f"pull-returns:{channel_id}"


def _pull_returns(channel_id: int, connector, now_ms: int, lookback_ms: int) -> dict[str, Any]:
    """The channel's returns (Trendyol claims) created since their own cursor, into the inbox."""
    key = returns_cursor_key(channel_id)
    stored = read_cursor(key)
    since = int(stored.value) if stored and stored.value.isdigit() else now_ms - lookback_ms
    db.session.commit()
    claims = connector.pull_returns(since, now_ms)
    if not claims and stored is not None:
        return {"returns_fetched": 0, "returns_stored": 0}
    # Claims are listed by creation date, so their cursor follows `claimDate`.
    stamps = [int(c.get("claimDate") or 0) for c in claims]
    new_ids = _store_and_advance(channel_id, key, since, stamps, claims, store_pulled_return, connector)
    return {"returns_fetched": len(claims), "returns_stored": len(new_ids)}


def _note_error(key: str, message: str) -> None:
    log.warning("channel pull %s failed: %s", key, message)


def due_channels() -> list[int]:
    """Pulling channels whose interval has passed since their last poll."""
    pulling = [name for name, c in CONNECTORS.items() if c.pulls_orders]
    due = []
    now = utcnow()
    for channel in db.session.scalars(select(Channel).where(Channel.adapter.in_(pulling))):
        interval = int((channel.config or {}).get("sync_interval_seconds") or 60)
        cursor = read_cursor(cursor_key(channel.id))
        if cursor is None or (now - cursor.updated_at).total_seconds() >= interval:
            due.append(channel.id)
    return due
