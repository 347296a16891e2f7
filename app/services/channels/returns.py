"""Customer returns from the channel inbox (SPEC §13, §14): a channel's return or refund
notification (a Shopify `refunds/create` webhook, WooCommerce's refunded-order action webhook —
whose refunds are read from the order's refund list —, a pulled Trendyol claim) becomes a Packline
return through `services.returns.create_return` — the same service as `POST /api/v1/returns`
and the store counter — for the shipped order it names, with its items and reason.

Idempotent on the channel's return id (`Return.channel_ref`, unique per order): the same
notification twice, or two of its deliveries, make one return. What cannot become a return (an
order Packline never received, items never shipped or already returned) marks the inbox entry
`failed` with the reason, and nothing changes.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import Channel, ChannelInboxEntry, Order, Package, PackageItem, Product, StockLocation
from app.models.returns import Return
from app.services import returns
from app.services.actors import Actor
from app.services.channels.base import ChannelConnector, ChannelError, ChannelReturn, MappingProblem
from app.services.channels.mappings import lookup
from app.services.errors import Conflict, ServiceError
from app.services.said import N_, joined, recall, said
from app.services.transitions import SHIPPED_OR_LATER

# outcome, reason (a message: services/said.py, or a sentence said through `_()`), order id, return id
Outcome = tuple[str, Any, int | None, int | None]


def apply_return(channel: Channel, connector: ChannelConnector, entry: ChannelInboxEntry) -> Outcome:
    """Turn one return/refund entry into returns; never raises for what the payload says. An
    entry that stands for several channel returns (WooCommerce: every refund of the order) makes
    each one not made yet."""
    try:
        payload = json.loads(entry.body)
    except ValueError:
        return "failed", said(N_("The body is not valid JSON.")), None, None
    try:
        payloads = connector.return_payloads(payload)
    except MappingProblem as exc:
        return "failed", str(exc), None, None
    except ChannelError as exc:  # the channel did not answer: process it again later
        return "needs_attention", str(exc), None, None
    results = [_one_return(channel, connector, one) for one in payloads]
    if not results:
        return "ignored", said(N_("The channel lists no refunds for this order.")), None, None
    if len(results) == 1:
        return results[0]
    for wanted in ("returned", "failed", "duplicate", "ignored"):
        picked = [r for r in results if r[0] == wanted]
        if picked:
            said_ = [recall(r[1]) for r in results if r[1]]
            reasons = list({json.dumps(r, sort_keys=True, default=str): r for r in said_}.values())
            return wanted, joined(reasons, "; "), picked[0][2], picked[0][3]
    return results[0]


def _one_return(channel: Channel, connector: ChannelConnector, payload: object) -> Outcome:
    try:
        creturn = connector.parse_return(payload)
    except MappingProblem as exc:
        return "failed", str(exc), None, None
    if not creturn.lines:
        return ("ignored", said(N_("The channel's refund or claim brings no items back (a refund of money only, or "
                                   "every claimed item was cancelled or rejected): nothing to receive.")), None, None)
    candidates = _orders_of(channel, creturn)
    if not candidates:
        named = creturn.order_number or creturn.channel_order_id
        return ("failed", said(N_("Packline has no order %(number)s from channel %(channel)s: it cannot take back "
                                  "what it never shipped."), number=named, channel=channel.code), None, None)
    done = _already_made(candidates, creturn.channel_return_id)
    if done is not None:
        return ("duplicate", said(N_("Return %(number)s was already made from this channel return."), number=done.number),
                done.order_id, done.id)
    wanted = _our_lines(channel, creturn)
    order = _best_order(candidates, wanted)
    location = _shipping_location(order, list(wanted))
    if location is None:
        return ("failed", said(N_("Nothing of %(skus)s was shipped on order %(number)s: only shipped items can come "
                                  "back."), skus=sorted(wanted), number=order.number), order.id, None)
    data = {"order": order.id, "location": location,
            "items": [{"sku": sku, "quantity": qty, **({"reason": reason[:500]} if reason else {})}
                      for sku, (qty, reason) in wanted.items()],
            **({"reason": creturn.reason[:500]} if creturn.reason else {})}
    actor = Actor.system(f"channel:{channel.code}")
    order_id = order.id
    try:
        ret = returns.create_return(data, actor, source="channel", channel_ref=creturn.channel_return_id)
    except Conflict as exc:
        db.session.rollback()
        if exc.code == "duplicate_channel_return":
            done = _already_made(_orders_of(channel, creturn), creturn.channel_return_id)
            return "duplicate", _in_words(exc), order_id, done.id if done else None
        return "failed", _in_words(exc), order_id, None
    except IntegrityError:  # another worker made it between the check and the insert
        db.session.rollback()
        done = _already_made(_orders_of(channel, creturn), creturn.channel_return_id)
        return ("duplicate", said(N_("The return was already made from this channel return.")), order_id,
                done.id if done else None)
    except ServiceError as exc:
        db.session.rollback()
        return "failed", _in_words(exc), order_id, None
    return "returned", said(N_("Return %(number)s created."), number=ret.number), order_id, ret.id


def _in_words(exc: ServiceError) -> Any:
    from app.services.channels.intake import _in_words as words

    return words(exc)


def _orders_of(channel: Channel, creturn: ChannelReturn) -> list[Order]:
    """The orders the return may belong to: the one imported from the channel's order id, or by
    number — for a channel that splits an order into packages (Trendyol), every package's order."""
    if creturn.channel_order_id:
        order_id = db.session.scalar(select(ChannelInboxEntry.order_id).where(
            ChannelInboxEntry.channel_id == channel.id, ChannelInboxEntry.channel_order_id == creturn.channel_order_id,
            ChannelInboxEntry.order_id.is_not(None), ChannelInboxEntry.return_id.is_(None)).limit(1))
        order = db.session.get(Order, order_id) if order_id else None
        return [order] if order is not None else []
    if not creturn.order_number:
        return []
    number = creturn.order_number[:90]
    return list(db.session.scalars(select(Order).where(
        Order.channel_id == channel.id,
        or_(Order.number == number, Order.number.like(number.replace("%", r"\%").replace("_", r"\_") + "-%",
                                                      escape="\\"))).order_by(Order.id)))


