"""Reorder points, requisitions and supplier quotes: what to buy, from whom, at what price — the
steps before a purchase order (SPEC §14, Item OMS V3's "Workflow B").

The requisition job (`propose_requisitions`, run periodically by `tasks/inbound.py`) looks at
every location with reorder points or parked out-of-stock demand:

    cover      = available (on_hand - reserved) + open inbound (ordered - received on purchase
                 orders not yet received, closed or cancelled) + already requested (lines of
                 open or quoted requisitions)
    reorder    = when available + open inbound < reorder_point and nothing is requested yet:
                 max(reorder_quantity, reorder_point - available - open inbound)
    demand     = units of out_of_stock packages parked at the location that open inbound and
                 requests do not cover

and puts the sum on the location's one open requisition (made by the job, one line per SKU), so
running it again proposes nothing twice. A supervisor turns a requisition into a quote for one
supplier (`quote_requisition`) and an accepted quote into a draft purchase order
(`accept_quote`). Functions flush; the edges commit (`db.committed`).
"""

from __future__ import annotations

import secrets
from collections import defaultdict
from datetime import timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select

from app.extensions import db
from app.i18n import format_number
from app.models import (
    Package,
    PackageItem,
    Product,
    PurchaseOrder,
    PurchaseOrderLine,
    Quote,
    QuoteLine,
    ReorderPoint,
    Requisition,
    RequisitionLine,
    Stock,
)
from app.models.base import utcnow
from app.models.inbound import FINISHED_PURCHASE_ORDER_STATES
from app.schemas.common import validate
from app.schemas.inbound import MAX_QUANTITY, QuoteIn, ReorderPointIn
from app.services import events
from app.services.actors import Actor
from app.services.errors import Conflict, NotFound, ValidationFailed
from app.services.inbound.data import location_by_code, products_by_sku, purchase_order_dict, supplier_by_code
from app.services.inbound.lifecycle import require_manager

INVALID = "Some fields are not valid."
OPEN_REQUISITION_STATES = ("open", "quoted")
JOB_ACTOR = "system:requisitions"


def set_reorder_point(data: Any, actor: Actor) -> ReorderPoint:
    """Create or change the reorder point of (location, SKU). Flushes."""
    require_manager(actor)
    body = validate(ReorderPointIn, data, INVALID).model_dump()
    location = location_by_code(body["location"], "location", actor)
    product = products_by_sku([("sku", body["sku"])])[body["sku"]]
    supplier = supplier_by_code(body["supplier"]) if body["supplier"] else None
    point = db.session.scalar(select(ReorderPoint).where(ReorderPoint.location_id == location.id,
                                                         ReorderPoint.product_id == product.id))
    if point is None:
        point = ReorderPoint(location_id=location.id, product_id=product.id)
        db.session.add(point)
    point.reorder_point, point.reorder_quantity = body["reorder_point"], body["reorder_quantity"]
    point.supplier = supplier
    db.session.flush()
    return point


def delete_reorder_point(point_id: int, actor: Actor) -> None:
    require_manager(actor)
    point = db.session.get(ReorderPoint, point_id)
    if point is None or not actor.can_see(point.location_id):
        raise NotFound("There is no such reorder point.")
    db.session.delete(point)
    db.session.flush()


def open_inbound() -> dict[tuple[int, int], int]:
    """(location id, product id) -> units ordered and not received yet on open purchase orders."""
    rows = db.session.execute(
        select(PurchaseOrder.destination_id, PurchaseOrderLine.product_id,
               func.sum(PurchaseOrderLine.quantity - PurchaseOrderLine.received))
        .join(PurchaseOrderLine.purchase_order)
        .where(PurchaseOrder.state.not_in(FINISHED_PURCHASE_ORDER_STATES),
               PurchaseOrderLine.quantity > PurchaseOrderLine.received)
        .group_by(PurchaseOrder.destination_id, PurchaseOrderLine.product_id))
    return {(loc, product): int(qty) for loc, product, qty in rows}


def parked_demand() -> dict[tuple[int, int], int]:
    """(location id, product id) -> units wanted by out_of_stock packages parked there."""
    rows = db.session.execute(
        select(Package.location_id, PackageItem.product_id, func.sum(PackageItem.quantity))
        .join(PackageItem.package).where(Package.state == "out_of_stock")
        .group_by(Package.location_id, PackageItem.product_id))
    return {(loc, product): int(qty) for loc, product, qty in rows if loc is not None}


def _requested() -> dict[tuple[int, int], int]:
    rows = db.session.execute(
        select(Requisition.location_id, RequisitionLine.product_id, func.sum(RequisitionLine.quantity))
        .join(RequisitionLine.requisition).where(Requisition.state.in_(OPEN_REQUISITION_STATES))
        .group_by(Requisition.location_id, RequisitionLine.product_id))
    return {(loc, product): int(qty) for loc, product, qty in rows}


