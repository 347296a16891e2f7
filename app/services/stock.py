"""Stock effects: reserve, release, consume, adjust, move — each writes the ledger.

These helpers only flush; the public service function that calls them commits once.
Reservations use a conditional UPDATE (`... WHERE on_hand - reserved >= :qty`) so two
concurrent reservers can never both take the last unit, and callers take them in a fixed
(location_id, product_id) order so concurrent transactions cannot deadlock.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import and_, delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.extensions import db
from app.models.base import utcnow
from app.models.stock import Reservation, Stock, StockLedger
from app.services import deferred_rows


class InsufficientStock(Exception):
    """Raised when a conditional reservation finds fewer available units than asked for."""

    def __init__(self, location_id: int, product_id: int, quantity: int):
        super().__init__(f"not enough available stock of product {product_id} at location {location_id}")
        self.location_id = location_id
        self.product_id = product_id
        self.quantity = quantity


@dataclass(frozen=True)
class Need:
    """A reservation to take: `quantity` units at a location for one owner."""

    location_id: int
    product_id: int
    quantity: int
    package_item_id: int | None = None
    transfer_item_id: int | None = None


def _ledger(stock_row_values: tuple[int, int], location_id: int, product_id: int, on_hand_delta: int,
            reserved_delta: int, reason: str, actor: str, reference: str | None, note: str | None = None) -> None:
    on_hand_after, reserved_after = stock_row_values
    row = {"location_id": location_id, "product_id": product_id, "on_hand_delta": on_hand_delta,
           "reserved_delta": reserved_delta, "on_hand_after": on_hand_after, "reserved_after": reserved_after,
           "reason": reason, "actor": actor, "reference": reference, "note": note}
    if not deferred_rows.defer(StockLedger.__table__, row):
        db.session.add(StockLedger(**row))


def _apply(location_id: int, product_id: int, on_hand_delta: int, reserved_delta: int,
           condition=None) -> tuple[int, int] | None:
    """Atomically change one stock row; returns (on_hand, reserved) after, or None if no row matched."""
    where = and_(Stock.location_id == location_id, Stock.product_id == product_id)
    if condition is not None:
        where = and_(where, condition)
    row = db.session.execute(
        update(Stock).where(where)
        .values(on_hand=Stock.on_hand + on_hand_delta, reserved=Stock.reserved + reserved_delta)
        .returning(Stock.on_hand, Stock.reserved)
        .execution_options(synchronize_session=False)
    ).first()
    return (row[0], row[1]) if row else None


def reserve(needs: Iterable[Need], actor: str, reference: str | None) -> list[Reservation]:
    """Reserve every need or raise InsufficientStock (the caller rolls back the whole transaction)."""
    ordered = sorted(needs, key=lambda n: (n.location_id, n.product_id))
    made = []
    for need in ordered:
        if need.quantity <= 0:
            continue
        after = _apply(need.location_id, need.product_id, 0, need.quantity,
                       condition=(Stock.on_hand - Stock.reserved) >= need.quantity)
        if after is None:
            raise InsufficientStock(need.location_id, need.product_id, need.quantity)
        _ledger(after, need.location_id, need.product_id, 0, need.quantity, "reserve", actor, reference)
        reservation = Reservation(location_id=need.location_id, product_id=need.product_id,
                                  quantity=need.quantity, package_item_id=need.package_item_id,
                                  transfer_item_id=need.transfer_item_id)
        db.session.add(reservation)
        made.append(reservation)
    db.session.flush()
    return made


def _reservations_for(package_item_ids: Iterable[int] = (), transfer_item_ids: Iterable[int] = ()) -> list[Reservation]:
    p_ids, t_ids = list(package_item_ids), list(transfer_item_ids)
    conditions = []
    if p_ids:
        conditions.append(Reservation.package_item_id.in_(p_ids))
    if t_ids:
        conditions.append(Reservation.transfer_item_id.in_(t_ids))
    if not conditions:
        return []
    from sqlalchemy import or_

    rows = db.session.scalars(select(Reservation).where(or_(*conditions))).all()
    return sorted(rows, key=lambda r: (r.location_id, r.product_id, r.id))


def release(actor: str, reference: str | None, *, package_item_ids: Iterable[int] = (),
            transfer_item_ids: Iterable[int] = (), quantity_by_package_item: dict[int, int] | None = None,
            reason: str = "release") -> int:
    """Give reserved units back to `available`. With `quantity_by_package_item`, only that many
    units of each package item are released. Returns the number of units released."""
    released = 0
    for res in _reservations_for(package_item_ids, transfer_item_ids):
        qty = res.quantity
        if quantity_by_package_item is not None and res.package_item_id is not None:
            qty = min(qty, quantity_by_package_item.get(res.package_item_id, 0))
            quantity_by_package_item[res.package_item_id] = quantity_by_package_item.get(res.package_item_id, 0) - qty
        if qty <= 0:
            continue
        after = _apply(res.location_id, res.product_id, 0, -qty)
        _ledger(after, res.location_id, res.product_id, 0, -qty, reason, actor, reference)
        _shrink(res, qty)
        released += qty
    db.session.flush()
    return released


def consume(actor: str, reference: str | None, *, package_item_ids: Iterable[int] = (),
            transfer_item_ids: Iterable[int] = (), reason: str = "consume") -> int:
    """Reserved units physically leave: on_hand and reserved both drop (packing, dispatch)."""
    # Statements only, no flush: the reservations are read as plain rows and deleted by one
    # DELETE (an object of one already loaded is marked deleted too), the stock rows are
    # changed by statements, and the ledger rows go out with the caller's next flush or commit.
    # So the caller's pending changes (the package's new version) go out once, with its commit.
    with db.session.no_autoflush:
        reservations = _reservation_rows(package_item_ids, transfer_item_ids)
        for _id, location_id, product_id, quantity in reservations:  # in the lock order
            after = _apply(location_id, product_id, -quantity, -quantity)
            _ledger(after, location_id, product_id, -quantity, -quantity, reason, actor, reference)
        if reservations:
            db.session.execute(delete(Reservation).where(Reservation.id.in_([r[0] for r in reservations]))
                               .execution_options(synchronize_session="evaluate"))
    return sum(r[3] for r in reservations)


def _reservation_rows(package_item_ids: Iterable[int], transfer_item_ids: Iterable[int]) -> list[tuple]:
    """(id, location, product, quantity) of the items' reservations, in the stock lock order."""
    p_ids, t_ids = list(package_item_ids), list(transfer_item_ids)
    conditions = ([Reservation.package_item_id.in_(p_ids)] if p_ids else []) + (
        [Reservation.transfer_item_id.in_(t_ids)] if t_ids else [])
    if not conditions:
        return []
    rows = db.session.execute(select(Reservation.id, Reservation.location_id, Reservation.product_id,
                                     Reservation.quantity).where(or_(*conditions))).tuples().all()
    return sorted(rows, key=lambda r: (r[1], r[2], r[0]))


