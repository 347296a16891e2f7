"""Supervisor screens for inbound goods (SPEC §14, docs/inbound.md): what is on the way against
parked out-of-stock demand, suppliers, purchase orders and their commands, inbound shipments and
their status events, reorder points, requisitions -> quotes -> purchase orders.

Every action is a real form POST (CSRF, works without JavaScript) answered with a 303 back to the
page and a flash message; a refused one re-renders the form with the problems in place (422).
Each calls one service function; the goods themselves are counted on the receiving screen.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import (
    InboundShipment,
    PurchaseOrder,
    PurchaseOrderLine,
    Quote,
    ReorderPoint,
    Requisition,
    Supplier,
    TransitionLog,
)
from app.models.inbound import INBOUND_SHIPMENT_STATES, PURCHASE_ORDER_STATES
from app.services import admin_queries, records
from app.services.db import committed
from app.services.errors import ServiceError, ValidationFailed
from app.services.inbound import requisitions as requisitions_service
from app.services.inbound.data import visible_inbound_shipment, visible_purchase_order
from app.services.inbound.demand import on_the_way
from app.services.inbound.purchase_orders import create_purchase_order, run_purchase_order_command
from app.services.inbound.shipments import create_inbound_shipment, open_to_ship, run_inbound_shipment_command
from app.services.inbound.suppliers import SUPPLIERS, supplier_dict
from app.services.pagination import paginate
from app.services.transitions import INBOUND_SHIPMENT_TRANSITIONS, PURCHASE_ORDER_TRANSITIONS
from app.services.typed_numbers import read_decimal, show_decimal
from app.views.htmx import render
from app.views.security import role_required
from app.views.store import error_message
from app.views.supervisor import MANAGERS, bp, current_actor, page_arg

EMPTY_ROWS = 5  # blank line rows a form offers besides the ones already filled
# The buttons' words (the transition tables' labels, for translation).
PO_LABELS = {"send": _l("Send to supplier"), "confirm": _l("Supplier confirmed"), "mark_in_transit": _l("On the way"),
             "close_short": _l("Close short"), "cancel": _l("Cancel purchase order"), "edit": _l("Edit"),
             "receive": _l("Receive"), "create": _l("Created")}
SHIPMENT_LABELS = {"depart": _l("Departed"), "arrive": _l("Arrived"), "update_eta": _l("Change ETA"),
                   "cancel": _l("Cancel shipment"), "receive": _l("Receive")}

# What a command did, one whole sentence each (the button's words repeated said nothing done).
PO_DONE = {
    "send": lambda number: _("Purchase order %(number)s was sent to the supplier.", number=number),
    "confirm": lambda number: _("Purchase order %(number)s was confirmed by the supplier.", number=number),
    "mark_in_transit": lambda number: _("Purchase order %(number)s was marked as on the way.", number=number),
    "close_short": lambda number: _("Purchase order %(number)s was closed short: its missing units are no "
                                    "longer expected.", number=number),
    "cancel": lambda number: _("Purchase order %(number)s was cancelled.", number=number),
}
SHIPMENT_DONE = {
    "depart": lambda number: _("Inbound shipment %(number)s was marked as departed.", number=number),
    "arrive": lambda number: _("Inbound shipment %(number)s was marked as arrived.", number=number),
    "update_eta": lambda number: _("The expected arrival of inbound shipment %(number)s was changed.",
                                   number=number),
    "cancel": lambda number: _("Inbound shipment %(number)s was cancelled.", number=number),
}


def _text(name: str) -> str | None:
    return (request.form.get(name) or "").strip() or None


def _rows(names: tuple[str, ...]) -> list[dict[str, str | None]]:
    """Numbered form rows (`sku-0`, `quantity-0`, ...) that hold something, in order."""
    rows, n = [], 0
    while any(f"{name}-{n}" in request.form for name in names):
        row = {name: (request.form.get(f"{name}-{n}") or "").strip() or None for name in names}
        if any(row.values()):
            rows.append(row)
        n += 1
    return rows


_CANONICAL = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def _money(value: str | None) -> str | None:
    """A price as typed on the page, in its language: "4,20" or "1.234,50" on a Turkish page, "4.20"
    or "1,234.50" on an English one (`typed_numbers`). Anything else is passed on as typed, for the
    schema to refuse in its words ("Enter a number, for example 1,5.")."""
    if not value or not value.strip():
        return value
    try:
        return str(read_decimal(value))
    except ValueError:
        return value


def _money_shown(lines: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """Form rows with each price read by `_money` written back in the page's format for its box
    ("2.50" → "2,50" on a Turkish page); a price that could not be read stays as typed."""
    shown = []
    for line in lines:
        value = line.get(key)
        if isinstance(value, str) and _CANONICAL.fullmatch(value) or isinstance(value, Decimal):
            line = {**line, key: show_decimal(Decimal(value), 2)}
        shown.append(line)
    return shown


def _int(value: str | None) -> Any:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return value  # the schema names it: "Enter a whole number"


def _problems(exc: ServiceError) -> dict[str, str]:
    """A form's field errors (and a taken number or code) as the service gave them, at their fields
    (the template says them in plain words); any other refusal as one sentence — never its machine
    details (state names, versions, lists)."""
    if exc.details and (isinstance(exc, ValidationFailed) or exc.code == "duplicate"):  # shown at their fields
        return {key: str(message) for key, message in exc.details.items()}
    if exc.code == "stale":  # "changed by someone else; reload it and try again"
        return {"__all__": str(exc.message)}
    return {"__all__": error_message(exc)}


def _history(entity: str, entity_id: int) -> list[TransitionLog]:
    return list(db.session.scalars(select(TransitionLog).where(TransitionLog.entity_type == entity,
                                                               TransitionLog.entity_id == entity_id)
                                   .order_by(TransitionLog.id)))


def _choices() -> dict[str, Any]:
    return {"suppliers": db.session.scalars(select(Supplier).where(Supplier.active).order_by(Supplier.code)).all(),
            "locations": admin_queries.visible_locations(current_actor())}


# --- on the way ---------------------------------------------------------------------------------

@bp.get("/inbound/")
@role_required(*MANAGERS)
def inbound():
    actor = current_actor()
    code = request.args.get("location") or None
    location = admin_queries.location_by_code(actor, code) if code else None
    needs = on_the_way(actor, location.id if location else None)
    return render("supervisor/inbound/on_the_way.html", needs=needs, location=location,
                  locations=admin_queries.visible_locations(actor))


# --- suppliers ----------------------------------------------------------------------------------

def _supplier_body() -> dict[str, Any]:
    # An empty code or name is "" (required, fill it in), not None (which reads as "the wrong form").
    return {"code": _text("code") or "", "name": _text("name") or "", "contact": _text("contact"),
            "lead_time_days": _int(_text("lead_time_days")) or 0, "active": request.form.get("active") == "1"}


@bp.route("/suppliers/", methods=["GET", "POST"])
@role_required(*MANAGERS)
def suppliers():
    errors, typed = {}, {}
    if request.method == "POST":
        typed = _supplier_body()
        try:
            supplier = committed(records.create, SUPPLIERS, typed, current_actor())
        except ServiceError as exc:
            errors = _problems(exc)
        else:
            flash(_("Supplier %(code)s added.", code=supplier.code), "success")
            return redirect(url_for("supervisor.suppliers"), 303)
    rows = db.session.scalars(select(Supplier).order_by(Supplier.code)).all()
    return render("supervisor/inbound/suppliers.html", status=422 if errors else 200, suppliers=rows,
                  errors=errors, typed=typed or {"active": True, "lead_time_days": 0})


@bp.route("/suppliers/<code>/", methods=["GET", "POST"])
@role_required(*MANAGERS)
def supplier(code: str):
    record = records.get(SUPPLIERS, code)
    errors, typed = {}, supplier_dict(record)
    if request.method == "POST":
        typed = {**_supplier_body(), "code": record.code}
        try:
            committed(records.update, SUPPLIERS, record.code, typed, current_actor(), partial=False)
        except ServiceError as exc:
            errors = _problems(exc)
        else:
            flash(_("Supplier %(code)s saved.", code=record.code), "success")
            return redirect(url_for("supervisor.suppliers"), 303)
    return render("supervisor/inbound/supplier.html", status=422 if errors else 200, supplier=record,
                  errors=errors, typed=typed)


# --- purchase orders ----------------------------------------------------------------------------

@bp.get("/purchase-orders/")
@role_required(*MANAGERS)
def purchase_orders():
    actor = current_actor()
    state = request.args.get("state") or None
    stmt = (select(PurchaseOrder).order_by(PurchaseOrder.id.desc())
            .options(selectinload(PurchaseOrder.supplier), selectinload(PurchaseOrder.destination),
                     selectinload(PurchaseOrder.lines)))
    if actor.location_ids is not None:
        stmt = stmt.where(PurchaseOrder.destination_id.in_(actor.location_ids))
    if state in PURCHASE_ORDER_STATES:
        stmt = stmt.where(PurchaseOrder.state == state)
    return render("supervisor/inbound/purchase_orders.html", orders=paginate(stmt, page_arg()), state=state,
                  states=PURCHASE_ORDER_STATES)


def _po_body(number: str | None = None) -> dict[str, Any]:
    lines = [{"sku": row["sku"], "quantity": _int(row["quantity"]), "unit_cost": _money(row["unit_cost"])}
             for row in _rows(("sku", "quantity", "unit_cost"))]
    return {"number": number or _text("number"), "supplier": _text("supplier"), "destination": _text("destination"),
            "expected_at": _text("expected_at"), "note": _text("note"), "lines": lines}


def _po_form(po: PurchaseOrder | None, typed: dict[str, Any], errors: dict[str, str]):
    lines = _money_shown(list(typed.get("lines") or []), "unit_cost")
    return render("supervisor/inbound/purchase_order_form.html", status=422 if errors else 200, po=po, typed=typed,
                  lines=lines + [{}] * EMPTY_ROWS, errors=errors, **_choices())


@bp.route("/purchase-orders/new", methods=["GET", "POST"])
@role_required(*MANAGERS)
def new_purchase_order():
    if request.method == "GET":
        return _po_form(None, {}, {})
    typed = _po_body()
    try:
        po = create_purchase_order(typed, current_actor())
    except ServiceError as exc:
        return _po_form(None, typed, _problems(exc))
    flash(_("Purchase order %(number)s saved as a draft. Send it to the supplier when it is ready.",
            number=po.number), "success")
    return redirect(url_for("supervisor.purchase_order", purchase_order_id=po.id), 303)


@bp.route("/purchase-orders/<int:purchase_order_id>/edit", methods=["GET", "POST"])
@role_required(*MANAGERS)
def edit_purchase_order(purchase_order_id: int):
    po = visible_purchase_order(purchase_order_id, current_actor())
    if request.method == "GET":
        typed = {"number": po.number, "supplier": po.supplier.code, "destination": po.destination.code,
                 "expected_at": po.expected_at.date().isoformat() if po.expected_at else None, "note": po.note,
                 "lines": [{"sku": line.product.sku, "quantity": line.quantity,
                            "unit_cost": show_decimal(line.unit_cost, 2) if line.unit_cost is not None else None}
                           for line in po.lines]}
        return _po_form(po, typed, {})
    typed = _po_body(po.number)
    try:
        run_purchase_order_command(po.id, "edit", typed, current_actor(), expected_version=_int(_text("version")))
    except ServiceError as exc:
        return _po_form(po, typed, _problems(exc))
    flash(_("Purchase order %(number)s saved.", number=po.number), "success")
    return redirect(url_for("supervisor.purchase_order", purchase_order_id=po.id), 303)


@bp.get("/purchase-orders/<int:purchase_order_id>/")
@role_required(*MANAGERS)
def purchase_order(purchase_order_id: int):
    return _po_page(purchase_order_id)


def _po_page(purchase_order_id: int, errors: dict[str, str] | None = None, status: int = 200):
    po = visible_purchase_order(purchase_order_id, current_actor())
    return render("supervisor/inbound/purchase_order.html", status=status, po=po, errors=errors or {},
                  transitions=PURCHASE_ORDER_TRANSITIONS, labels=PO_LABELS, history=_history("purchase_order", po.id),
                  shipments=db.session.scalars(
                      # IN, not DISTINCT: PostgreSQL cannot compare the json `documents` column.
                      select(InboundShipment).where(InboundShipment.id.in_(
                          select(InboundShipment.id).join(InboundShipment.lines).join(PurchaseOrderLine)
                          .where(PurchaseOrderLine.purchase_order_id == po.id)))).all())


@bp.post("/purchase-orders/<int:purchase_order_id>/commands/<command>")
@role_required(*MANAGERS)
def purchase_order_command(purchase_order_id: int, command: str):
    if command not in PURCHASE_ORDER_TRANSITIONS or command in ("edit", "receive"):
        abort(404)
    params: dict[str, Any] = {}
    if command in ("close_short", "cancel"):
        params["reason"] = _text("reason")
    if command == "confirm" and _text("expected_at"):
        params["expected_at"] = _text("expected_at")
    try:
        po = run_purchase_order_command(purchase_order_id, command, params, current_actor(),
                                        expected_version=_int(_text("version")))
    except ServiceError as exc:
        if exc.status == 404:
            raise
        return _po_page(purchase_order_id, _problems(exc), status=exc.status)
    flash(PO_DONE[command](po.number), "success")
    return redirect(url_for("supervisor.purchase_order", purchase_order_id=po.id), 303)


# --- inbound shipments --------------------------------------------------------------------------

@bp.get("/inbound-shipments/")
@role_required(*MANAGERS)
def inbound_shipments():
    actor = current_actor()
    status = request.args.get("status") or None
    stmt = (select(InboundShipment).order_by(InboundShipment.eta.is_(None), InboundShipment.eta, InboundShipment.id)
            .options(selectinload(InboundShipment.destination)))
    if actor.location_ids is not None:
        stmt = stmt.where(InboundShipment.destination_id.in_(actor.location_ids))
    if status in INBOUND_SHIPMENT_STATES:
        stmt = stmt.where(InboundShipment.status == status)
    return render("supervisor/inbound/shipments.html", shipments=paginate(stmt, page_arg()), status_filter=status,
                  statuses=INBOUND_SHIPMENT_STATES)


def _shipment_body() -> dict[str, Any]:
    lines = [{"purchase_order": row["purchase_order"], "sku": row["sku"], "quantity": _int(row["quantity"])}
             for row in _rows(("purchase_order", "sku", "quantity"))]
    documents = [{"name": row["doc_name"], "url": row["doc_url"]} for row in _rows(("doc_name", "doc_url"))]
    return {"number": _text("number"), "carrier": _text("carrier"), "container_number": _text("container_number"),
            "tracking_number": _text("tracking_number"), "eta": _text("eta"), "documents": documents, "lines": lines}


@bp.route("/inbound-shipments/new", methods=["GET", "POST"])
@role_required(*MANAGERS)
def new_inbound_shipment():
    typed: dict[str, Any] = {}
    errors: dict[str, str] = {}
    if request.method == "POST":
        typed = _shipment_body()
        try:
            shipment = create_inbound_shipment(typed, current_actor())
        except ServiceError as exc:
            errors = _problems(exc)
        else:
            flash(_("Inbound shipment %(number)s booked.", number=shipment.number), "success")
            return redirect(url_for("supervisor.inbound_shipment", shipment_id=shipment.id), 303)
    elif request.args.get("purchase_order"):
        raw = request.args["purchase_order"]  # an id the database can hold, or none (404), never a 500
        po = visible_purchase_order(int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 9 else 0,
                                    current_actor())
        still_open = open_to_ship(po)  # less what other shipments on their way already carry
        typed = {"lines": [{"purchase_order": po.number, "sku": line.product.sku, "quantity": still_open[line.id]}
                           for line in po.lines if still_open[line.id]]}
    return render("supervisor/inbound/shipment_form.html", status=422 if errors else 200, typed=typed,
                  lines=list(typed.get("lines") or []) + [{}] * EMPTY_ROWS,
                  documents=list(typed.get("documents") or []) + [{}] * 2, errors=errors)


@bp.get("/inbound-shipments/<int:shipment_id>/")
@role_required(*MANAGERS)
def inbound_shipment(shipment_id: int):
    return _shipment_page(shipment_id)


def _shipment_page(shipment_id: int, errors: dict[str, str] | None = None, status: int = 200):
    shipment = visible_inbound_shipment(shipment_id, current_actor())
    return render("supervisor/inbound/shipment.html", status=status, shipment=shipment, errors=errors or {},
                  transitions=INBOUND_SHIPMENT_TRANSITIONS, labels=SHIPMENT_LABELS, history=_history("inbound_shipment", shipment.id))


@bp.post("/inbound-shipments/<int:shipment_id>/commands/<command>")
@role_required(*MANAGERS)
def inbound_shipment_command(shipment_id: int, command: str):
    if command not in INBOUND_SHIPMENT_TRANSITIONS or command == "receive":
        abort(404)
    params = {name: _text(name) for name in ("occurred_at", "eta", "note") if _text(name)}
    try:
        shipment = run_inbound_shipment_command(shipment_id, command, params, current_actor(),
                                                expected_version=_int(_text("version")))
    except ServiceError as exc:
        if exc.status == 404:
            raise
        return _shipment_page(shipment_id, _problems(exc), status=exc.status)
    flash(SHIPMENT_DONE[command](shipment.number), "success")
    return redirect(url_for("supervisor.inbound_shipment", shipment_id=shipment.id), 303)


# --- reorder points -----------------------------------------------------------------------------

@bp.route("/reorder-points/", methods=["GET", "POST"])
@role_required(*MANAGERS)
def reorder_points():
    actor = current_actor()
    errors, typed = {}, {}
    if request.method == "POST":
        typed = {"location": _text("location"), "sku": _text("sku"), "reorder_point": _int(_text("reorder_point")),
                 "reorder_quantity": _int(_text("reorder_quantity")), "supplier": _text("supplier")}
        try:
            committed(requisitions_service.set_reorder_point, typed, actor)
        except ServiceError as exc:
            errors = _problems(exc)
        else:
            flash(_("Reorder point for %(sku)s at %(location)s saved.", sku=typed["sku"], location=typed["location"]),
                  "success")
            return redirect(url_for("supervisor.reorder_points"), 303)
    stmt = (select(ReorderPoint).order_by(ReorderPoint.location_id, ReorderPoint.id)
            .options(selectinload(ReorderPoint.location), selectinload(ReorderPoint.product),
                     selectinload(ReorderPoint.supplier)))
    if actor.location_ids is not None:
        stmt = stmt.where(ReorderPoint.location_id.in_(actor.location_ids))
    return render("supervisor/inbound/reorder_points.html", status=422 if errors else 200,
                  points=paginate(stmt, page_arg()), errors=errors, typed=typed, **_choices())


@bp.post("/reorder-points/<int:point_id>/delete")
@role_required(*MANAGERS)
def delete_reorder_point(point_id: int):
    committed(requisitions_service.delete_reorder_point, point_id, current_actor())
    flash(_("Reorder point removed."), "success")
    return redirect(url_for("supervisor.reorder_points"), 303)


# --- requisitions and quotes --------------------------------------------------------------------

@bp.get("/requisitions/")
@role_required(*MANAGERS)
def requisitions():
    actor = current_actor()
    show = request.args.get("show") or "open"
    stmt = select(Requisition).order_by(Requisition.id.desc()).options(selectinload(Requisition.location),
                                                                        selectinload(Requisition.lines))
    if actor.location_ids is not None:
        stmt = stmt.where(Requisition.location_id.in_(actor.location_ids))
    if show == "open":
        stmt = stmt.where(Requisition.state.in_(requisitions_service.OPEN_REQUISITION_STATES))
    return render("supervisor/inbound/requisitions.html", requisitions=paginate(stmt, page_arg()), show=show,
                  locations=admin_queries.visible_locations(actor))


@bp.post("/requisitions/propose")
@role_required(*MANAGERS)
def propose_requisitions():
    counts = committed(requisitions_service.propose_requisitions, f"{current_actor().label}")
    flash(_("%(count)s line(s) proposed.", count=counts["lines"]) if counts["lines"]
          else _("Nothing to propose: stock and what is on the way cover the reorder points and parked orders."),
          "success")
    return redirect(url_for("supervisor.requisitions"), 303)


@bp.post("/requisitions/new")
@role_required(*MANAGERS)
def new_requisition():
    try:
        requisition = committed(requisitions_service.create_requisition, _text("location") or "", current_actor())
    except ServiceError as exc:
        flash(" ".join(_problems(exc).values()), "error")
        return redirect(url_for("supervisor.requisitions"), 303)
    return redirect(url_for("supervisor.requisition", requisition_id=requisition.id), 303)


@bp.get("/requisitions/<int:requisition_id>/")
@role_required(*MANAGERS)
def requisition(requisition_id: int):
    return _requisition_page(requisition_id)


def _requisition_page(requisition_id: int, errors: dict[str, str] | None = None, typed: dict | None = None,
                      status: int = 200):
    actor = current_actor()
    found = requisitions_service.visible_requisition(requisition_id, actor)
    quotes = db.session.scalars(select(Quote).where(Quote.requisition_id == found.id).order_by(Quote.id)).all()
    typed = typed or {"lines": requisitions_service.quote_draft_lines(found), "lead_time_days": None,
                      "supplier": next((line.supplier.code for line in found.lines if line.supplier), None)}
    typed = {**typed, "lines": _money_shown(list(typed.get("lines") or []), "unit_price")}
    return render("supervisor/inbound/requisition.html", status=status, requisition=found, quotes=quotes,
                  errors=errors or {}, typed=typed, **_choices())


@bp.post("/requisitions/<int:requisition_id>/lines")
@role_required(*MANAGERS)
def add_requisition_line(requisition_id: int):
    try:
        committed(requisitions_service.add_requisition_line, requisition_id, _text("sku") or "",
                  _int(_text("quantity")), current_actor())
    except ServiceError as exc:
        if exc.status == 404:
            raise
        return _requisition_page(requisition_id, {k if k == "__all__" else f"add.{k}": v
                                                     for k, v in _problems(exc).items()}, status=exc.status)
    return redirect(url_for("supervisor.requisition", requisition_id=requisition_id), 303)


@bp.post("/requisitions/<int:requisition_id>/lines/<int:line_id>/delete")
@role_required(*MANAGERS)
def remove_requisition_line(requisition_id: int, line_id: int):
    committed(requisitions_service.remove_requisition_line, requisition_id, line_id, current_actor())
    return redirect(url_for("supervisor.requisition", requisition_id=requisition_id), 303)


@bp.post("/requisitions/<int:requisition_id>/dismiss")
@role_required(*MANAGERS)
def dismiss_requisition(requisition_id: int):
    committed(requisitions_service.dismiss_requisition, requisition_id, current_actor())
    flash(_("Requisition dismissed."), "success")
    return redirect(url_for("supervisor.requisitions"), 303)


@bp.post("/requisitions/<int:requisition_id>/quotes")
@role_required(*MANAGERS)
def quote_requisition(requisition_id: int):
    lines = [{"sku": row["sku"], "quantity": _int(row["quantity"]), "unit_price": _money(row["unit_price"])}
             for row in _rows(("sku", "quantity", "unit_price"))]
    typed = {"supplier": _text("supplier"), "lead_time_days": _int(_text("lead_time_days")) or 0, "lines": lines}
    try:
        committed(requisitions_service.quote_requisition, requisition_id, typed, current_actor())
    except ServiceError as exc:
        if exc.status == 404:
            raise
        return _requisition_page(requisition_id, _problems(exc), typed, status=exc.status)
    flash(_("Quote saved. Accept it to make a purchase order."), "success")
    return redirect(url_for("supervisor.requisition", requisition_id=requisition_id), 303)


@bp.post("/quotes/<int:quote_id>/accept")
@role_required(*MANAGERS)
def accept_quote(quote_id: int):
    try:
        po = committed(requisitions_service.accept_quote, quote_id, current_actor())
    except ServiceError as exc:
        if exc.status == 404:
            raise
        flash(exc.message, "error")
        quote = requisitions_service.visible_quote(quote_id, current_actor())
        return redirect(url_for("supervisor.requisition", requisition_id=quote.requisition_id), 303)
    flash(_("Draft purchase order %(number)s made from the quote. Check it and send it to the supplier.",
            number=po.number), "success")
    return redirect(url_for("supervisor.purchase_order", purchase_order_id=po.id), 303)
