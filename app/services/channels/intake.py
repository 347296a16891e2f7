"""Orders in (SPEC §13): every payload a channel sends (a webhook) or we fetch (a pulled
package) lands first in the channel inbox, raw; a job then maps it into an order through
`orders.create_order` — the same path as `POST /api/v1/orders` — or applies a cancellation or
an address change. What cannot be mapped waits as `needs_attention` with the reason until an
admin fixes the mapping and re-processes it.

Receiving is fast and safe to repeat: the signature is checked before anything is stored, and
the inbox's unique (channel, delivery id) refuses a replayed delivery.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

from flask_babel import gettext as _
from redis.exceptions import LockError, RedisError
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.i18n import lower
from app.models import Channel, ChannelInboxEntry, Order, Package, Product
from app.models.base import utcnow
from app.queues import redis_connection
from app.services import events, orders
from app.services.actors import Actor
from app.services.channels import ChannelError, MappingProblem, connector_for
from app.services.channels.base import ChannelConnector, ChannelOrder
from app.services.channels.mappings import lookup
from app.services.db import begin_write
from app.services.errors import Conflict, ServiceError, ValidationFailed
from app.services.http_client import capped
from app.services.human_input import field_label
from app.services.package_commands.common import safe_enqueue
from app.services.said import N_, joined, listening, recall, said, stored
from app.services.said import english as said_english
from app.services.state_labels import state_label
from app.services.transitions import PACKED_STATES

log = logging.getLogger("packline.channels")

QUEUE = "channels"
PROCESS_JOB = "app.tasks.channels.process_inbox_entry"
KEPT_HEADERS = ("content-type", "user-agent")  # plus every X-Shopify-* / X-WC-* header
REPROCESSABLE = ("pending", "needs_attention", "failed")
INTAKE_LOCK_SECONDS = 60  # the lock expires by itself should a worker die holding it
INTAKE_LOCK_WAIT = 30


@dataclass(frozen=True)
class Receipt:
    status: int
    body: dict[str, Any]


def _kept_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {k: v[:500] for k, v in headers.items()
            if k.lower() in KEPT_HEADERS or k.lower().startswith(("x-shopify-", "x-wc-"))}


def receive_webhook(code: str, url_topic: str | None, headers: Mapping[str, str], body: bytes) -> Receipt:
    """Check and store one webhook delivery; the mapping runs later as a job. Answers what the
    channel should hear: 401 for a bad or missing signature (nothing stored), 404 when the
    channel does not take webhooks, 200 otherwise (a replay, a body that is not JSON and an
    order we cannot map are all accepted so the channel stops retrying)."""
    channel = db.session.scalar(select(Channel).where(Channel.code == code))
    if channel is None:
        return Receipt(404, {"error": f"There is no channel {code}."})
    try:
        connector = connector_for(channel.adapter or "api", channel.config)
    except ChannelError as exc:
        return Receipt(404, {"error": f"Channel {code} is not connected: {exc.message}"})
    if not connector.receives_webhooks:
        return Receipt(404, {"error": f"Channel {code} is not connected to a shop that sends webhooks."})
    if not connector.verify_webhook(headers, body):
        return Receipt(401, {"error": "The webhook signature is missing or does not match the channel's secret."})
    topic = connector.topic_of(headers, url_topic)[:100] or "unknown"
    delivery = (connector.delivery_id(headers) or "")[:200] or "sha256:" + hashlib.sha256(body).hexdigest()
    text = body.decode("utf-8", "replace")
    try:
        payload = json.loads(text)
        problem = None
    except ValueError:
        payload, problem = None, said(N_("The body is not valid JSON."))
    order_id = (connector.return_order_id(payload) if connector.topic_kind(topic) == "return"
                else connector.order_id_of(payload))
    entry = ChannelInboxEntry(
        channel_id=channel.id, source="push", topic=topic, delivery_id=delivery,
        channel_order_id=order_id, headers=_kept_headers(headers), body=text,
        received_at=utcnow(), outcome="pending", attempts=0)
    if problem:
        entry.outcome, entry.processed_at = "needs_attention", utcnow()
        entry.reason, entry.reason_message = stored(problem)
    elif connector.topic_kind(topic) is None:
        entry.outcome, entry.processed_at = "ignored", utcnow()
        entry.reason, entry.reason_message = stored(said(N_("Packline does not use %(topic)s webhooks."), topic=topic))
    begin_write()
    try:
        db.session.add(entry)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return Receipt(200, {"duplicate": True, "message": "This delivery was received before."})
    except BaseException:
        db.session.rollback()
        raise
    if entry.outcome == "pending":
        enqueue_processing(entry.id)
    return Receipt(200, {"received": entry.id})


def enqueue_processing(entry_id: int) -> None:
    safe_enqueue(QUEUE, PROCESS_JOB, entry_id, job_id=f"channel-inbox-{entry_id}")


def store_pulled(channel: Channel, connector: ChannelConnector, package: dict[str, Any]) -> int | None:
    """Store one pulled package in the inbox (flush only); its delivery id is the package id and
    its last change, so polling it again — on this worker or another — stores nothing new."""
    order_id = connector.order_id_of(package)
    stamp = package.get("lastModifiedDate") or ""
    status = package.get("shipmentPackageStatus") or package.get("status") or ""
    delivery = f"pull:{order_id}:{stamp}:{status}"[:200]
    exists = db.session.scalar(select(ChannelInboxEntry.id).where(
        ChannelInboxEntry.channel_id == channel.id, ChannelInboxEntry.delivery_id == delivery))
    if exists is not None:
        return None
    entry = ChannelInboxEntry(channel_id=channel.id, source="pull", topic="shipment_package", delivery_id=delivery,
                              channel_order_id=order_id, headers={}, body=json.dumps(package), received_at=utcnow(),
                              outcome="pending", attempts=0)
    try:
        with db.session.begin_nested():
            db.session.add(entry)
    except IntegrityError:  # another worker stored it first
        return None
    return entry.id


def store_pulled_return(channel: Channel, connector: ChannelConnector, claim: dict[str, Any]) -> int | None:
    """Store one pulled return (a Trendyol claim) in the inbox (flush only); its delivery id is
    the claim id and its last change, so pulling it again stores nothing new."""
    stamp = claim.get("lastModifiedDate") or claim.get("claimDate") or ""
    delivery = f"claim:{claim.get('id')}:{stamp}"[:200]
    exists = db.session.scalar(select(ChannelInboxEntry.id).where(
        ChannelInboxEntry.channel_id == channel.id, ChannelInboxEntry.delivery_id == delivery))
    if exists is not None:
        return None
    entry = ChannelInboxEntry(channel_id=channel.id, source="pull", topic="claim", delivery_id=delivery,
                              channel_order_id=None, headers={}, body=json.dumps(claim), received_at=utcnow(),
                              outcome="pending", attempts=0)
    try:
        with db.session.begin_nested():
            db.session.add(entry)
    except IntegrityError:
        return None
    return entry.id


# --- processing ------------------------------------------------------------------------------------


def process_entry(entry_id: int) -> str:
    """Turn one inbox entry into an order (or a cancellation / address change) and record the
    outcome. Safe to run twice: orders are idempotent on (channel, number), and an entry that
    already has a final outcome is left alone. The reason is kept in English and as the
    catalogue message it was said as (`services/said.py`), for the screens to say it in their
    reader's language."""
    with listening():
        return _process_entry(entry_id)


