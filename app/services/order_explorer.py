"""The order explorer: every order a supervisor may see, filtered, a keyset page at a time, and
the bulk actions run on a selection of them (re-plan, block, cancel) through the same command
services as the order and package pages.

Filters (all optional, combined with AND): channel, status, location (an order with a work order
there), placed date range (the brand's calendar days), delivery type, out of stock (the order or
one of its packages), overdue (an open package older than its location's target packaging time),
and a text search over the order number, the customer's name, a package number and the barcodes
of the ordered products. A supervisor limited to some locations sees the orders with a package at
one of them, as on the order page. Newest placed first; the export reads the very same query.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, and_, exists, false, func, or_, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import Channel, Order, OrderItem, Package, ProductBarcode, StockLocation
from app.models.base import utcnow
from app.models.orders import DELIVERY_TYPES, ORDER_STATUSES
from app.models.packages import OPEN_PACKAGE_STATES
from app.services import listing, planning, text_search
from app.services import orders as orders_service
from app.services.actors import Actor
from app.services.errors import Conflict, NotFound, ServiceError
from app.services.packages import run_package_command
from app.services.transitions import allowed_package_commands

BULK_ACTIONS = ("replan", "block", "cancel")
MAX_BULK = 200
FINISHED = ("cancelled", "shipped", "delivered")


@dataclass(frozen=True)
class OrderFilters:
    channel: str = ""
    status: str = ""
    location: str = ""
    date_from: date | None = None
    date_to: date | None = None
    delivery_type: str = ""
    out_of_stock: bool = False
    overdue: bool = False
    q: str = ""

    def as_args(self) -> dict[str, str]:
        """The filters as URL parameters (for links, the export and a background export run)."""
        out = {"channel": self.channel, "status": self.status, "location": self.location,
               "from": self.date_from.isoformat() if self.date_from else "",
               "to": self.date_to.isoformat() if self.date_to else "", "delivery_type": self.delivery_type,
               "out_of_stock": "1" if self.out_of_stock else "", "overdue": "1" if self.overdue else "",
               "q": self.q}
        return {k: v for k, v in out.items() if v}

    @property
    def any(self) -> bool:
        return any(asdict(self).values())


def read_filters(args: Mapping[str, str], actor: Actor, problems: listing.Problems) -> OrderFilters:
    """The explorer's filters from URL parameters; every problem named in `problems`."""
    channels = list(db.session.scalars(select(Channel.code).order_by(Channel.code)))
    first, last = listing.date_range(args, problems)
    location = listing.text(args, "location", problems, 64)
    if location and location not in {loc.code for loc in visible_locations(actor)}:
        problems.add("location", _("No location %(code)s among yours.", code=location[:64]))
        location = ""
    return OrderFilters(
        channel=listing.choice(args, "channel", channels, problems),
        status=listing.choice(args, "status", ORDER_STATUSES, problems),
        location=location, date_from=first, date_to=last,
        delivery_type=listing.choice(args, "delivery_type", DELIVERY_TYPES, problems),
        out_of_stock=listing.flag(args, "out_of_stock"), overdue=listing.flag(args, "overdue"),
        q=listing.text(args, "q", problems))


def choices(actor: Actor) -> dict[str, Any]:
    """What the filter form offers."""
    return {"channels": list(db.session.scalars(select(Channel.code).order_by(Channel.code))),
            "statuses": ORDER_STATUSES, "delivery_types": DELIVERY_TYPES, "locations": visible_locations(actor),
            "actions": BULK_ACTIONS}


def visible_locations(actor: Actor) -> list[StockLocation]:
    query = select(StockLocation).order_by(StockLocation.code)
    if actor.location_ids is not None:
        query = query.where(StockLocation.id.in_(actor.location_ids or {-1}))
    return list(db.session.scalars(query))


def _has_package(*conditions: Any):
    return exists(select(Package.id).where(Package.order_id == Order.id, *conditions))