def _available(pairs: set[tuple[int, int]]) -> dict[tuple[int, int], int]:
    if not pairs:
        return {}
    locations = {loc for loc, _ in pairs}
    rows = db.session.execute(select(Stock.location_id, Stock.product_id, Stock.on_hand - Stock.reserved)
                              .where(Stock.location_id.in_(locations)))
    return {(loc, product): int(avail) for loc, product, avail in rows if (loc, product) in pairs}


def proposals() -> dict[tuple[int, int], tuple[int, str, int | None]]:
    """(location id, product id) -> (units to request now, reason, usual supplier id)."""
    points = {(p.location_id, p.product_id): p for p in db.session.scalars(select(ReorderPoint))}
    demand, inbound, requested = parked_demand(), open_inbound(), _requested()
    available = _available(set(points) | set(demand))
    out: dict[tuple[int, int], tuple[int, str, int | None]] = {}
    for pair in set(points) | set(demand):
        have = max(0, available.get(pair, 0)) + inbound.get(pair, 0)
        asked = requested.get(pair, 0)
        quantity, reason = 0, "reorder_point"
        uncovered = demand.get(pair, 0) - inbound.get(pair, 0) - asked
        if uncovered > 0:
            quantity, reason = uncovered, "out_of_stock"
        point = points.get(pair)
        if point is not None and have < point.reorder_point and asked == 0:
            quantity += max(point.reorder_quantity, point.reorder_point - have)
        if quantity > 0:
            out[pair] = (quantity, reason, point.supplier_id if point is not None else None)
    return out


def propose_requisitions(actor_label: str = JOB_ACTOR) -> dict[str, int]:
    """The requisition job's work: add what `proposals` finds to each location's open requisition
    made by the job — also when a supervisor presses "Propose now" (`actor_label` names them in
    the log), so a location never has two proposed lists for the same shortage. Flushes. Returns
    counts of requisitions made and lines added/raised."""
    counts = {"requisitions": 0, "lines": 0}
    by_location: dict[int, list[tuple[int, int, str, int | None]]] = defaultdict(list)
    for (loc, product), (qty, reason, supplier_id) in sorted(proposals().items()):
        by_location[loc].append((product, qty, reason, supplier_id))
    for loc, wanted in by_location.items():
        requisition = db.session.scalar(select(Requisition).where(
            Requisition.location_id == loc, Requisition.state == "open", Requisition.created_by == JOB_ACTOR))
        if requisition is None:
            requisition = Requisition(number=_number("REQ"), location_id=loc, state="open", created_by=JOB_ACTOR)
            db.session.add(requisition)
            counts["requisitions"] += 1
        lines = {line.product_id: line for line in requisition.lines}
        for product, qty, reason, supplier_id in wanted:
            line = lines.get(product)
            if line is None:
                requisition.lines.append(RequisitionLine(product_id=product, quantity=qty, reason=reason,
                                                         supplier_id=supplier_id))
            else:
                line.quantity += qty
            counts["lines"] += 1
        db.session.flush()
        events.log_transition("requisition", requisition.id, None, "open", "propose",
                              {"lines": len(wanted)}, actor_label)
    return counts


def _number(prefix: str) -> str:
    return f"{prefix}-{utcnow():%y%m%d}-{secrets.token_hex(3).upper()}"


def add_requisition_line(requisition_id: int, sku: str, quantity: int, actor: Actor) -> Requisition:
    """A supervisor adds (or raises) a line by hand: 1 to `MAX_QUANTITY` units, like a quote's or a
    purchase order's line (more would fail at flush, beyond the Integer column). Flushes."""
    requisition = _editable_requisition(requisition_id, actor)
    if not isinstance(quantity, int) or not 1 <= quantity <= MAX_QUANTITY:
        raise ValidationFailed(INVALID, {"quantity": _("Enter a whole number from %(min)s to %(max)s.",
                                                       min=format_number(1), max=format_number(MAX_QUANTITY))})
    product = products_by_sku([("sku", sku)])[sku]
    line = next((line for line in requisition.lines if line.product_id == product.id), None)
    if line is None:
        requisition.lines.append(RequisitionLine(product_id=product.id, quantity=quantity, reason="manual"))
    else:
        line.quantity = quantity
    db.session.flush()
    return requisition


def remove_requisition_line(requisition_id: int, line_id: int, actor: Actor) -> Requisition:
    requisition = _editable_requisition(requisition_id, actor)
    requisition.lines[:] = [line for line in requisition.lines if line.id != line_id]
    db.session.flush()
    return requisition


def create_requisition(location_code: str, actor: Actor) -> Requisition:
    require_manager(actor)
    location = location_by_code(location_code, "location", actor)
    requisition = Requisition(number=_number("REQ"), location_id=location.id, state="open", created_by=actor.label)
    db.session.add(requisition)
    db.session.flush()
    return requisition