def _process_entry(entry_id: int) -> str:
    entry = db.session.get(ChannelInboxEntry, entry_id)
    if entry is None:
        return "missing"
    if entry.outcome not in REPROCESSABLE:
        return entry.outcome
    channel = db.session.get(Channel, entry.channel_id)
    _count_attempt(entry_id)
    try:
        connector = connector_for(channel.adapter or "api", channel.config)
    except ChannelError as exc:
        _finish(entry_id, "needs_attention", str(exc), None)
        return "needs_attention"
    if connector.topic_kind(entry.topic) == "return":
        from app.services.channels.returns import apply_return

        outcome, reason, order_id, return_id = apply_return(channel, connector, entry)
        _finish(entry_id, outcome, reason, order_id, return_id)
        return outcome
    with _one_order_number_at_a_time(channel, connector, entry):
        try:
            outcome, reason, order_id = _apply(channel, connector, entry)
        except (MappingProblem, ChannelError) as exc:
            outcome, reason, order_id = "needs_attention", str(exc), None
        except ServiceError as exc:
            db.session.rollback()
            outcome, reason, order_id = "needs_attention", _in_words(exc), None
        _finish(entry_id, outcome, reason, order_id)
    return outcome


@contextmanager
def _one_order_number_at_a_time(channel: Channel, connector: ChannelConnector,
                                entry: ChannelInboxEntry) -> Iterator[None]:
    """For a channel that sends one customer order as several packages (Trendyol), two packages
    of one order number must not be processed at the same instant: the second would find the
    first's order before `_finish` links it to its package and take it for its own. A Redis lock
    per (channel, order number) — held from the lookup until the entry is linked — lines them up;
    packages of different numbers still run in parallel. Without Redis (or after waiting
    `INTAKE_LOCK_WAIT` seconds) the entry is processed anyway: the lock narrows a rare race, and
    the database's unique (channel, number) still refuses a duplicate order."""
    if not getattr(connector, "orders_split_into_packages", False):
        yield
        return
    try:
        number = connector.parse_order(json.loads(entry.body)).number
    except (ValueError, MappingProblem, ChannelError):
        yield  # _apply reports what is wrong with the payload
        return
    lock = None
    try:
        lock = redis_connection().lock(f"packline:channels:intake:{channel.id}:{number}",
                                       timeout=INTAKE_LOCK_SECONDS, blocking_timeout=INTAKE_LOCK_WAIT)
        if not lock.acquire():
            log.warning("intake: waited %ss for order %s of channel %s; processing it anyway",
                        INTAKE_LOCK_WAIT, number, channel.code)
            lock = None
    except RedisError as exc:
        log.warning("intake: no Redis lock for order %s of channel %s (%s)", number, channel.code, exc)
        lock = None
    # What this worker read so far may be an older snapshot (SQLite keeps a read transaction's
    # view): end it, so the lookup after the lock sees the order the previous holder created.
    db.session.commit()
    try:
        yield
    finally:
        if lock is not None:
            try:
                lock.release()
            except (RedisError, LockError):  # expired meanwhile: nothing to release
                pass