def _already_made(orders: list[Order], channel_ref: str) -> Return | None:
    if not orders:
        return None
    return db.session.scalar(select(Return).where(Return.order_id.in_([o.id for o in orders]),
                                                  Return.channel_ref == channel_ref).limit(1))


def _our_lines(channel: Channel, creturn: ChannelReturn) -> dict[str, tuple[int, str | None]]:
    """Our SKU -> (units, reason), through the channel's SKU mappings."""
    table = lookup(channel.id).get("sku", {})
    lines: dict[str, tuple[int, str | None]] = {}
    for line in creturn.lines:
        sku = table.get(line.channel_sku, line.channel_sku)
        quantity, reason = lines.get(sku, (0, None))
        lines[sku] = (quantity + line.quantity, reason or line.reason)
    return lines


def _best_order(orders: list[Order], wanted: dict[str, tuple[int, str | None]]) -> Order:
    """The first order (package of the channel's order) that can take every line back."""
    products = dict(db.session.execute(select(Product.sku, Product.id).where(Product.sku.in_(list(wanted)))).all())
    for order in orders:
        left = returns.returnable_units(order.id)
        if all(left.get(products.get(sku, -1), 0) >= qty for sku, (qty, _reason) in wanted.items()):
            return order
    return orders[0]


def _shipping_location(order: Order, skus: list[str]) -> str | None:
    """The location that shipped these SKUs of the order: the parcel comes back there."""
    return db.session.scalar(
        select(StockLocation.code).join(Package, Package.location_id == StockLocation.id)
        .join(PackageItem, PackageItem.package_id == Package.id).join(Product, Product.id == PackageItem.product_id)
        .where(Package.order_id == order.id, Package.state.in_(SHIPPED_OR_LATER), Product.sku.in_(skus))
        .order_by(Package.id).limit(1))
