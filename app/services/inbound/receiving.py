"""Receiving purchase orders and inbound shipments: goods arrive, stock goes up (SPEC §14).

Contract for callers (the receiving screen, the API, the import); names and shapes are stable:

    receive_purchase_order(purchase_order_id, lines, actor, *, receipt_key=None,
                           expected_version=None) -> Receipt
    receive_inbound_shipment(shipment_id, lines, actor, *, receipt_key=None,
                             expected_version=None, expected_basis=None) -> ShipmentReceipt
    expected_purchase_order_lines(purchase_order_id, actor) -> list[ExpectedLine]
    expected_inbound_shipment_lines(shipment_id, actor) -> list[ExpectedLine]
    receivable_purchase_orders(actor, location_id=None) -> list[PurchaseOrder]
    receivable_inbound_shipments(actor, location_id=None) -> list[InboundShipment]
    still_expected(purchase_order_or_shipment) -> bool
    scanned_counts / keep_scanned_counts (purchase order), shipment_basis, shipment_scanned_counts /
    keep_shipment_scanned_counts (inbound shipment): the receiving screen's running count
    settle_inbound_shipments(purchase_order_ids, actor, exclude_shipment_id=None) -> None

`lines` is a list of dicts `{"sku": str, "quantity": int >= 1, "damaged": int >= 0 (default 0),
"reason": str | None}`: `quantity` counts every unit of the SKU that arrived in this count,
`damaged` how many of those are unusable (recorded on the line, never stocked), `reason` is
required when the count takes the line above what was ordered (an over-receipt; otherwise it is
an optional note). One line per SKU.

Each call is one transaction (it begins and commits its own; call it with no pending changes):
the purchase order row is locked (`SELECT ... FOR UPDATE`; an inbound shipment's row first, then
its purchase orders by id), the usable units enter the destination's stock through the ledger
(reason `receipt`, reference the PO number), the lines' `received`/`damaged` grow, the state
becomes `partially_received` or `received`, and `purchase_order.received` (+
`purchase_order.state_changed`) events are written. After the commit, out-of-stock packages
wanting a received SKU are re-planned at once (the re-plan job of `planning.replan`).

Counting once:
- `receipt_key` names one count (one receiving session of the screen, one API call). Finishing
  the same key again — a double tap, a retried request, a second tablet finishing the same
  session — changes nothing and returns `replayed=True`; the same key with other lines is a
  409 `receipt_key_reused`. Without a key each call is a new arrival.
- `expected_version` is the purchase order's (or shipment's) `version` when the count began:
  when someone else received meanwhile, the call is refused with 409 `stale` (nothing changed),
  so two tablets counting the same goods cannot both book them.

Errors (nothing changes): NotFound (missing, or its destination is not one of the actor's
locations: staff of another store cannot see or receive it), Conflict `command_not_allowed`
(a draft, cancelled, closed or received PO; a delivered or cancelled shipment) with the state and
allowed commands, ValidationFailed with per-line details (`lines.<i>.sku` unknown SKU or not on
this PO/shipment, `lines.<i>.quantity` zero or negative, `lines.<i>.damaged` above quantity,
`lines.<i>.reason` an over-receipt without a reason).

Damaged units are recorded on the purchase order line and in the receipt, not in the stock
ledger: they never were on hand, so no `write_off` row is written for them (docs/inbound.md).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from pydantic import BaseModel, Field
from sqlalchemy import exists, select, update
from sqlalchemy.orm import joinedload, selectinload

from app.extensions import db
from app.models import (
    InboundShipment,
    InboundShipmentLine,
    Product,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderReceipt,
)
from app.models.inbound import FINISHED_PURCHASE_ORDER_STATES
from app.schemas.common import validate
from app.schemas.inbound import ReceiveLineIn
from app.services import events, stock
from app.services.actors import Actor
from app.services.db import begin_write
from app.services.errors import Conflict, NotFound, ValidationFailed
from app.services.inbound.data import purchase_order_dict, receipt_dict
from app.services.inbound.lifecycle import (
    check_command,
    check_shipment_command,
    lock_inbound_shipment,
    lock_purchase_order,
    move_inbound_shipment,
    move_purchase_order,
)
from app.services.planning.replan import on_stock_increase
from app.services.transitions import (
    INBOUND_SHIPMENT_TRANSITIONS,
    PURCHASE_ORDER_TRANSITIONS,
    RECEIVABLE_PURCHASE_ORDER_STATES,
)

INVALID_LINES = "Some counted lines are not valid; nothing was received."  # API docs; _invalid() for people


def _invalid() -> str:
    return _("Some counted lines are not valid; nothing was received.")
LEDGER_REASON = "receipt"
log = logging.getLogger(__name__)


class _Lines(BaseModel):
    lines: list[ReceiveLineIn] = Field(min_length=1, max_length=1000)


@dataclass(frozen=True)
class Receipt:
    purchase_order: PurchaseOrder
    receipt_id: int
    replayed: bool  # True: this receipt_key was finished before; nothing changed now
    stocked: dict[str, int] = field(default_factory=dict)  # sku -> usable units that entered stock now


@dataclass(frozen=True)
class ShipmentReceipt:
    shipment: InboundShipment
    receipts: list[Receipt]
    replayed: bool


@dataclass(frozen=True)
class ExpectedLine:
    """One line the receiver counts against (the screen shows these)."""

    sku: str
    name: str
    barcodes: list[str]
    ordered: int  # for a shipment: the units it carries
    received: int
    damaged: int
    outstanding: int
    purchase_order_id: int
    purchase_order_number: str


def _normalized(lines: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(({"sku": line["sku"], "quantity": line["quantity"], "damaged": line.get("damaged") or 0,
                    "reason": line.get("reason")} for line in lines), key=lambda line: line["sku"])


def _validated(lines: Any) -> list[dict[str, Any]]:
    if not isinstance(lines, list):
        raise ValidationFailed(_invalid(), {"lines": _('Send a list of counted lines.')})
    counted = [line.model_dump() for line in validate(_Lines, {"lines": lines}, _invalid()).lines]
    first: dict[str, int] = {}
    for i, line in enumerate(counted):
        if first.setdefault(line["sku"], i) != i:
            raise ValidationFailed(_invalid(), {f"lines.{i}.sku": _('SKU %(sku)s is also on line %(value)s: count it on one line.', sku=line['sku'], value=first[line['sku']] + 1)})
    return counted


def _unknown_skus(lines: list[dict[str, Any]], on_it: set[str], what: str) -> None:
    problems = {}
    known = set(db.session.scalars(select(Product.sku).where(Product.sku.in_({line["sku"] for line in lines}))))
    for i, line in enumerate(lines):
        if line["sku"] not in known:
            problems[f"lines.{i}.sku"] = _("There is no product with SKU %(sku)s. Check the barcode or SKU.",
                                           sku=line["sku"])
        elif line["sku"] not in on_it:
            problems[f"lines.{i}.sku"] = _("SKU %(sku)s is not on %(what)s. Put it aside and tell a supervisor.",
                                           sku=line["sku"], what=what)
    if problems:
        raise ValidationFailed(_invalid(), problems)


def _apply(po: PurchaseOrder, lines: list[dict[str, Any]], actor: Actor, key: str, indexes: list[int],
           shipment_id: int | None = None) -> tuple[PurchaseOrderReceipt, dict[str, int]]:
    """Book one count against a locked purchase order (flush only). `indexes` are the lines'
    positions in the caller's list, for error details."""
    by_sku = {line.product.sku: line for line in po.lines}
    problems = {}
    for i, line in zip(indexes, lines, strict=True):
        po_line = by_sku[line["sku"]]
        over = po_line.received + line["quantity"] - po_line.quantity
        if over > 0 and not line.get("reason"):
            problems[f"lines.{i}.reason"] = _("%(over)s more than ordered of %(sku)s: an over-receipt needs a "
                                              "reason, or count only what was ordered.", over=over, sku=line["sku"])
    if problems:
        raise ValidationFailed(_invalid(), problems)
    stocked: dict[str, int] = {}
    for line in lines:
        po_line = by_sku[line["sku"]]
        po_line.received += line["quantity"]
        po_line.damaged += line["damaged"]
        usable = line["quantity"] - line["damaged"]
        if usable:
            stock.receive(po.destination_id, po_line.product_id, usable, actor.label, po.number, reason=LEDGER_REASON)
            stocked[line["sku"]] = usable
    receipt = PurchaseOrderReceipt(purchase_order_id=po.id, receipt_key=key, inbound_shipment_id=shipment_id,
                                   lines=_normalized(lines), actor=actor.label)
    db.session.add(receipt)
    po.version += 1
    for po_line in po.lines:  # whatever booked it (this screen, an inbound shipment), a running count is now done
        po_line.scanned = 0
    # So is the running count of every inbound shipment carrying its lines: a page counting it
    # from before would book these units again (such a page's count is no longer kept either).
    db.session.execute(update(InboundShipmentLine)
                       .where(InboundShipmentLine.purchase_order_line_id.in_([line.id for line in po.lines]),
                              InboundShipmentLine.scanned != 0)
                       .values(scanned=0), execution_options={"synchronize_session": False})
    complete = all(line.received >= line.quantity for line in po.lines)
    target = "received" if complete else "partially_received"
    db.session.flush()
    logged = {"receipt_key": key, "lines": receipt.lines}
    if target != po.state:
        move_purchase_order(po, target, "receive", logged, actor.label)
    else:
        events.log_transition("purchase_order", po.id, po.state, po.state, "receive", logged, actor.label)
    events.emit("purchase_order.received", "purchase_order", po.id,
                {**purchase_order_dict(po), "receipt": receipt_dict(receipt)})
    return receipt, stocked