def _count_attempt(entry_id: int) -> None:
    begin_write()
    db.session.execute(update(ChannelInboxEntry).where(ChannelInboxEntry.id == entry_id).values(
        attempts=ChannelInboxEntry.attempts + 1))
    db.session.commit()


def _finish(entry_id: int, outcome: str, reason: Any, order_id: int | None,
            return_id: int | None = None) -> None:
    """Record the outcome; `reason` is a sentence said through the catalogue (`_()`), or a
    message (`said`), or None. Its values come from the channel's payload (an unknown SKU, a
    code): cut as a failure's are (`http_client.capped`), so a huge one cannot make the row and
    the inbox page megabytes long; the English is said from what is kept."""
    english, message = stored(reason)
    if message is not None:
        message = capped(message)
        english = said_english(message)
    begin_write()
    values: dict[str, Any] = {"outcome": outcome, "reason": english and english[:2000],
                              "reason_message": message, "processed_at": utcnow()}
    if order_id is not None:
        values["order_id"] = order_id
    if return_id is not None:
        values["return_id"] = return_id
    # Only an entry still waiting takes the outcome: when two workers processed it at once, the
    # first answer ("imported") stands and the second ("duplicate") changes nothing.
    db.session.execute(update(ChannelInboxEntry).where(ChannelInboxEntry.id == entry_id,
                                                       ChannelInboxEntry.outcome.in_(REPROCESSABLE)).values(**values))
    db.session.commit()