def visible_requisition(requisition_id: int, actor: Actor) -> Requisition:
    requisition = db.session.get(Requisition, requisition_id)
    if requisition is None or not actor.can_see(requisition.location_id):
        raise NotFound(f"There is no requisition {requisition_id}.")
    return requisition


def _editable_requisition(requisition_id: int, actor: Actor) -> Requisition:
    require_manager(actor)
    requisition = visible_requisition(requisition_id, actor)
    if requisition.state != "open":
        raise Conflict(f"Requisition {requisition.number} is {requisition.state}; only an open one can change.",
                       code="command_not_allowed", details={"state": requisition.state})
    return requisition


def dismiss_requisition(requisition_id: int, actor: Actor) -> Requisition:
    requisition = _editable_requisition(requisition_id, actor)
    requisition.state = "dismissed"
    events.log_transition("requisition", requisition.id, "open", "dismissed", "dismiss", {}, actor.label)
    db.session.flush()
    return requisition


def quote_requisition(requisition_id: int, data: Any, actor: Actor) -> Quote:
    """A supplier's quote for the requisition's lines (`QuoteIn`: supplier, lead time, lines with
    unit prices). The requisition becomes `quoted`. Flushes."""
    requisition = visible_requisition(requisition_id, actor)
    require_manager(actor)
    if requisition.state not in OPEN_REQUISITION_STATES:
        raise Conflict(f"Requisition {requisition.number} is {requisition.state}.", code="command_not_allowed",
                       details={"state": requisition.state})
    body = validate(QuoteIn, data, INVALID).model_dump()
    supplier = supplier_by_code(body["supplier"])
    products = products_by_sku([(f"lines.{i}.sku", line["sku"]) for i, line in enumerate(body["lines"])])
    quote = Quote(number=_number("Q"), supplier=supplier, location_id=requisition.location_id,
                  requisition=requisition, lead_time_days=body["lead_time_days"], state="open",
                  lines=[QuoteLine(product=products[line["sku"]], quantity=line["quantity"],
                                   unit_price=line["unit_price"]) for line in body["lines"]])
    db.session.add(quote)
    if requisition.state == "open":
        events.log_transition("requisition", requisition.id, "open", "quoted", "quote", {"quote": quote.number},
                              actor.label)
        requisition.state = "quoted"
    db.session.flush()
    return quote


def visible_quote(quote_id: int, actor: Actor) -> Quote:
    quote = db.session.get(Quote, quote_id)
    if quote is None or not actor.can_see(quote.location_id):
        raise NotFound(f"There is no quote {quote_id}.")
    return quote


def accept_quote(quote_id: int, actor: Actor, number: str | None = None) -> PurchaseOrder:
    """Turn an open quote into a draft purchase order to its location: its lines and prices, the
    expected date from the lead time. Other open quotes of the requisition are rejected and the
    requisition becomes `ordered`. Flushes."""
    require_manager(actor)
    quote = visible_quote(quote_id, actor)
    if quote.state != "open":
        raise Conflict(f"Quote {quote.number} is {quote.state}.", code="command_not_allowed",
                       details={"state": quote.state})
    number = number or f"PO-{quote.number.removeprefix('Q-')}"
    if db.session.scalar(select(PurchaseOrder.id).where(PurchaseOrder.number == number)) is not None:
        raise Conflict(f"Purchase order {number} already exists.", {"number": "Choose another number."},
                       code="duplicate")
    po = PurchaseOrder(number=number, supplier=quote.supplier, destination_id=quote.location_id, state="draft",
                       expected_at=utcnow() + timedelta(days=quote.lead_time_days),
                       note=f"From quote {quote.number}",
                       lines=[PurchaseOrderLine(product_id=line.product_id, quantity=line.quantity,
                                                unit_cost=line.unit_price) for line in quote.lines])
    db.session.add(po)
    db.session.flush()
    quote.state, quote.purchase_order = "accepted", po
    if quote.requisition is not None:
        for other in db.session.scalars(select(Quote).where(Quote.requisition_id == quote.requisition_id,
                                                            Quote.id != quote.id, Quote.state == "open")):
            other.state = "rejected"
        quote.requisition.state = "ordered"
        events.log_transition("requisition", quote.requisition.id, "quoted", "ordered", "accept_quote",
                              {"quote": quote.number, "purchase_order": po.number}, actor.label)
    events.log_transition("purchase_order", po.id, None, "draft", "create", {"quote": quote.number}, actor.label)
    events.emit("purchase_order.created", "purchase_order", po.id, purchase_order_dict(po))
    db.session.flush()
    return po


def quote_draft_lines(requisition: Requisition) -> list[dict[str, Any]]:
    """The requisition's lines as a quote form starts them (prices empty)."""
    skus = dict(db.session.execute(select(Product.id, Product.sku)
                                   .where(Product.id.in_([line.product_id for line in requisition.lines]))).all())
    return [{"sku": skus[line.product_id], "quantity": line.quantity, "unit_price": None}
            for line in requisition.lines]
