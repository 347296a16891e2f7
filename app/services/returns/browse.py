"""What supervisors read of customer returns (SPEC §14, docs/inbound.md): the list with its
filters, and one return with its state log and the stock ledger rows it wrote.

Scoped like every supervisor screen: a supervisor with locations sees only the returns to those
locations (another location's return is a 404, never a hint that it exists); an admin sees all.
Filters are read leniently by the view (`services/listing.py`); here they are already valid.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import joinedload, selectinload

from app.extensions import db
from app.models import Order, Product, StockLedger, TransitionLog
from app.models.returns import Return, ReturnItem
from app.services import text_search
from app.services.actors import Actor
from app.services.errors import NotFound


@dataclass(frozen=True)
class ReturnFilters:
    state: str = ""
    location_id: int | None = None
    source: str = ""
    channel_id: int | None = None
    start: datetime | None = None  # naive UTC, inclusive (created_at)
    end: datetime | None = None  # naive UTC, exclusive
    text: str = ""  # return number, order number or customer name, Turkish-aware


def returns_query(actor: Actor, filters: ReturnFilters) -> Select:
    """The returns the actor may see that match `filters`, newest first (ids break ties), with
    what the list shows loaded in the same few statements (order, location, items)."""
    stmt = (select(Return).join(Order, Order.id == Return.order_id)
            .options(joinedload(Return.order).joinedload(Order.channel), joinedload(Return.location),
                     selectinload(Return.items))
            .order_by(Return.created_at.desc(), Return.id.desc()))
    if actor.location_ids is not None:
        stmt = stmt.where(Return.location_id.in_(actor.location_ids or {-1}))
    if filters.state:
        stmt = stmt.where(Return.state == filters.state)
    if filters.location_id is not None:
        stmt = stmt.where(Return.location_id == filters.location_id)
    if filters.source:
        stmt = stmt.where(Return.source == filters.source)
    if filters.channel_id is not None:
        stmt = stmt.where(Order.channel_id == filters.channel_id)
    if filters.start is not None:
        stmt = stmt.where(Return.created_at >= filters.start)
    if filters.end is not None:
        stmt = stmt.where(Return.created_at < filters.end)
    if filters.text:
        stmt = stmt.where(or_(text_search.contains(Return.number, filters.text),
                              text_search.contains(Order.number, filters.text),
                              text_search.contains(Order.customer_name, filters.text)))
    return stmt


def visible_return(actor: Actor, return_id: int) -> Return:
    """One return with its items, order and location; NotFound when missing or another
    location's (the same answer, so nothing leaks)."""
    ret = db.session.scalar(select(Return).where(Return.id == return_id).options(
        selectinload(Return.items).selectinload(ReturnItem.product), joinedload(Return.order),
        joinedload(Return.location), joinedload(Return.package)))
    if ret is None or not actor.can_see(ret.location_id):
        raise NotFound(_("There is no return %(id)s.", id=return_id))
    return ret


def state_log(ret: Return) -> list[TransitionLog]:
    return list(db.session.scalars(select(TransitionLog).where(
        TransitionLog.entity_type == "return", TransitionLog.entity_id == ret.id).order_by(TransitionLog.id)))


def ledger_rows(ret: Return) -> list[tuple[StockLedger, str]]:
    """The stock ledger rows the return wrote at its location (`return_restock`, `write_off`),
    found by their reference — the return's number — each with its SKU."""
    return [(row, sku) for row, sku in db.session.execute(
        select(StockLedger, Product.sku).join(Product, Product.id == StockLedger.product_id)
        .where(StockLedger.reference == ret.number, StockLedger.location_id == ret.location_id)
        .order_by(StockLedger.id))]