def orders_query(actor: Actor, f: OrderFilters) -> Select:
    """Orders matching `f` that `actor` may see (not ordered, not paged)."""
    query = select(Order)
    if actor.location_ids is not None:
        query = query.where(_has_package(Package.location_id.in_(actor.location_ids or {-1})))
    if f.channel:
        query = query.where(Order.channel_id == select(Channel.id).where(Channel.code == f.channel).scalar_subquery())
    if f.status:
        query = query.where(Order.status == f.status)
    if f.delivery_type:
        query = query.where(Order.delivery_type == f.delivery_type)
    if f.location:
        location_id = select(StockLocation.id).where(StockLocation.code == f.location).scalar_subquery()
        query = query.where(_has_package(Package.location_id == location_id))
    start, end = listing.utc_bounds(f.date_from, f.date_to)
    if start is not None:
        query = query.where(Order.placed_at >= start)
    if end is not None:
        query = query.where(Order.placed_at < end)
    if f.out_of_stock:
        query = query.where(or_(Order.status == "out_of_stock", _has_package(Package.state == "out_of_stock")))
    if f.overdue:
        query = query.where(_overdue(actor))
    if f.q:
        # Numbers as typed or in capitals (their index serves the prefix); the customer's name
        # Turkish-aware like every other search ("sahin" and "ŞAHİN" find "Şahin").
        numbers = {f.q, f.q.upper()}
        query = query.where(or_(
            Order.number.in_(numbers),
            *(Order.number.like(text_search.escape_like(n) + "%", escape="\\") for n in sorted(numbers)),
            text_search.contains(Order.customer_name, f.q),
            func.lower(Order.customer_email) == f.q.lower(),
            _has_package(Package.number == f.q),
            exists(select(OrderItem.id).join(ProductBarcode, ProductBarcode.product_id == OrderItem.product_id)
                   .where(OrderItem.order_id == Order.id, ProductBarcode.barcode == f.q)),
        ))
    return query


def _overdue(actor: Actor):
    now = utcnow()
    late = [and_(Package.location_id == loc.id,
                 Package.created_at < now - timedelta(minutes=loc.target_packaging_minutes))
            for loc in visible_locations(actor) if loc.target_packaging_minutes]
    if not late:
        return false()
    return _has_package(Package.state.in_(OPEN_PACKAGE_STATES), or_(*late))


ORDERING = (Order.placed_at.desc(), Order.id.desc())


def _after(cursor: list[Any]):
    placed, order_id = cursor
    return or_(Order.placed_at < placed, and_(Order.placed_at == placed, Order.id < order_id))


def page(actor: Actor, f: OrderFilters, cursor: list[Any] | None, size: int) -> listing.KeysetPage:
    """One page of matching orders, newest placed first, after `cursor` (a decoded `next_cursor`)."""
    query = orders_query(actor, f).options(
        selectinload(Order.channel), selectinload(Order.items),
        selectinload(Order.packages).selectinload(Package.location)).order_by(*ORDERING)
    if cursor is not None:
        query = query.where(_after(cursor))
    rows = list(db.session.scalars(query.limit(size + 1)))
    more = len(rows) > size
    rows = rows[:size]
    return listing.KeysetPage(rows, listing.encode_cursor([rows[-1].placed_at, rows[-1].id]) if more else None, size)


CURSOR_KINDS = (datetime, int)


def count(actor: Actor, f: OrderFilters) -> int:
    return db.session.scalar(select(func.count()).select_from(orders_query(actor, f).subquery())) or 0


# ------------------------------------------------------------------------------------ CSV rows

HEADER = ("number", "channel", "placed_at", "received_at", "status", "delivery_type", "payment_type",
          "customer_name", "ship_city", "units", "cancelled_units", "packages", "locations")