def _replay(po_id: int, key: str | None, lines: list[dict[str, Any]],
            shipment_id: int | None = None) -> PurchaseOrderReceipt | None:
    """The receipt already finished under `key`, or None; 409 when it holds other lines."""
    if key is None:
        return None
    done = db.session.scalar(select(PurchaseOrderReceipt).where(
        PurchaseOrderReceipt.purchase_order_id == po_id, PurchaseOrderReceipt.receipt_key == key))
    if done is None:
        return None
    if shipment_id is None and done.lines != _normalized(lines):
        raise Conflict(_('This count was already finished with other figures. Start a new count to receive more.'),
                       code="receipt_key_reused", details={"receipt_key": key})
    return done


def _after_commit(location_id: int, product_ids: set[int]) -> None:
    if product_ids:
        on_stock_increase(location_id, product_ids)


def _open_line_on_it():
    """SQL: the inbound shipment carries a line still open on a purchase order still receivable."""
    return exists().where(
        InboundShipmentLine.shipment_id == InboundShipment.id,
        PurchaseOrderLine.id == InboundShipmentLine.purchase_order_line_id,
        PurchaseOrderLine.received < PurchaseOrderLine.quantity,
        PurchaseOrder.id == PurchaseOrderLine.purchase_order_id,
        PurchaseOrder.state.in_(RECEIVABLE_PURCHASE_ORDER_STATES))


