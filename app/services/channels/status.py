"""Status back to the channel (SPEC §13): when a package of a connected channel's order is
shipped, delivered or cancelled (with its order), the connector tells the channel in its own
terms — a Shopify fulfillment with the tracking number, a WooCommerce order completed with
tracking meta, a Trendyol package status.

One `ChannelPush` row per (package, kind), found by a periodic scan of packages rather than by
listening to events, so nothing is missed whatever order transactions commit in. A return of a
connected channel's order that reaches refund-ready (`return.refund_ready`: inspected, so
`restocked` or `written_off`) gets one `refund` push (per return) the same way: Shopify is asked
for a refund, WooCommerce for an order refund, Trendyol to approve the claim items. Each attempt
is logged on the row (time, status code, error, Retry-After); transient failures are retried
with backoff and never sooner than the channel's Retry-After; permanent failures and exhausted
retries leave the push `failed`, listed for the supervisor with a retry button.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from redis.exceptions import LockError, RedisError
from sqlalchemy import and_, exists, select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import Channel, ChannelCursor, ChannelInboxEntry, ChannelPush, Order, Package
from app.models.base import iso, utcnow
from app.models.returns import Return
from app.queues import redis_connection
from app.services.actors import Actor
from app.services.channels import CONNECTORS, ChannelError, MappingProblem, connector_for
from app.services.channels.base import ChannelLine, ChannelReturn, RefundNews, ReturnLine, StatusNews
from app.services.channels.mappings import lookup
from app.services.db import begin_write
from app.services.errors import NotFound, ValidationFailed
from app.services.said import is_message, listening, stored, stored_message

SHIPPED_STATES = ("shipped", "attempted_delivery", "delivery_failed", "delivered")
REFUND_READY_STATES = ("restocked", "written_off")
RETRY_INTERVALS = [5, 30, 120, 600, 1800, 3600, 7200]  # seconds before attempt 2, 3, ...
MAX_LOG = 30
SCAN_DAYS = 14
SCAN_CURSOR = "status_scan"
SCAN_OVERLAP_SECONDS = 300
SCAN_LIMIT = 2000
ORDER_OUTCOMES = ("imported", "updated", "duplicate")  # inbox entries that carry the order's payload


def retry_intervals() -> list[int]:
    configured = current_app.config.get("CHANNEL_RETRY_INTERVALS")
    return list(RETRY_INTERVALS if configured is None else configured)


def _connected_adapters() -> list[str]:
    return [name for name in CONNECTORS if name != "api"]


def scan() -> list[int]:
    """Create the pushes that are due (packages shipped, delivered, cancelled with their order
    in the last two weeks, of orders from connected channels). Returns the new push ids."""
    started = utcnow()
    cursor = db.session.get(ChannelCursor, SCAN_CURSOR)
    # Packages that changed since a little before the last scan (a transaction that began before
    # it may commit after it); the first scan looks back two weeks.
    since = started - timedelta(days=SCAN_DAYS)
    if cursor is not None:
        since = max(since, _when(cursor.value) - timedelta(seconds=SCAN_OVERLAP_SECONDS))
    wanted: list[tuple[str, int, int, int]] = []
    complete = True  # a scan that hit its limit leaves the cursor where it was, to be continued
    base = (select(Package.id, Package.order_id, Order.channel_id, Package.state, Order.status)
            .join(Order, Order.id == Package.order_id).join(Channel, Channel.id == Order.channel_id)
            .where(Channel.adapter.in_(_connected_adapters()), Package.state_changed_at >= since,
                   _sent_by_channel(Package.order_id)))
    for kind, condition in (("shipped", Package.state.in_(SHIPPED_STATES)),
                            ("delivered", Package.state == "delivered"),
                            ("cancelled", and_(Package.state == "cancelled", Order.status == "cancelled"))):
        missing = ~exists().where(ChannelPush.package_id == Package.id, ChannelPush.kind == kind)
        rows = db.session.execute(base.where(condition, missing).limit(SCAN_LIMIT)).all()
        complete = complete and len(rows) < SCAN_LIMIT
        wanted += [(kind, package_id, order_id, channel_id) for package_id, order_id, channel_id, _unused, _unused in rows]
    refunds = db.session.execute(
        select(Return.id, Return.order_id, Order.channel_id).join(Order, Order.id == Return.order_id)
        .join(Channel, Channel.id == Order.channel_id)
        .where(Channel.adapter.in_(_connected_adapters()), Return.state.in_(REFUND_READY_STATES),
               Return.inspected_at >= since, _sent_by_channel(Return.order_id),
               ~exists().where(ChannelPush.return_id == Return.id, ChannelPush.kind == "refund"))
        .limit(SCAN_LIMIT)).all()
    complete = complete and len(refunds) < SCAN_LIMIT
    created = []
    begin_write()
    try:
        cursor = db.session.get(ChannelCursor, SCAN_CURSOR, with_for_update=True)
        if cursor is None and complete:
            db.session.add(ChannelCursor(key=SCAN_CURSOR, value=started.isoformat(), updated_at=started))
        elif cursor is not None and complete and _when(cursor.value) < started:
            cursor.value, cursor.updated_at = started.isoformat(), started
        for kind, package_id, order_id, channel_id in wanted:
            push = ChannelPush(channel_id=channel_id, order_id=order_id, package_id=package_id, kind=kind,
                               status="pending", attempts=0, log=[])
            try:
                with db.session.begin_nested():
                    db.session.add(push)
            except IntegrityError:  # another scan created it
                continue
            created.append(push.id)
        for return_id, order_id, channel_id in refunds:
            push = ChannelPush(channel_id=channel_id, order_id=order_id, return_id=return_id, kind="refund",
                               status="pending", attempts=0, log=[])
            try:
                with db.session.begin_nested():
                    db.session.add(push)
            except IntegrityError:
                continue
            created.append(push.id)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return created


def _sent_by_channel(order_id_column):
    """The order came from the channel (its payload is in the inbox). An order made in Packline
    on a channel that is connected later — the demo's seeded orders, one typed in or imported —
    is one the channel never had: telling it of that order's parcels can only fail ("no payload
    from the channel"), so none is created (docs/decisions.md)."""
    return exists().where(ChannelInboxEntry.order_id == order_id_column,
                          ChannelInboxEntry.channel_order_id.is_not(None), ChannelInboxEntry.return_id.is_(None),
                          ChannelInboxEntry.outcome.in_(ORDER_OUTCOMES))