def _in_words(exc: ServiceError) -> Any:
    """A service's refusal as a message: its sentence, then each problem under the field's label
    as the forms name it ("Our value: ..."), not its key."""
    details = exc.details or {}
    if not details:
        return recall(exc.message)
    problems = [recall(_('%(field)s: %(problem)s', field=field_label(field), problem=str(text)))
                for field, text in details.items()]
    return said(N_("%(message)s %(problems)s"), message=recall(exc.message), problems=joined(problems, "; "))


def _apply(channel: Channel, connector: ChannelConnector, entry: ChannelInboxEntry) -> tuple[str, Any, int | None]:
    try:
        payload = json.loads(entry.body)
    except ValueError:
        return "needs_attention", said(N_("The body is not valid JSON.")), None
    kind = connector.topic_kind(entry.topic)
    if kind is None:
        return "ignored", said(N_("Packline does not use %(topic)s payloads."), topic=entry.topic), None
    actor = Actor.system(f"channel:{channel.code}")
    if kind == "cancel":
        existing = _existing_by_channel_id(channel, connector.order_id_of(payload))
        if existing is None:
            return "ignored", said(N_("The channel cancelled an order Packline never received.")), None
        return _cancel(existing, actor)
    corder = connector.parse_order(payload)
    if getattr(connector, "orders_split_into_packages", False):
        corder, existing = _package_order(channel, corder)
    else:
        existing = _by_number(channel, corder.number)
    if existing is not None:
        outcome, reason, order_id = _update_existing(existing, corder, actor)
        if outcome == "duplicate" and _made_by(entry, existing):
            outcome = "imported"  # another worker processing this same entry got there first
        return outcome, reason, order_id
    if corder.cancelled:
        return "ignored", said(N_("The order was cancelled in the channel before Packline received it.")), None
    data = to_order_in(channel, corder)
    order, created = orders.create_order(data, actor)
    return ("imported" if created or _made_by(entry, order) else "duplicate"), None, order.id


def _by_number(channel: Channel, number: str) -> Order | None:
    return db.session.scalar(select(Order).where(Order.channel_id == channel.id, Order.number == number))


def _package_order(channel: Channel, corder: ChannelOrder) -> tuple[ChannelOrder, Order | None]:
    """A channel that sends one customer order as several shipment packages (Trendyol): each
    package is its own order. The package already imported (by its package id) is the one to
    update; otherwise the first package takes the channel's order number, and a later package of
    the same number gets `<number>-<package id>`."""
    known = _existing_by_channel_id(channel, corder.channel_order_id)
    if known is not None:
        return corder, known
    existing = _by_number(channel, corder.number)
    if existing is None or _package_of(existing) in (None, corder.channel_order_id):
        return corder, existing
    corder = replace(corder, number=f"{corder.number}-{corder.channel_order_id}")
    return corder, _by_number(channel, corder.number)


def _package_of(order: Order) -> str | None:
    """The channel order (package) id an order was imported from, if it came from the inbox."""
    return db.session.scalar(select(ChannelInboxEntry.channel_order_id).where(
        ChannelInboxEntry.order_id == order.id, ChannelInboxEntry.channel_order_id.is_not(None)).limit(1))


def _made_by(entry: ChannelInboxEntry, order: Order) -> bool:
    """Whether `order` came from this very entry (processed by two workers at once): it arrived
    after the entry, and no other entry of the channel is linked to it."""
    if order.received_at is None or order.received_at < entry.received_at:
        return False
    return db.session.scalar(select(ChannelInboxEntry.id).where(
        ChannelInboxEntry.order_id == order.id, ChannelInboxEntry.id != entry.id).limit(1)) is None