def settle_inbound_shipments(purchase_order_ids: set[int], actor: Actor, exclude_shipment_id: int | None = None) -> None:
    """After goods of these purchase orders were booked (committed): a shipment still on its way
    whose every line has now arrived in full on its purchase order (received at the dock without
    the shipment, or on another shipment) is marked `delivered` — nothing more comes with it.
    One short transaction per shipment, the shipment locked before its purchase orders' lines are
    read (the inbound lock order). A failure here leaves the receipt booked and is logged; the
    receiving list hides such shipments anyway (`receivable_inbound_shipments`)."""
    if not purchase_order_ids:
        return
    stmt = (select(InboundShipment.id).join(InboundShipmentLine, InboundShipmentLine.shipment_id == InboundShipment.id)
            .join(PurchaseOrderLine, PurchaseOrderLine.id == InboundShipmentLine.purchase_order_line_id)
            .where(PurchaseOrderLine.purchase_order_id.in_(purchase_order_ids),
                   InboundShipment.status.in_(INBOUND_SHIPMENT_TRANSITIONS["receive"].sources)).distinct())
    if exclude_shipment_id is not None:
        stmt = stmt.where(InboundShipment.id != exclude_shipment_id)
    for shipment_id in sorted(db.session.scalars(stmt)):
        begin_write()
        try:
            shipment = lock_inbound_shipment(shipment_id, actor)
            carried = _shipment_lines(shipment.id)
            if (shipment.status in INBOUND_SHIPMENT_TRANSITIONS["receive"].sources and carried
                    and all(c.purchase_order_line.received >= c.purchase_order_line.quantity for c in carried)):
                shipment.version += 1
                move_inbound_shipment(shipment, "delivered", "receive", {"settled": "every line received"},
                                      actor.label)
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("inbound shipment %s: could not mark it delivered after its lines arrived", shipment_id)


