"""The stock ledger explorer: every change of on-hand or reserved units, filtered by location, SKU,
reason, actor, reference and date, newest first a keyset page at a time; and the stock of one
(location, SKU) at any past moment, read from the ledger row that was last before it.

Ledger ids grow with time (rows are only appended), so "newest first" is "highest id first" and a
page is "the rows below this id". A supervisor limited to some locations sees only theirs.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, func, select

from app.extensions import db
from app.models import Product, StockLedger, StockLocation
from app.models.base import iso
from app.services import listing, local_times
from app.services.actors import Actor

HEADER = ("id", "at", "location", "sku", "on_hand_delta", "reserved_delta", "on_hand_after", "reserved_after",
          "reason", "actor", "reference", "note")
CURSOR_KINDS = (int,)


@dataclass(frozen=True)
class LedgerFilters:
    location: str = ""
    sku: str = ""
    reason: str = ""
    actor: str = ""
    reference: str = ""
    date_from: date | None = None
    date_to: date | None = None

    def as_args(self) -> dict[str, str]:
        out = {"location": self.location, "sku": self.sku, "reason": self.reason, "actor": self.actor,
               "reference": self.reference, "from": self.date_from.isoformat() if self.date_from else "",
               "to": self.date_to.isoformat() if self.date_to else ""}
        return {k: v for k, v in out.items() if v}


def visible_locations(actor: Actor) -> list[StockLocation]:
    query = select(StockLocation).order_by(StockLocation.code)
    if actor.location_ids is not None:
        query = query.where(StockLocation.id.in_(actor.location_ids or {-1}))
    return list(db.session.scalars(query))


def _location(code: str, actor: Actor, problems: listing.Problems, name: str = "location") -> StockLocation | None:
    loc = db.session.scalar(select(StockLocation).where(StockLocation.code == code))
    if loc is None or not actor.can_see(loc.id):
        problems.add(name, _("No location %(code)s among yours.", code=code[:64]))
        return None
    return loc


def read_filters(args: Mapping[str, str], actor: Actor, problems: listing.Problems) -> LedgerFilters:
    location = listing.text(args, "location", problems, 64)
    if location and _location(location, actor, problems) is None:
        location = ""
    first, last = listing.date_range(args, problems)
    return LedgerFilters(location=location, sku=listing.text(args, "sku", problems, 100),
                         reason=listing.text(args, "reason", problems, 64),
                         actor=listing.text(args, "actor", problems), reference=listing.text(args, "reference", problems),
                         date_from=first, date_to=last)


def ledger_query(actor: Actor, f: LedgerFilters) -> Select:
    query = select(StockLedger, StockLocation.code, Product.sku).join(
        StockLocation, StockLocation.id == StockLedger.location_id).join(Product, Product.id == StockLedger.product_id)
    if actor.location_ids is not None:
        query = query.where(StockLedger.location_id.in_(actor.location_ids or {-1}))
    if f.location:
        query = query.where(StockLocation.code == f.location)
    if f.sku:
        query = query.where(Product.sku == f.sku)
    if f.reason:
        query = query.where(StockLedger.reason == f.reason)
    if f.actor:
        query = query.where(StockLedger.actor == f.actor)
    if f.reference:
        query = query.where(StockLedger.reference == f.reference)
    start, end = listing.utc_bounds(f.date_from, f.date_to)
    if start is not None:
        query = query.where(StockLedger.created_at >= start)
    if end is not None:
        query = query.where(StockLedger.created_at < end)
    return query


@dataclass
class LedgerRow:
    entry: StockLedger
    location: str
    sku: str


def page(actor: Actor, f: LedgerFilters, cursor: list[Any] | None, size: int) -> listing.KeysetPage:
    query = ledger_query(actor, f).order_by(StockLedger.id.desc())
    if cursor is not None:
        query = query.where(StockLedger.id < cursor[0])
    rows = [LedgerRow(*row) for row in db.session.execute(query.limit(size + 1))]
    more = len(rows) > size
    rows = rows[:size]
    return listing.KeysetPage(rows, listing.encode_cursor([rows[-1].entry.id]) if more else None, size)


def count(actor: Actor, f: LedgerFilters) -> int:
    return db.session.scalar(select(func.count()).select_from(ledger_query(actor, f).subquery())) or 0


def csv_row(row: LedgerRow) -> list[Any]:
    e = row.entry
    return [e.id, e.created_at, row.location, row.sku, e.on_hand_delta, e.reserved_delta, e.on_hand_after,
            e.reserved_after, e.reason, e.actor, e.reference, e.note]


def export_rows(actor: Actor, f: LedgerFilters, batch: int = 1000) -> Iterator[list[Any]]:
    cursor = None
    while True:
        chunk = page(actor, f, cursor, batch)
        rows = [csv_row(row) for row in chunk.items]
        db.session.expunge_all()
        yield from rows
        if chunk.next_cursor is None:
            return
        cursor = [rows[-1][0]]


def row_dict(row: LedgerRow) -> dict[str, Any]:
    """One ledger row as the API shows it."""
    e = row.entry
    return {"id": e.id, "at": iso(e.created_at), "location": row.location, "sku": row.sku,
            "on_hand_delta": e.on_hand_delta, "reserved_delta": e.reserved_delta, "on_hand_after": e.on_hand_after,
            "reserved_after": e.reserved_after, "reason": e.reason, "actor": e.actor, "reference": e.reference,
            "note": e.note}


# ------------------------------------------------------------------------------ stock in the past

@dataclass
class StockAt:
    location: StockLocation
    product: Product
    at: datetime
    on_hand: int
    reserved: int
    entry: StockLedger | None  # the last change at or before `at`; None: no change before then

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


def read_moment(args: Mapping[str, str], problems: listing.Problems, zone: tzinfo | None = None, *,
                local: bool = False) -> datetime | None:
    """`at` as an ISO date-time, or a date (its end), returned in UTC. A moment with an offset
    (a trailing Z, +03:00) is that moment; one without is read in `zone` (the screen asks in the
    location's own time), else as UTC (the API)."""
    raw = (args.get("at") or "").strip()
    if not (local or zone):
        example = _("Enter the moment as YYYY-MM-DDTHH:MM (UTC), for example 2026-11-30T18:00.")
    else:
        example = _("Enter the moment as YYYY-MM-DDTHH:MM in the location's time, for example 2026-11-30T18:00.")
    if not raw:
        problems.add("at", example)
        return None
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00")) if len(raw) <= 40 else None
    except ValueError:
        moment = None
    if moment is None:
        problems.add("at", example)
        return None
    if len(raw) == 10:  # a bare date: the end of that day
        moment = moment.replace(hour=23, minute=59, second=59)
    if not listing.EARLIEST <= moment.date() <= listing.LATEST:
        problems.add("at", _("Choose a moment between 2000 and 2100."))
        return None
    if moment.tzinfo is None and zone is not None:
        moment = moment.replace(tzinfo=zone)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment


def stock_at(actor: Actor, args: Mapping[str, str], problems: listing.Problems, *,
             local: bool = False) -> StockAt | None:
    """On-hand and reserved units of (`location`, `sku`) at the moment `at`, or None with problems.
    `local`: a moment without an offset is in the location's own time zone (the screen); else UTC."""
    code = listing.text(args, "location", problems, 64)
    sku = listing.text(args, "sku", problems, 100)
    if not code:
        problems.add("location", _("Choose a location."))
    if not sku:
        problems.add("sku", _("Enter a SKU."))
    loc = _location(code, actor, problems) if code else None
    moment = read_moment(args, problems, local_times.zone(loc) if local and loc is not None else None, local=local)
    product = db.session.scalar(select(Product).where(Product.sku == sku)) if sku else None
    if sku and product is None:
        problems.add("sku", _("There is no product with SKU %(sku)s.", sku=sku[:100]))
    if problems or loc is None or product is None or moment is None:
        return None
    entry = db.session.scalar(
        select(StockLedger).where(StockLedger.location_id == loc.id, StockLedger.product_id == product.id,
                                  StockLedger.created_at <= moment).order_by(StockLedger.id.desc()).limit(1))
    return StockAt(loc, product, moment, entry.on_hand_after if entry else 0, entry.reserved_after if entry else 0,
                   entry)