def _existing_by_channel_id(channel: Channel, channel_order_id: str | None) -> Order | None:
    if not channel_order_id:
        return None
    order_id = db.session.scalar(select(ChannelInboxEntry.order_id).where(
        ChannelInboxEntry.channel_id == channel.id, ChannelInboxEntry.channel_order_id == channel_order_id,
        ChannelInboxEntry.order_id.is_not(None)).limit(1))
    return db.session.get(Order, order_id) if order_id else None


def to_order_in(channel: Channel, corder: ChannelOrder) -> dict[str, Any]:
    """The order in our API's shape (OrderIn), through the channel's mappings. An unknown SKU is
    a MappingProblem naming every one, so the inbox tells the admin exactly what to map."""
    table = lookup(channel.id)
    skus = [table.get("sku", {}).get(line.channel_sku, line.channel_sku) for line in corder.lines]
    known = set(db.session.scalars(select(Product.sku).where(Product.sku.in_(set(skus)))))
    unknown = [line.channel_sku for line, sku in zip(corder.lines, skus, strict=True) if sku not in known]
    if unknown:
        raise MappingProblem(_("Unknown SKU %(skus)s: add the product, or map the channel's SKU to ours under "
                               "Mappings, then re-process.", skus=", ".join(sorted(set(unknown)))))
    address = dict(corder.address) if corder.address else None
    if not address or not address.get("city"):
        raise MappingProblem(_("The order has no shipping address with a city."))
    delivery = table.get("delivery", {}).get(corder.delivery or "", "cargo")
    cargo = table.get("cargo", {}).get(corder.cargo or "") or channel_default_cargo(channel)
    data: dict[str, Any] = {
        "number": corder.number[:100], "channel": channel.code, "placed_at": corder.placed_at.isoformat(),
        "status": table.get("status", {}).get(corder.status or "", corder.status),
        "delivery_type": delivery if delivery in ("cargo", "click_and_collect") else "cargo",
        "payment_type": table.get("payment", {}).get(corder.payment or "", corder.payment),
        "cargo_company": cargo,
        "customer": {k: (str(v)[:200] if v else None) for k, v in corder.customer.items()},
        "shipping_address": {k: v for k, v in address.items() if v not in (None, "")},
        "items": [{"sku": sku, "quantity": line.quantity,
                   **({"price": str(line.price)} if line.price is not None else {})}
                  for line, sku in zip(corder.lines, skus, strict=True)],
    }
    if data["delivery_type"] == "click_and_collect":
        data["pickup_location"] = table.get("location", {}).get(corder.delivery or "")
    for key in ("status", "payment_type"):
        if data[key] is not None:
            data[key] = str(data[key])[:64]
    return data


def channel_default_cargo(channel: Channel) -> str | None:
    return (channel.config or {}).get("default_cargo_company") or None


def _cancel(order: Order, actor: Actor) -> tuple[str, Any, int | None]:
    if order.status == "cancelled":
        return "duplicate", said(N_("The order was already cancelled.")), order.id
    try:
        orders.cancel_order(order.id, {"reason": "Cancelled in the channel"}, actor)
    except Conflict as exc:
        return "needs_attention", said(N_("The channel cancelled the order but Packline could not: %(problem)s"),
                                       problem=recall(exc.message)), order.id
    return "updated", said(N_("Cancelled in the channel.")), order.id


def _update_existing(order: Order, corder: ChannelOrder, actor: Actor) -> tuple[str, Any, int | None]:
    if corder.cancelled:
        return _cancel(order, actor)
    if _address_changed(order, corder.address):
        packed = db.session.scalar(select(Package.id).where(Package.order_id == order.id,
                                                            Package.state.in_(PACKED_STATES)).limit(1))
        if packed is not None:
            return ("needs_attention", said(N_("The channel changed the shipping address after a package was "
                                               "packed; change the shipment by hand.")), order.id)
        _change_address(order.id, corder.address or {}, actor)
        return "updated", said(N_("Shipping address changed.")), order.id
    orders.create_order(_status_only(order, corder), actor)
    return "duplicate", None, order.id