def receive_purchase_order(purchase_order_id: int, lines: Any, actor: Actor, *, receipt_key: str | None = None,
                           expected_version: int | None = None) -> Receipt:
    """Goods of one purchase order arrived: book them in one transaction (see the module doc)."""
    counted = _validated(lines)
    begin_write()
    try:
        po = lock_purchase_order(purchase_order_id, actor)
        done = _replay(po.id, receipt_key, counted)
        if done is not None:
            db.session.commit()
            return Receipt(po, done.id, replayed=True)
        check_command(po, PURCHASE_ORDER_TRANSITIONS["receive"], actor, expected_version)
        _unknown_skus(counted, {line.product.sku for line in po.lines},
                      _("purchase order %(number)s", number=po.number))
        receipt, stocked = _apply(po, counted, actor, receipt_key or str(uuid.uuid4()), list(range(len(counted))))
        product_ids = {line.product_id for line in po.lines if line.product.sku in stocked}
        location_id, receipt_id = po.destination_id, receipt.id
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    _after_commit(location_id, product_ids)
    settle_inbound_shipments({purchase_order_id}, actor)
    return Receipt(po, receipt_id, replayed=False, stocked=stocked)


def scanned_counts(purchase_order_id: int) -> dict[str, int]:
    """The receiving screen's running count of a purchase order, per SKU (kept until Finish)."""
    rows = db.session.execute(select(Product.sku, PurchaseOrderLine.scanned).join(PurchaseOrderLine.product)
                              .where(PurchaseOrderLine.purchase_order_id == purchase_order_id))
    return {sku: scanned for sku, scanned in rows}


def keep_scanned_counts(purchase_order_id: int, counts: dict[str, int], version: int | None) -> bool:
    """Keep the screen's running count (per SKU, as the page now shows it) on the purchase order's
    lines, so a reload or another tablet sees the scans as returns' and transfers' do. Commits.
    The caller has checked the person may receive here (the screen's location).

    Only a count that began at the purchase order's current `version` is kept: once a count was
    booked (Finish here or on another tablet, an inbound shipment), a page still counting from
    before must not put its old figures back, or the next page would start from them and book
    those units a second time. Such a page's Finish is refused for the same version. False then."""
    begin_write()
    try:
        current = db.session.scalar(select(PurchaseOrder.version).where(PurchaseOrder.id == purchase_order_id)
                                    .with_for_update())
        if current is None or current != version:
            db.session.rollback()
            return False
        rows = db.session.execute(select(PurchaseOrderLine.id, Product.sku).join(PurchaseOrderLine.product)
                                  .where(PurchaseOrderLine.purchase_order_id == purchase_order_id)).all()
        for line_id, sku in rows:
            if sku in counts:
                db.session.execute(update(PurchaseOrderLine).where(PurchaseOrderLine.id == line_id)
                                   .values(scanned=min(max(0, int(counts[sku])), 999_999)),
                                   execution_options={"synchronize_session": False})
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return True


