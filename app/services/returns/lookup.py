"""Finding what a customer brings back at a store counter, and what arrives at a location.

A counter return starts from the order: found by its number, a package number or tracking
number (the barcode on the parcel label), or the customer's email, phone or name. Only orders
with shipped or handed-over units are found: nothing else can come back. Orders are found
whichever store packed them (a store return is received at any store); the return itself
belongs to the store that takes it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import Order, Package, Product, Shipment
from app.models.returns import Return, ReturnItem
from app.services import text_search
from app.services.returns.service import returnable_units, shipped_units
from app.services.returns.states import RECEIVABLE_RETURN_STATES
from app.services.transitions import SHIPPED_OR_LATER

MAX_FOUND = 20
MIN_NAME_LETTERS = 3
# A phone number as people type or channels store it: digits with spaces, dashes, dots, slashes,
# brackets and a leading +. A full number is compared by its last PHONE_DIGITS digits (a Turkish
# number without 0 or +90: "0532 123 45 67", "+90 532 123 4567" and "5321234567" are one number);
# a shorter one only with a stored number of exactly those digits (never the end of another
# customer's number: "123 45 67" is not "0544 123 45 67").
PHONE_TYPED = re.compile(r"^\+?[\d\s\-./()]+$")
PHONE_SEPARATORS = (" ", "-", ".", "/", "(", ")", "+")
PHONE_DIGITS = 10
MIN_PHONE_DIGITS = 7


def find_shipped_orders(query: str) -> list[Order]:
    """Orders with shipped units matching `query` exactly (order, package or tracking number,
    email), by phone in any format (`_same_phone`) or, for three letters or more, by customer
    name; newest first."""
    query = query.strip()[:200].replace("\x00", "")  # PostgreSQL refuses NUL in a parameter
    if not query:
        return []
    # Order numbers are matched as typed and in capitals ("demo-1008" finds DEMO-1008) so the
    # index on the number still serves; names are searched Turkish-aware ("koc" finds "Koç").
    matches = [Order.number.in_({query, query.upper()}), func.lower(Order.customer_email) == query.lower(),
               Order.customer_phone == query, *_same_phone(query),
               Order.id.in_(select(Package.order_id).where(Package.number == query)),
               Order.id.in_(select(Package.order_id).join(Shipment, Shipment.package_id == Package.id)
                            .where(Shipment.tracking_number == query))]
    if len(query) >= MIN_NAME_LETTERS:
        matches.append(text_search.contains(Order.customer_name, query))
    shipped = select(Package.order_id).where(Package.state.in_(SHIPPED_OR_LATER))
    return list(db.session.scalars(
        select(Order).where(or_(*matches), Order.id.in_(shipped))
        .order_by(Order.placed_at.desc(), Order.id.desc()).limit(MAX_FOUND)))


def _same_phone(query: str) -> list:
    """SQL: the stored phone is the typed one whatever the format of either — separators dropped,
    compared by the last PHONE_DIGITS digits (so a leading 0, 90 or +90 does not matter) when the
    query has that many; with fewer, the stored digits must be exactly the typed ones. Nothing
    for a query that is not a phone number or too short to name one."""
    digits = re.sub(r"\D", "", query)
    if not PHONE_TYPED.match(query) or len(digits) < MIN_PHONE_DIGITS:
        return []
    stored = Order.customer_phone
    for separator in PHONE_SEPARATORS:
        stored = func.replace(stored, separator, "")
    if len(digits) < PHONE_DIGITS:
        return [stored == digits]
    return [stored.like(f"%{digits[-PHONE_DIGITS:]}")]


@dataclass(frozen=True)
class ReturnableLine:
    product: Product
    shipped: int
    returnable: int


def returnable_lines(order: Order) -> list[ReturnableLine]:
    """Per shipped product of the order: how many units left, and how many may still come back."""
    shipped = shipped_units(order.id)
    left = returnable_units(order.id)
    products = {p.id: p for p in db.session.scalars(select(Product).where(Product.id.in_(list(shipped) or [-1])))}
    return sorted((ReturnableLine(products[pid], units, left.get(pid, 0)) for pid, units in shipped.items()),
                  key=lambda line: line.product.sku)


def returns_arriving(location_id: int) -> list[Return]:
    """Returns this location still has to receive or inspect, oldest first."""
    return list(db.session.scalars(
        select(Return).where(Return.location_id == location_id, Return.state.in_(RECEIVABLE_RETURN_STATES))
        .options(selectinload(Return.items).selectinload(ReturnItem.product), selectinload(Return.order))
        .order_by(Return.created_at, Return.id)))


def return_at(location_id: int, return_id: int) -> Return | None:
    """The return if it belongs to this location (anything else is another store's: 404)."""
    ret = db.session.get(Return, return_id)
    return ret if ret is not None and ret.location_id == location_id else None