def _status_only(order: Order, corder: ChannelOrder) -> dict[str, Any]:
    # create_order on an existing (channel, number) only updates the source status (and plans an
    # on-hold order the new status releases); the rest of the body is validated, so it is whole.
    table = lookup(order.channel_id)
    return {"number": order.number, "channel": order.channel.code, "placed_at": corder.placed_at.isoformat(),
            "status": table.get("status", {}).get(corder.status or "", corder.status),
            "delivery_type": order.delivery_type,
            "pickup_location": order.pickup_location.code if order.pickup_location else None,
            "shipping_address": {"city": order.ship_city or "-"},
            "items": [{"sku": item.product.sku, "quantity": item.quantity} for item in order.items]}


ADDRESS_FIELDS = {"line": "ship_line", "city": "ship_city", "district": "ship_district", "postcode": "ship_postcode",
                  "country": "ship_country"}


def _address_changed(order: Order, address: Mapping[str, Any] | None) -> bool:
    if not address:
        return False
    return any((address.get(key) or None) != (getattr(order, column) or None) for key, column in ADDRESS_FIELDS.items())


def _change_address(order_id: int, address: Mapping[str, Any], actor: Actor) -> None:
    begin_write()
    try:
        order = db.session.scalar(select(Order).where(Order.id == order_id).with_for_update())
        old = {key: getattr(order, column) for key, column in ADDRESS_FIELDS.items()}
        for key, column in ADDRESS_FIELDS.items():
            value = address.get(key)
            setattr(order, column, str(value)[:200] if value not in (None, "") else None)
        if address.get("latitude") is not None and address.get("longitude") is not None:
            order.ship_latitude, order.ship_longitude = address["latitude"], address["longitude"]
        events.log_transition("order", order.id, order.status, order.status, "update_address",
                              {"from": old, "to": {k: address.get(k) for k in ADDRESS_FIELDS}}, actor.label)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


# --- admin ---------------------------------------------------------------------------------------------


def reprocess(entry_id: int, actor: Actor) -> str:
    """Run one `needs_attention` (or `pending`) entry again, now, and return its outcome."""
    from app.services.records import require_admin

    require_admin(actor)
    entry = db.session.get(ChannelInboxEntry, entry_id)
    if entry is None:
        from app.services.errors import NotFound

        raise NotFound(_('There is no such inbox entry.'))
    if entry.outcome not in REPROCESSABLE:
        raise ValidationFailed(_('Only entries waiting for attention can be processed again.'),
                               {"outcome": _('This entry is %(outcome)s.', outcome=lower(state_label(entry.outcome)))})
    return process_entry(entry_id)


def reprocess_all(channel_id: int | None, actor: Actor) -> dict[str, int]:
    """Process every `needs_attention` entry (of one channel, or all) again; counts by outcome."""
    from app.services.records import require_admin

    require_admin(actor)
    statement = select(ChannelInboxEntry.id).where(ChannelInboxEntry.outcome == "needs_attention")
    if channel_id is not None:
        statement = statement.where(ChannelInboxEntry.channel_id == channel_id)
    counts: dict[str, int] = {}
    for entry_id in list(db.session.scalars(statement.order_by(ChannelInboxEntry.id).limit(5000))):
        outcome = process_entry(entry_id)
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def stale_pending(older_than_seconds: int = 60) -> list[int]:
    """Entries still pending after a while (their job was lost, Redis was down)."""
    from datetime import timedelta

    cutoff = utcnow() - timedelta(seconds=older_than_seconds)
    return list(db.session.scalars(select(ChannelInboxEntry.id).where(
        ChannelInboxEntry.outcome == "pending", ChannelInboxEntry.received_at < cutoff).limit(1000)))