def shipment_basis(shipment_id: int) -> str:
    """What an inbound shipment's count begins with besides the shipment's version: the version
    of each purchase order it carries ("<id>:<version>,..."). A booking of one of them (at the
    dock, on its own page) moves it on, though the shipment itself did not change."""
    rows = db.session.execute(select(PurchaseOrder.id, PurchaseOrder.version).where(PurchaseOrder.id.in_(
        select(PurchaseOrderLine.purchase_order_id).join(
            InboundShipmentLine, InboundShipmentLine.purchase_order_line_id == PurchaseOrderLine.id)
        .where(InboundShipmentLine.shipment_id == shipment_id))).order_by(PurchaseOrder.id))
    return _basis_text(rows)


def _basis_text(rows: Iterable[tuple[int, int]]) -> str:
    return ",".join(f"{po_id}:{version}" for po_id, version in rows)


def _locked_basis(shipment: InboundShipment, carried: list[InboundShipmentLine], actor: Actor) -> str:
    """The basis with the shipment's purchase orders locked (after the shipment, by id: the
    inbound lock order), so no booking of them can slip in before this transaction ends."""
    ids = sorted({c.purchase_order_line.purchase_order_id for c in carried})
    return _basis_text((po_id, lock_purchase_order(po_id, actor).version) for po_id in ids)


def shipment_scanned_counts(shipment_id: int) -> dict[str, int]:
    """The receiving screen's running count of an inbound shipment, per SKU (kept until a booking)."""
    counts: dict[str, int] = {}
    rows = db.session.execute(select(Product.sku, InboundShipmentLine.scanned)
                              .join(PurchaseOrderLine, PurchaseOrderLine.id == InboundShipmentLine.purchase_order_line_id)
                              .join(Product, Product.id == PurchaseOrderLine.product_id)
                              .where(InboundShipmentLine.shipment_id == shipment_id))
    for sku, scanned in rows:
        counts[sku] = counts.get(sku, 0) + scanned
    return counts


def keep_shipment_scanned_counts(shipment_id: int, counts: dict[str, int], version: int | None,
                                 basis: str | None, actor: Actor) -> bool:
    """Keep the screen's running count of an inbound shipment (per SKU, on the shipment's first
    line of the SKU), as `keep_scanned_counts` does for a purchase order. Commits.

    Kept only when the count began at the shipment's current `version` and `basis` (none of its
    purchase orders booked or changed since): a page still counting from before a booking must
    not put its old figures back, or the next page would start from them and book those units a
    second time. The shipment, then its purchase orders are locked (the inbound lock order), so
    a booking cannot clear the counts between the check and the write. False when not kept."""
    begin_write()
    try:
        shipment = lock_inbound_shipment(shipment_id, actor)
        carried = _shipment_lines(shipment.id)
        if shipment.version != version or basis is None or _locked_basis(shipment, carried, actor) != basis:
            db.session.rollback()
            return False
        first_of_sku: set[str] = set()
        for c in carried:
            sku = c.purchase_order_line.product.sku
            value = min(max(0, int(counts.get(sku, 0))), 999_999) if sku not in first_of_sku else 0
            first_of_sku.add(sku)
            c.scanned = value
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return True


def _shipment_lines(shipment_id: int) -> list[InboundShipmentLine]:
    return list(db.session.scalars(
        select(InboundShipmentLine).where(InboundShipmentLine.shipment_id == shipment_id)
        .options(selectinload(InboundShipmentLine.purchase_order_line).selectinload(PurchaseOrderLine.product))
        .order_by(InboundShipmentLine.id)))