def csv_row(order: Order) -> list[Any]:
    return [order.number, order.channel.code, order.placed_at, order.received_at, order.status, order.delivery_type,
            order.payment_type, order.customer_name, order.ship_city,
            sum(i.quantity for i in order.items), sum(i.cancelled_quantity for i in order.items),
            " ".join(p.number for p in order.packages),
            " ".join(sorted({p.location.code for p in order.packages}))]


def export_rows(actor: Actor, f: OrderFilters, batch: int = 500) -> Iterator[list[Any]]:
    """Every matching order as a CSV row, in the screen's order, read a keyset page at a time
    (no long-open cursor, no whole list in memory)."""
    cursor = None
    while True:
        chunk = page(actor, f, cursor, batch)
        rows = [csv_row(order) for order in chunk.items]
        db.session.expunge_all()  # what was read need not stay in the session
        yield from rows
        if chunk.next_cursor is None:
            return
        cursor = listing.decode_cursor(chunk.next_cursor, CURSOR_KINDS, listing.Problems())


# ------------------------------------------------------------------------------------ bulk actions

@dataclass
class Outcome:
    order_id: int
    number: str
    ok: bool
    message: str


def selection(actor: Actor, raw_ids: list[str]) -> tuple[list[Order], str | None]:
    """The selected orders the actor may see (in the order shown), or a problem to show."""
    ids = []
    for raw in raw_ids:
        if not (raw.isascii() and raw.isdigit() and len(raw) <= 12):
            return [], _("The selection is not valid; select the orders again.")
        ids.append(int(raw))
    ids = list(dict.fromkeys(ids))
    if not ids:
        return [], _("Select at least one order.")
    if len(ids) > MAX_BULK:
        return [], _("Select at most %(max)s orders at a time.", max=MAX_BULK)
    query = select(Order).where(Order.id.in_(ids)).options(selectinload(Order.packages))
    if actor.location_ids is not None:
        query = query.where(_has_package(Package.location_id.in_(actor.location_ids or {-1})))
    found = {o.id: o for o in db.session.scalars(query)}
    return [found[i] for i in ids if i in found], None


def run_bulk(actor: Actor, action: str, orders: list[tuple[int, str]], reason: str) -> list[Outcome]:
    """Run `action` on each order (id, number) in its own transaction; one order's refusal never
    stops the others. Each outcome says what happened to that order, in plain words."""
    outcomes = []
    for order_id, number in orders:
        try:
            message = _ACTIONS[action](actor, order_id, reason)
        except ServiceError as exc:
            outcomes.append(Outcome(order_id, number, False, exc.message))
        else:
            outcomes.append(Outcome(order_id, number, True, message))
    return outcomes


def _replan(actor: Actor, order_id: int, _reason: str) -> str:
    order = db.session.get(Order, order_id)
    if order is None:
        raise NotFound(_("The order is gone."))
    if order.status in FINISHED:
        raise Conflict(_("Nothing to plan: the order is %(status)s.", status=order.status))
    planning.plan_order(order_id, trigger="manual", actor=actor)
    order = db.session.get(Order, order_id)
    return _("Planned; the order is now %(status)s.", status=order.status)


def _block(actor: Actor, order_id: int, reason: str) -> str:
    order = db.session.get(Order, order_id)
    if order is None:
        raise NotFound(_("The order is gone."))
    blockable = [p.id for p in order.packages if actor.can_see(p.location_id)
                 and "block" in allowed_package_commands(p, manager=True)]
    if not blockable:
        raise Conflict(_("No package of this order can be blocked now."))
    for package_id in blockable:
        run_package_command(package_id, "block", {"reason": reason}, actor)
    return _("%(count)s package(s) blocked.", count=len(blockable))


def _cancel(actor: Actor, order_id: int, reason: str) -> str:
    orders_service.cancel_order(order_id, {"reason": reason}, actor)
    return _("Cancelled; its stock is released.")


_ACTIONS = {"replan": _replan, "block": _block, "cancel": _cancel}