def _shrink(res: Reservation, qty: int) -> None:
    if qty >= res.quantity:
        db.session.delete(res)
    else:
        res.quantity -= qty


def _ensure_row(location_id: int, product_id: int) -> Stock:
    where = (Stock.location_id == location_id, Stock.product_id == product_id)
    row = db.session.scalar(select(Stock).where(*where))
    if row is None:
        # ON CONFLICT: a transaction creating the same row meanwhile (an import chunk) is waited
        # for and its row used, instead of failing this one on the unique key.
        dialect_insert = postgresql_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
        db.session.execute(dialect_insert(Stock).values(location_id=location_id, product_id=product_id, on_hand=0,
                                                        reserved=0, updated_at=utcnow())
                           .on_conflict_do_nothing(index_elements=["location_id", "product_id"]))
        row = db.session.scalar(select(Stock).where(*where))
    return row


def receive(location_id: int, product_id: int, quantity: int, actor: str, reference: str | None,
            reason: str = "transfer_in", package_item_id: int | None = None) -> None:
    """Units arrive at a location; with `package_item_id` they are reserved for it at once."""
    _ensure_row(location_id, product_id)
    reserved = quantity if package_item_id else 0
    after = _apply(location_id, product_id, quantity, reserved)
    _ledger(after, location_id, product_id, quantity, reserved, reason, actor, reference)
    if package_item_id:
        db.session.add(Reservation(location_id=location_id, product_id=product_id, quantity=quantity,
                                   package_item_id=package_item_id))
    db.session.flush()


def correct_missing(location_id: int, product_id: int, quantity: int, actor: str, reference: str | None,
                    reason: str = "missing") -> int:
    """Staff found fewer units than the books say: lower on_hand (never below what is still
    reserved for others, never below zero). Returns the units actually written off."""
    row = db.session.scalar(
        select(Stock).where(Stock.location_id == location_id, Stock.product_id == product_id)
        .with_for_update()
    )
    if row is None:
        return 0
    db.session.refresh(row)
    qty = min(quantity, row.on_hand - row.reserved)
    if qty <= 0:
        return 0
    after = _apply(location_id, product_id, -qty, 0)
    _ledger(after, location_id, product_id, -qty, 0, reason, actor, reference)
    return qty


def set_on_hand(location_id: int, product_id: int, quantity: int, actor: str, reference: str | None = None,
                reason: str = "stock_sync", note: str | None = None) -> tuple[int, int]:
    """Set absolute on_hand (ERP sync, admin adjustment). Returns (old on_hand, new on_hand).
    Raises ValueError when the new figure is below what is reserved for open work."""
    row = _ensure_row(location_id, product_id)
    row = db.session.scalar(select(Stock).where(Stock.id == row.id).with_for_update())
    db.session.refresh(row)
    if quantity < row.reserved:
        raise ValueError(f"{row.reserved} unit(s) are reserved for open packages or transfers")
    old = row.on_hand
    delta = quantity - old
    if delta:
        after = _apply(location_id, product_id, delta, 0)
        _ledger(after, location_id, product_id, delta, 0, reason, actor, reference, note)
    return old, quantity


def reserved_quantity(package_item_id: int) -> int:
    return sum(r.quantity for r in _reservations_for(package_item_ids=[package_item_id]))


def record_write_off(location_id: int, product_id: int, quantity: int, actor: str, reference: str | None,
                     note: str | None = None, reason: str = "write_off") -> None:
    """Units that arrived unusable (a damaged return or delivery): one ledger row that records
    them, on_hand unchanged — they never joined the sellable stock."""
    row = _ensure_row(location_id, product_id)
    db.session.refresh(row)
    db.session.add(StockLedger(
        location_id=location_id, product_id=product_id, on_hand_delta=0, reserved_delta=0,
        on_hand_after=row.on_hand, reserved_after=row.reserved, reason=reason, actor=actor,
        reference=reference, note=(f"{quantity} unit(s): {note}" if note else f"{quantity} unit(s)")[:500]))
    db.session.flush()