def _split(counted: list[dict[str, Any]], carried: list[InboundShipmentLine]) -> dict[int, list[tuple[int, dict]]]:
    """Share each counted SKU over the purchase order lines the shipment carries it for, in line
    order, each up to what the shipment carries; what is left goes to the last one (an over-receipt
    there needs the line's reason). -> {purchase_order_id: [(caller's index, line)]}"""
    per_po: dict[int, list[tuple[int, dict]]] = {}
    for i, line in enumerate(counted):
        mine = [c for c in carried if c.purchase_order_line.product.sku == line["sku"]]
        left, damaged_left = line["quantity"], line["damaged"]
        for n, c in enumerate(mine):
            take = left if n == len(mine) - 1 else min(left, c.quantity)
            if take <= 0:
                continue
            damaged = min(damaged_left, take)
            per_po.setdefault(c.purchase_order_line.purchase_order_id, []).append(
                (i, {**line, "quantity": take, "damaged": damaged}))
            left -= take
            damaged_left -= damaged
    return per_po


def receive_inbound_shipment(shipment_id: int, lines: Any, actor: Actor, *, receipt_key: str | None = None,
                             expected_version: int | None = None,
                             expected_basis: str | None = None) -> ShipmentReceipt:
    """An inbound shipment was unloaded: book what was counted against the purchase orders it
    carries (each as `receive_purchase_order` would) and mark the shipment `delivered`, all in
    one transaction. PO lines the shipment carries but nothing arrived for stay open.

    `expected_basis` (the screen's, from `shipment_basis` when the count began): refused as 409
    `stale` when one of its purchase orders was booked or changed since, as a purchase order's
    own count is by its version — those units may be the ones this count holds."""
    counted = _validated(lines)
    begin_write()
    try:
        shipment = lock_inbound_shipment(shipment_id, actor)
        key = receipt_key or str(uuid.uuid4())
        if receipt_key is not None and shipment.status == "delivered":
            done = list(db.session.scalars(select(PurchaseOrderReceipt).where(
                PurchaseOrderReceipt.inbound_shipment_id == shipment.id, PurchaseOrderReceipt.receipt_key == key)))
            if done:
                db.session.commit()
                replays = [Receipt(db.session.get(PurchaseOrder, r.purchase_order_id), r.id, True) for r in done]
                return ShipmentReceipt(shipment, replays, replayed=True)
        check_shipment_command(shipment, INBOUND_SHIPMENT_TRANSITIONS["receive"], actor, expected_version)
        carried = _shipment_lines(shipment.id)
        if expected_basis is not None and _locked_basis(shipment, carried, actor) != expected_basis:
            raise Conflict(_('The shipment was changed by someone else; reload and try again.'), code="stale",
                           details={"state": shipment.status, "version": shipment.version})
        _unknown_skus(counted, {c.purchase_order_line.product.sku for c in carried},
                      _("inbound shipment %(number)s", number=shipment.number))
        receipts, touched = [], set()
        for po_id, parts in sorted(_split(counted, carried).items()):
            po = lock_purchase_order(po_id, actor)
            check_command(po, PURCHASE_ORDER_TRANSITIONS["receive"], actor, None)
            receipt, stocked = _apply(po, [p for _unused, p in parts], actor, key, [i for i, _unused in parts], shipment.id)
            touched |= {line.product_id for line in po.lines if line.product.sku in stocked}
            receipts.append(Receipt(po, receipt.id, replayed=False, stocked=stocked))
        shipment.version += 1
        for c in carried:  # booked: the screen's running count is done
            c.scanned = 0
        move_inbound_shipment(shipment, "delivered", "receive", {"receipt_key": key, "lines": _normalized(counted)},
                              actor.label)
        location_id = shipment.destination_id
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    _after_commit(location_id, touched)
    settle_inbound_shipments({r.purchase_order.id for r in receipts}, actor, exclude_shipment_id=shipment_id)
    return ShipmentReceipt(shipment, receipts, replayed=False)


# --- what the receiving screen shows -------------------------------------------------------------