def _when(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return datetime.min


def _order_entry(order_id: int) -> ChannelInboxEntry:
    """The newest order payload the channel sent for this order (not a return's)."""
    entry = db.session.scalar(select(ChannelInboxEntry).where(
        ChannelInboxEntry.order_id == order_id, ChannelInboxEntry.channel_order_id.is_not(None),
        ChannelInboxEntry.return_id.is_(None),
        ChannelInboxEntry.outcome.in_(ORDER_OUTCOMES)).order_by(ChannelInboxEntry.id.desc())
        .limit(1))
    if entry is None:
        raise MappingProblem(_("Packline has no payload from the channel for this order, so it cannot name it to "
                               "the channel."))
    return entry


def _channel_lines(channel_id: int, corder) -> dict[str, ChannelLine]:
    """Our SKU -> the channel's order line, through the SKU mappings."""
    to_ours = lookup(channel_id).get("sku", {})
    by_sku: dict[str, ChannelLine] = {}
    for line in corder.lines:
        by_sku.setdefault(to_ours.get(line.channel_sku, line.channel_sku), line)
    return by_sku


def _refund_news(push: ChannelPush, connector) -> RefundNews:
    """What to tell the channel about a refund-ready return: the units received per channel SKU,
    with the channel's ids — from its own return (claim, refund) when it came from the channel,
    else from the order as the channel sent it."""
    ret = db.session.get(Return, push.return_id)
    received = {item.product.sku: item.received for item in ret.items if item.received}
    to_ours = lookup(push.channel_id).get("sku", {})
    if ret.channel_ref:
        origin = db.session.scalar(select(ChannelInboxEntry).where(
            ChannelInboxEntry.return_id == ret.id, ChannelInboxEntry.outcome == "returned").limit(1))
        creturn = ChannelReturn(ret.channel_ref, ())
        if origin is not None:
            try:
                creturn = connector.parse_return(json.loads(origin.body))
            except (MappingProblem, ValueError):
                origin = None  # a notification that only named the return (WooCommerce's action)
        lines = tuple(ReturnLine(line.channel_sku, min(line.quantity, received.get(to_ours.get(line.channel_sku,
                                                                                                line.channel_sku), 0)),
                                 line.reason, line.line_id, line.item_ids) for line in creturn.lines)
        entry = _order_entry(ret.order_id) if origin is None or origin.channel_order_id is None else None
        channel_order_id = (origin.channel_order_id if origin is not None else None) or (
            entry.channel_order_id if entry else "")
        return RefundNews(channel_order_id=channel_order_id, order_payload=json.loads(entry.body) if entry else {},
                          return_number=ret.number, lines=lines, channel_return=creturn, reason=ret.reason)
    entry = _order_entry(ret.order_id)
    payload = json.loads(entry.body)
    by_sku = _channel_lines(push.channel_id, connector.parse_order(payload))
    lines = tuple(ReturnLine(by_sku[sku].channel_sku if sku in by_sku else sku, quantity, None,
                             by_sku[sku].line_id if sku in by_sku else None) for sku, quantity in received.items())
    return RefundNews(channel_order_id=entry.channel_order_id, order_payload=payload, return_number=ret.number,
                      lines=lines, reason=ret.reason)


def _news(push: ChannelPush, connector) -> StatusNews:
    package = db.session.get(Package, push.package_id)
    entry = _order_entry(push.order_id)
    payload = json.loads(entry.body)
    by_sku = _channel_lines(push.channel_id, connector.parse_order(payload))
    lines = []
    for item in package.items:
        line = by_sku.get(item.product.sku)
        lines.append(ChannelLine(line.channel_sku if line else item.product.sku, item.quantity,
                                 line_id=line.line_id if line else None))
    shipment = package.shipment
    return StatusNews(
        kind=push.kind, channel_order_id=entry.channel_order_id, order_payload=payload, package_number=package.number,
        lines=tuple(lines), tracking_number=shipment.tracking_number if shipment else None,
        tracking_url=shipment.tracking_url if shipment else None,
        carrier=(shipment.cargo_company.name if shipment and shipment.cargo_company else None))


PUSH_LOCK_SECONDS = 300  # longer than any attempt's HTTP calls; expires by itself should a worker die


def run_push(push_id: int) -> dict[str, Any]:
    """One attempt at telling the channel. Returns {"status", "retry_in"}: `retry_in` seconds
    when another attempt should follow (the job schedules it), else None. One attempt per push
    at a time (a lock in Redis): two jobs of one push — the sweep's and a scheduled retry — must
    not both ask the channel, or a refund would be paid twice (each checks the channel's refunds
    first, but both can look before either made one). A push busy elsewhere returns "busy"."""
    try:
        lock = redis_connection().lock(f"packline:channel-push:{push_id}", timeout=PUSH_LOCK_SECONDS,
                                       blocking=False)
        if not lock.acquire():
            return {"status": "busy", "retry_in": None}
    except RedisError:  # no Redis: no jobs either; the one caller goes on unguarded
        lock = None
    try:
        with listening():  # the error is kept as the catalogue message it was (services/said.py)
            return _attempt(push_id)
    finally:
        if lock is not None:
            try:
                lock.release()
            except (LockError, RedisError):  # expired meanwhile: nothing to free
                pass


def _attempt(push_id: int) -> dict[str, Any]:
    # Read as it is now: another attempt may have finished it while this one waited for the lock.
    push = db.session.get(ChannelPush, push_id, populate_existing=True)
    if push is None:
        return {"status": "missing", "retry_in": None}
    if push.status != "pending":
        return {"status": push.status, "retry_in": None}
    channel = db.session.get(Channel, push.channel_id)
    started = time.monotonic()
    entry: dict[str, Any] = {"at": iso(utcnow()), "status_code": None, "error": None, "retry_after": None}
    retry_in = None
    try:
        connector = connector_for(channel.adapter, channel.config)
        if push.kind == "refund":
            refund = _refund_news(push, connector)
            db.session.commit()  # no transaction while the channel answers
            note = connector.push_refund(refund)
        else:
            news = _news(push, connector)
            db.session.commit()  # no transaction while the channel answers
            note = connector.push_status(news)
        entry["note"], message = stored(note)  # English; the message for the screens
        if message is not None:
            entry["note_message"] = message
        outcome = "done"
    except (ChannelError, MappingProblem) as exc:
        said_as = getattr(exc, "said", None)
        if is_message(said_as):  # a connector's call that failed: the English as it was, and its message
            entry["error"], message = str(exc), stored_message(said_as)
        else:
            entry["error"], message = stored(str(exc))
        if message is not None:
            entry["error_message"] = message  # said in the reader's language on the screens
        transient = isinstance(exc, ChannelError) and exc.transient
        if isinstance(exc, ChannelError):
            entry["status_code"], entry["retry_after"] = exc.status, exc.retry_after
        intervals = retry_intervals()
        attempt = push.attempts  # attempts done before this one
        if transient and attempt < len(intervals):
            retry_in = max(float(intervals[attempt]), float(exc.retry_after or 0))
            outcome = "pending"
        else:
            outcome = "failed"
    entry["ms"] = int((time.monotonic() - started) * 1000)
    if retry_in is not None:
        entry["retry_at"] = iso(utcnow() + timedelta(seconds=retry_in))
    _record(push_id, outcome, entry)
    return {"status": outcome, "retry_in": retry_in}


def _record(push_id: int, outcome: str, entry: dict[str, Any]) -> None:
    begin_write()
    try:
        push = db.session.get(ChannelPush, push_id, with_for_update=True)
        push.log = [*(push.log or []), entry][-MAX_LOG:]
        push.attempts += 1
        push.status = outcome
        push.last_error = entry.get("error")
        if outcome == "done":
            push.done_at = utcnow()
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


def retry(push_id: int, actor: Actor) -> ChannelPush:
    """A supervisor asks for another try of a failed push (attempts start over)."""
    if not actor.is_manager:
        from app.services.errors import Forbidden

        raise Forbidden(_('Only supervisors and admins may retry channel updates.'))
    begin_write()
    try:
        push = db.session.get(ChannelPush, push_id, with_for_update=True)
        if push is None:
            raise NotFound(_('There is no such channel update.'))
        if push.status != "failed":
            raise ValidationFailed(_('Only failed channel updates can be retried.'), {"status": push.status})
        push.status, push.attempts = "pending", 0
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return push


def stale_pending(older_than_seconds: int = 120) -> list[int]:
    """Pending pushes nobody is working on (a lost job): never tried, or last tried long ago and
    not waiting for a retry scheduled later (a backoff of 10 minutes or the channel's Retry-After
    is kept: the sweep must not send it again before its time)."""
    now = utcnow()
    cutoff = now - timedelta(seconds=older_than_seconds)
    rows = db.session.execute(select(ChannelPush.id, ChannelPush.log).where(
        ChannelPush.status == "pending", ChannelPush.updated_at < cutoff).order_by(ChannelPush.id).limit(500))
    return [push_id for push_id, log in rows if not _retry_later(log, now - timedelta(seconds=older_than_seconds))]


def _retry_later(log: Any, now: datetime) -> bool:
    """Whether the last attempt scheduled the next one after `now` (its job then still waits)."""
    last = log[-1] if isinstance(log, list) and log and isinstance(log[-1], dict) else {}
    retry_at = last.get("retry_at")
    return bool(retry_at) and _when(str(retry_at).removesuffix("Z")) > now


def pushes_for_order(order_id: int) -> list[ChannelPush]:
    return list(db.session.scalars(select(ChannelPush).where(ChannelPush.order_id == order_id)
                                   .order_by(ChannelPush.id)))