def _expected(po: PurchaseOrder, line: PurchaseOrderLine, carried: int | None = None) -> ExpectedLine:
    """`carried`: for a shipment, the units it carries of the line — what is expected of it is
    that, or what is still open on the line when less is."""
    product = line.product
    outstanding = line.outstanding if carried is None else min(carried, line.outstanding)
    return ExpectedLine(sku=product.sku, name=product.name, barcodes=list(product.barcode_values),
                        ordered=line.quantity if carried is None else carried, received=line.received,
                        damaged=line.damaged, outstanding=outstanding, purchase_order_id=po.id,
                        purchase_order_number=po.number)


def expected_purchase_order_lines(purchase_order_id: int, actor: Actor) -> list[ExpectedLine]:
    """The lines to count against, with what arrived so far; 404 outside the actor's locations."""
    po = db.session.get(PurchaseOrder, purchase_order_id)
    if po is None or not actor.can_see(po.destination_id):
        raise NotFound(_('There is no purchase order %(purchase_order_id)s.', purchase_order_id=purchase_order_id))
    return [_expected(po, line) for line in po.lines]


def expected_inbound_shipment_lines(shipment_id: int, actor: Actor) -> list[ExpectedLine]:
    shipment = db.session.get(InboundShipment, shipment_id)
    if shipment is None or not actor.can_see(shipment.destination_id):
        raise NotFound(_('There is no inbound shipment %(shipment_id)s.', shipment_id=shipment_id))
    return [_expected(c.purchase_order_line.purchase_order, c.purchase_order_line, c.quantity)
            for c in _shipment_lines(shipment.id)]


def still_expected(record: PurchaseOrder | InboundShipment) -> bool:
    """Whether goods may still be received against this purchase order or inbound shipment: a
    PO that is received, closed, cancelled (or still a draft) expects nothing; a shipment expects
    goods while it is on its way and carries a line still open on a receivable PO."""
    if isinstance(record, PurchaseOrder):
        return record.state in RECEIVABLE_PURCHASE_ORDER_STATES
    if record.status not in INBOUND_SHIPMENT_TRANSITIONS["receive"].sources:
        return False
    return bool(db.session.scalar(select(InboundShipment.id).where(InboundShipment.id == record.id,
                                                                   _open_line_on_it())))


def receivable_purchase_orders(actor: Actor, location_id: int | None = None) -> list[PurchaseOrder]:
    """Purchase orders whose goods may arrive now at the actor's locations, expected first."""
    stmt = (select(PurchaseOrder).where(PurchaseOrder.state.in_(RECEIVABLE_PURCHASE_ORDER_STATES))
            .options(joinedload(PurchaseOrder.supplier))
            .order_by(PurchaseOrder.expected_at.is_(None), PurchaseOrder.expected_at, PurchaseOrder.id))
    if actor.location_ids is not None:
        stmt = stmt.where(PurchaseOrder.destination_id.in_(actor.location_ids))
    if location_id is not None:
        stmt = stmt.where(PurchaseOrder.destination_id == location_id)
    return [po for po in db.session.scalars(stmt) if po.state not in FINISHED_PURCHASE_ORDER_STATES]


def receivable_inbound_shipments(actor: Actor, location_id: int | None = None) -> list[InboundShipment]:
    """Inbound shipments on their way to the actor's locations that still carry something to
    receive: a shipment whose purchase orders are all received, closed or cancelled (or whose
    lines have all arrived otherwise) is not listed — nothing more is expected with it."""
    stmt = (select(InboundShipment).where(InboundShipment.status.in_(INBOUND_SHIPMENT_TRANSITIONS["receive"].sources),
                                          _open_line_on_it())
            .order_by(InboundShipment.eta.is_(None), InboundShipment.eta, InboundShipment.id))
    if actor.location_ids is not None:
        stmt = stmt.where(InboundShipment.destination_id.in_(actor.location_ids))
    if location_id is not None:
        stmt = stmt.where(InboundShipment.destination_id == location_id)
    return list(db.session.scalars(stmt))
