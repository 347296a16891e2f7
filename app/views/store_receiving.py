"""The receiving screen (SPEC §14), for stores and warehouses: what arrives here — customer
returns, incoming transfers, purchase orders and inbound shipments — then scan against the
expected lines with a running count, review over/short/damaged with a reason, finish.

Returns keep their running count in the database (`count_return_scan`), so a reload or a second
tablet sees it; so do purchase orders (`purchase_order_lines.scanned`) and inbound shipments
(`inbound_shipment_lines.scanned`): each scan keeps the page's counts, a page opened later starts
from them, and any booking sets them back to 0. Purchase orders and inbound shipments are counted
in the page: each scan is a form post carrying the counts so far (`count-<sku>`), and Finish
passes them with a receipt key and the version the count began with (for a shipment also its
purchase orders' versions, `basis`) to `inbound.receiving`, which books a count once; a count
that began before a booking is neither kept nor booked. Incoming
transfers open their own page, which already scans and receives. Store counter returns are
started here too (find the order, choose the items).
"""

from __future__ import annotations

import uuid
from typing import Any

import htmx_flask
from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import login_required
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import (
    InboundShipment,
    InboundShipmentLine,
    ProductBarcode,
    PurchaseOrder,
    PurchaseOrderLine,
    PurchaseOrderReceipt,
    StockLocation,
    Transfer,
)
from app.models.returns import Return
from app.services.errors import Conflict, ServiceError, ValidationFailed
from app.services.human_input import say
from app.services.inbound import receiving as inbound_receiving
from app.services.returns import (
    FinishedLine,
    count_return_scan,
    create_return,
    finish_receiving,
    reset_return_scans,
)
from app.services.returns.lookup import find_shipped_orders, return_at, returnable_lines, returns_arriving
from app.services.returns.states import EXPECTED_RETURN_STATES, RECEIVABLE_RETURN_STATES
from app.services.transitions import INBOUND_SHIPMENT_TRANSITIONS
from app.views import whole_number, whole_number_refused
from app.views.htmx import render, wants_fragment
from app.views.store import (
    after_command,
    bp,
    current_actor,
    error_message,
    form_drawn_at,
    form_version,
    location_or_404,
)

KINDS = ("purchase-orders", "inbound-shipments")
# A return the receiving screen has finished (received and inspected): Already finished.
DONE_RETURN_STATES = ("inspected", "restocked", "written_off")


def _incoming_transfers(location: StockLocation) -> list[Transfer]:
    # The rows show the source store and the units: loaded with the list, not one row at a time.
    return list(db.session.scalars(select(Transfer).where(Transfer.destination_id == location.id,
                                                          Transfer.state == "in_transit")
                                   .options(selectinload(Transfer.source), selectinload(Transfer.items))
                                   .order_by(Transfer.updated_at, Transfer.id)))


@bp.get("/<code>/receiving")
@login_required
def receiving(code: str):
    location = location_or_404(code)
    actor = current_actor()
    purchase_orders = inbound_receiving.receivable_purchase_orders(actor, location.id)
    return render("store/receiving/list.html", "store/receiving/_list.html", location=location,
                  returns=returns_arriving(location.id), transfers=_incoming_transfers(location),
                  purchase_orders=purchase_orders, carried=_carried_by([po.id for po in purchase_orders]),
                  inbound_shipments=inbound_receiving.receivable_inbound_shipments(actor, location.id))


def _carried_by(purchase_order_ids: list[int]) -> dict[int, list[tuple[InboundShipment, int]]]:
    """Per purchase order, the inbound shipments (containers) on their way that carry its lines,
    with the units each carries of it. Those goods are counted on the container's page, where
    they arrive (docs/decisions.md): the purchase order's page and row say so and link there."""
    if not purchase_order_ids:
        return {}
    rows = db.session.execute(
        select(PurchaseOrderLine.purchase_order_id, InboundShipment, func.sum(InboundShipmentLine.quantity))
        .join(InboundShipmentLine, InboundShipmentLine.shipment_id == InboundShipment.id)
        .join(PurchaseOrderLine, PurchaseOrderLine.id == InboundShipmentLine.purchase_order_line_id)
        .where(PurchaseOrderLine.purchase_order_id.in_(purchase_order_ids),
               InboundShipment.status.in_(INBOUND_SHIPMENT_TRANSITIONS["receive"].sources))
        .group_by(PurchaseOrderLine.purchase_order_id, InboundShipment.id)
        .order_by(InboundShipment.id))
    carried: dict[int, list[tuple[InboundShipment, int]]] = {}
    for po_id, shipment, units in rows:
        carried.setdefault(po_id, []).append((shipment, int(units)))
    return carried


# ------------------------------------------------------------------------------ returns

def return_or_404(location: StockLocation, return_id: int) -> Return:
    ret = return_at(location.id, return_id)
    if ret is None:
        abort(404)
    return ret


def return_context(location: StockLocation, ret: Return) -> dict[str, Any]:
    scanning = ret.state in EXPECTED_RETURN_STATES
    return {"location": location, "ret": ret, "scanning": scanning,
            "counted": sum(i.scanned for i in ret.items), "expected": sum(i.quantity for i in ret.items)}


@bp.get("/<code>/receiving/returns/<int:return_id>")
@login_required
def receive_return(code: str, return_id: int):
    location = location_or_404(code)
    return render("store/receiving/return.html", "store/receiving/_return.html",
                  **return_context(location, return_or_404(location, return_id)))


@bp.post("/<code>/receiving/returns/<int:return_id>/scan")
@login_required
def return_scan(code: str, return_id: int):
    """One scan = one unit counted (the answer is the feedback line plus the changed row and
    counter out of band, like a package scan)."""
    location = location_or_404(code)
    return_or_404(location, return_id)
    barcode = request.form.get("barcode", "").strip()[:100]
    error, status, counted_items = None, 200, []
    try:
        if not barcode:
            message = _("Scan a barcode or type it, then press Enter.")
            raise ValidationFailed(message, {"barcode": message})
        _ret, item = count_return_scan(return_id, barcode, current_actor())
        counted_items = [item]
    except ServiceError as exc:
        error, status = _scan_error(exc), exc.status
    ret = return_or_404(location, return_id)
    back = url_for("store.receive_return", code=location.code, return_id=ret.id)
    if not wants_fragment():
        return after_command(back, error or _("Counted %(barcode)s.", barcode=barcode),
                             "error" if error else "success", "", "")
    return render("store/receiving/_return_scan.html", "store/receiving/_return_scan.html", status=status,
                  scan_error=error, scanned=barcode, counted_items=counted_items, scan_column="scanned",
                  **return_context(location, ret))


def _scan_error(exc: ServiceError) -> str:
    if exc.code == "command_not_allowed":
        return _("This return is already received: nothing more to count.")
    if exc.code == "too_many":
        return str(exc.message)
    if exc.status == 422 and "barcode" in (exc.details or {}):
        return _("This item is not on this return. Put it aside and ask your supervisor.")
    return error_message(exc)


@bp.post("/<code>/receiving/returns/<int:return_id>/reset")
@login_required
def return_reset(code: str, return_id: int):
    location = location_or_404(code)
    return_or_404(location, return_id)
    try:
        reset_return_scans(return_id, current_actor())
        message, category = _("Counts cleared: scan every item again."), "success"
    except ServiceError as exc:
        message, category = error_message(exc), "error"
    ret = return_or_404(location, return_id)
    return after_command(url_for("store.receive_return", code=location.code, return_id=ret.id), message, category,
                         "store/receiving/return.html", "store/receiving/_return.html",
                         **return_context(location, ret))


def _finish_lines(ret: Return) -> tuple[list[FinishedLine], dict[str, str]]:
    """The review form's lines; counts that are not whole numbers come back as field errors."""
    lines, errors = [], {}
    for item in ret.items:
        sku = item.product.sku
        raw_received = request.form.get(f"received-{item.id}", "").strip()
        raw_damaged = request.form.get(f"damaged-{item.id}", "0").strip() or "0"
        if ret.state not in EXPECTED_RETURN_STATES:
            raw_received = str(item.received)
        values = []
        for field, raw in (("received", raw_received), ("damaged", raw_damaged)):
            value = whole_number(raw, 6)
            if value is None:
                errors[f"{sku}.{field}"] = whole_number_refused(6)
            values.append(value or 0)
        note = request.form.get(f"note-{item.id}", "").strip()[:500] or None
        lines.append(FinishedLine(sku, values[0], values[1], note))
    return lines, errors


@bp.route("/<code>/receiving/returns/<int:return_id>/finish", methods=["GET", "POST"])
@login_required
def return_finish(code: str, return_id: int):
    """Review what arrived (counts prefilled from the scans), mark damaged units and say why a
    count differs, then finish: receive and inspect in one transaction."""
    location = location_or_404(code)
    ret = return_or_404(location, return_id)
    context = return_context(location, ret)
    if request.method == "GET":
        if ret.state not in RECEIVABLE_RETURN_STATES:
            # Finished (or cancelled): Back, a bookmark or a second tab gets the return as it is,
            # never its form again to send twice.
            return redirect(url_for("store.receive_return", code=location.code, return_id=ret.id), code=303)
        return render("store/receiving/finish.html", "store/receiving/_finish.html", errors={}, values={}, **context)
    lines, errors = _finish_lines(ret)
    values = {line.sku: line for line in lines}
    try:
        if errors:
            raise ValidationFailed(_("Some counts are not valid."), errors)
        finish_receiving(return_id, lines, current_actor(), expected_version=form_version())
    except ServiceError as exc:
        if isinstance(exc, Conflict):
            ret = return_or_404(location, return_id)
            back = url_for("store.receive_return", code=location.code, return_id=ret.id)
            if exc.code not in ("command_not_allowed", "stale"):
                return _after_finish(back, error_message(exc), "info", location, ret)
            if ret.state in DONE_RETURN_STATES:  # a double tap, another tablet: it is finished
                return _after_finish(back, _("Already finished — here is the return as it is now."), "info",
                                     location, ret)
            # Not finished: cancelled, or changed first (marked sent, received through the API).
            message = (_("This return was cancelled meanwhile, so nothing was received. Put the items aside and "
                         "tell your supervisor.") if ret.state == "cancelled" else
                       _("Someone changed this return meanwhile (a colleague, or you in another tab), so it was not "
                         "finished. Here it is as it is now: check the counts, then finish again."))
            return _after_finish(back, message, "info", location, ret, finished=False)
        return render("store/receiving/finish.html", "store/receiving/_finish.html", status=exc.status,
                      errors=_field_errors(ret, exc), values=values,
                      notice={"text": _("Check the lines marked in red."), "category": "error"}, **context)
    ret = return_or_404(location, return_id)
    message = (_("Return %(number)s received: the resellable items are back in stock.", number=ret.number)
               if ret.state == "restocked" else
               _("Return %(number)s received: everything was written off as damaged.", number=ret.number))
    return _after_finish(url_for("store.receiving", code=location.code), message, "success", location, ret)


def _after_finish(redirect_to: str, message: str, category: str, location: StockLocation, ret: Return,
                  finished: bool = True):
    """The return as it is now, in place of the finish form (htmx), with the address and the back
    link of the return's page — not …/finish with "back to counting" for a return that is done
    (`finished`; else the return's page as it is, to count and finish again). Without
    JavaScript: flash and 303 to `redirect_to`."""
    fragment = "store/receiving/_return_finished.html" if finished else "store/receiving/_return.html"
    response = after_command(redirect_to, message, category, "store/receiving/return.html", fragment,
                             **return_context(location, ret))
    if wants_fragment():
        # In place of the …/finish entry (not on top of it): Back then goes to the page before the
        # form, not to the form of a finished return.
        response.headers["HX-Replace-Url"] = url_for("store.receive_return", code=location.code, return_id=ret.id)
    return response


def _field_errors(ret: Return, exc: ServiceError) -> dict[str, str]:
    """Errors by "<sku>.<field>" for the review form (the service names lines by SKU or index)."""
    errors: dict[str, str] = {}
    skus = [item.product.sku for item in ret.items]
    for key, message in (exc.details or {}).items():
        parts = key.split(".")
        if parts[0] == "items" and len(parts) >= 2 and parts[1].isdigit() and int(parts[1]) < len(skus):
            field = parts[2] if len(parts) > 2 else "received"
            field = {"quantity": "received", "resellable": "damaged", "reason": "note"}.get(field, field)
            errors[f"{skus[int(parts[1])]}.{field}"] = str(message)
        elif key in ("items", "__root__"):
            errors["_form"] = str(message)
        else:
            errors[key] = str(message)
    return errors


# ------------------------------------------------------------------------------ counter returns

@bp.route("/<code>/returns/new", methods=["GET", "POST"])
@login_required
def counter_return(code: str):
    """A customer brings goods back: find the order (number, parcel barcode, email, phone, name),
    choose the units and the reason; the return then waits on the receiving screen here."""
    location = location_or_404(code)
    query = (request.values.get("q") or "").strip()[:200]
    orders = find_shipped_orders(query) if query else []
    order = None
    order_id = request.values.get("order", "")
    if whole_number(order_id) is not None:
        order = next((o for o in find_shipped_orders(query) if o.id == int(order_id)), None) if query else None
    errors: dict[str, str] = {}
    if request.method == "POST" and order is not None:
        items = []
        for line in returnable_lines(order):
            raw = request.form.get(f"quantity-{line.product.id}", "").strip() or "0"
            quantity = whole_number(raw, 6)
            if quantity is None:
                errors[line.product.sku] = whole_number_refused(6)
            elif quantity:
                items.append({"sku": line.product.sku, "quantity": quantity,
                              "reason": request.form.get(f"reason-{line.product.id}", "").strip()[:500] or None})
        if not items and not errors:
            errors["_form"] = _("Choose at least one item the customer brings back.")
        if not errors:
            try:
                ret = create_return({"order": order.id, "location": location.code, "items": items},
                                    current_actor(), source="counter", form_drawn_at=form_drawn_at())
            except ServiceError as exc:
                if not (isinstance(exc, Conflict) and exc.code == "return_already_taken"):
                    errors = {"_form": error_message(exc)}
                else:
                    # The same form sent again (a double tap, Back and Take again, a second tab):
                    # the return it asked for is there already — say so and show it, never a second.
                    taken = db.session.get(Return, exc.details["return"])
                    flash(_("Already done — return %(number)s was already taken with these items. Here it is: it "
                            "waits to be received.", number=taken.number), "info")
                    return redirect(url_for("store.receive_return", code=location.code, return_id=taken.id),
                                    code=303)
            else:
                return redirect(url_for("store.receive_return", code=location.code, return_id=ret.id), code=303)
    lines = returnable_lines(order) if order is not None else []
    # Returns of this order already taken here and still to finish (Back after Take the return, a
    # second look): shown with a link, so the same goods are not taken back twice.
    started = list(db.session.scalars(select(Return).where(
        Return.order_id == order.id, Return.location_id == location.id,
        Return.state.in_(RECEIVABLE_RETURN_STATES)).order_by(Return.id))) if order is not None else []
    # Nothing more can come back: say whether it has come back, or is only taken (here or at
    # another store) and still waits to be received — "has come back" only when it has.
    returnable = any(line.returnable for line in lines)
    waiting = (not returnable and order is not None and db.session.scalar(select(Return.id).where(
        Return.order_id == order.id, Return.state.in_(EXPECTED_RETURN_STATES)).limit(1)) is not None)
    return render("store/receiving/counter.html", "store/receiving/_counter.html",
                  status=422 if errors else 200, location=location, query=query, orders=orders, order=order,
                  lines=lines, errors=errors, form=request.form, started=started,
                  returnable=returnable, waiting=waiting)


# ------------------------------------------------------------------------------ purchase orders, inbound shipments

def _expected_lines(kind: str, record_id: int):
    actor = current_actor()
    try:
        if kind == "purchase-orders":
            return inbound_receiving.expected_purchase_order_lines(record_id, actor)
        return inbound_receiving.expected_inbound_shipment_lines(record_id, actor)
    except ServiceError:
        abort(404)


def _inbound_record(kind: str, record_id: int, location: StockLocation):
    model = PurchaseOrder if kind == "purchase-orders" else InboundShipment
    record = db.session.get(model, record_id)
    if record is None or record.destination_id != location.id:
        abort(404)
    return record


def _form_counts(lines) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """The counts this page carries (count-/damaged-/reason-<sku>), and what is wrong with them
    per SKU: a count that is not a whole number of 0 or more (typed by hand: "-1", "x", "1.5")
    is named on its line, never read as 0, and damaged units need a reason."""
    counts: dict[str, dict[str, Any]] = {}
    problems: dict[str, str] = {}
    for line in lines:
        entry = {}
        for field in ("count", "damaged"):
            raw = request.form.get(f"{field}-{line.sku}", "").strip()
            value = whole_number(raw, 6)
            if raw and value is None:
                problems[line.sku] = whole_number_refused(6)
            entry[field] = value or 0
        entry["reason"] = request.form.get(f"reason-{line.sku}", "").strip()[:500]
        if entry["damaged"] and not entry["reason"] and line.sku not in problems:
            problems[line.sku] = _("Say why the units are damaged.")
        counts[line.sku] = entry
    return counts, problems


@bp.route("/<code>/receiving/<kind>/<int:record_id>", methods=["GET", "POST"])
@login_required
def receive_inbound(code: str, kind: str, record_id: int):
    if kind not in KINDS:
        abort(404)
    location = location_or_404(code)
    record = _inbound_record(kind, record_id, location)
    lines = _expected_lines(kind, record_id)
    counts, problems = _form_counts(lines) if request.method == "POST" else (
        {line.sku: {"count": 0, "damaged": 0, "reason": ""} for line in lines}, {})
    shipment = kind == "inbound-shipments"
    # What the count began with besides the version: a shipment's purchase orders' versions (read
    # before the kept counts, so a booking in between leaves an old basis that keeps nothing).
    basis = (request.form.get("basis", "")[:2000] if request.method == "POST" else
             inbound_receiving.shipment_basis(record_id)) if shipment else ""
    if request.method == "GET":
        # Purchase orders and inbound shipments keep their running count (a reload, another
        # tablet): start from it.
        kept = (inbound_receiving.shipment_scanned_counts(record_id) if shipment
                else inbound_receiving.scanned_counts(record_id))
        for sku, entry in counts.items():
            entry["count"] = kept.get(sku, 0)
    receipt_key = request.form.get("receipt_key") or uuid.uuid4().hex
    version = form_version() if request.method == "POST" else record.version
    notice, status, errors = None, 200, {}
    action = request.form.get("action", "scan")
    expecting = inbound_receiving.still_expected(record)
    nothing_expected = _("Nothing more is expected on %(number)s: everything has arrived, or the order was closed "
                         "or cancelled. Put anything that came aside and tell your supervisor.", number=record.number)
    if not expecting and not (request.method == "POST" and action == "finish"):
        # Everything arrived, or the order was closed or cancelled: nothing to count, said plainly.
        # (Finish still goes to the service: the same count finished again is replayed, not refused.)
        notice = {"text": nothing_expected, "category": "error" if request.method == "POST" else "info"}
        status = 409 if request.method == "POST" else 200
    elif request.method == "POST" and action == "scan":
        barcode = request.form.get("barcode", "").strip()[:100]
        product_id = db.session.scalar(select(ProductBarcode.product_id).where(ProductBarcode.barcode == barcode)) \
            if barcode else None
        line = next((ln for ln in lines if product_id is not None and barcode in ln.barcodes), None)
        if not barcode:
            notice, status = {"text": _("Scan a barcode or type it, then press Enter."), "category": "error"}, 422
        elif line is None:
            notice, status = {"text": _("%(barcode)s is not on this delivery. Put it aside and ask your supervisor.",
                                        barcode=barcode), "category": "error"}, 422
        else:
            counts[line.sku]["count"] += 1
            count = counts[line.sku]["count"]
            # Kept unless a count typed on another line is wrong; a count from before a booking
            # (of the purchase order, or of the shipment or its orders) is not kept either.
            running = {sku: c["count"] for sku, c in counts.items()}
            if shipment and not problems:
                inbound_receiving.keep_shipment_scanned_counts(record_id, running, version, basis, current_actor())
            elif not problems:
                inbound_receiving.keep_scanned_counts(record_id, running, version)
            notice = {"text": _("Counted %(name)s (%(count)s).", name=line.name, count=count), "category": "success"}
            if count > line.outstanding:
                # The scan that goes over says so at once (like a return's "1 more than listed"),
                # not only at Finish, so the unit can be put aside while it is still in hand.
                notice = {"text": _("Counted %(name)s (%(count)s): %(over)s more than expected. Put it aside, or "
                                    "give the reason on its line when you finish.", name=line.name, count=count,
                                    over=count - line.outstanding), "category": "warning"}
    elif request.method == "POST" and action == "finish":
        counted = [{"sku": sku, "quantity": c["count"], "damaged": c["damaged"], "reason": c["reason"] or None}
                   for sku, c in sorted(counts.items()) if c["count"] or c["damaged"]]
        try:
            if problems:
                raise ValidationFailed(_("Check the lines marked in red: nothing was booked."), {})
            if not counted:
                raise ValidationFailed(_("Nothing is counted yet: scan the items first."), {})
            if shipment:
                inbound_receiving.receive_inbound_shipment(record_id, counted, current_actor(), receipt_key=receipt_key,
                                                           expected_version=version, expected_basis=basis)
            else:
                inbound_receiving.receive_purchase_order(record_id, counted, current_actor(), receipt_key=receipt_key,
                                                         expected_version=version)
        except ServiceError as exc:
            status = exc.status
            errors = {k: str(say(str(v), k)) for k, v in (exc.details or {}).items()}  # in the page's language
            # A stale count: the delivery's version moved on — goods booked on another tablet, or
            # the order changed (edited, its shipment received) — so say what is sure: not booked.
            text = (_("This delivery changed meanwhile (received on another tablet, or its order was changed), so "
                      "nothing was booked: count again from the current figures.")
                    if exc.code == "stale" else nothing_expected if exc.code == "command_not_allowed"
                    else error_message(exc) or _("Check the lines marked in red."))
            notice = {"text": text, "category": "error"}
            if exc.code in ("stale", "command_not_allowed"):
                db.session.expire_all()
                record = _inbound_record(kind, record_id, location)
                version = record.version
                basis = inbound_receiving.shipment_basis(record_id) if shipment else ""
                lines = _expected_lines(kind, record_id)
                counts = {line.sku: {"count": 0, "damaged": 0, "reason": ""} for line in lines}
                expecting = inbound_receiving.still_expected(record)
                if not expecting:
                    # Nothing more to count: received meanwhile (another tablet finished its own
                    # count first) is already done; closed or cancelled is said as it is.
                    status, notice = _nothing_left_to_count(kind, record, nothing_expected)
        else:
            # Back to what else arrives, with the message; htmx follows the redirect as a page load.
            flash(_finished_message(kind, record_id, location), "success")
            target = url_for("store.receiving", code=location.code)
            if wants_fragment():
                return htmx_flask.make_response("", 200, redirect=target)
            return redirect(target, code=303)
    line_errors = dict(problems) if action == "finish" else {}
    for key, message in errors.items():
        parts = key.split(".")
        if parts[0] == "lines" and len(parts) > 1 and parts[1].isdigit():
            counted_skus = [sku for sku, c in sorted(counts.items()) if c["count"] or c["damaged"]]
            if int(parts[1]) < len(counted_skus):
                line_errors[counted_skus[int(parts[1])]] = message
    return render("store/receiving/inbound.html", "store/receiving/_inbound.html", status=status, location=location,
                  kind=kind, record=record, lines=lines, counts=counts, receipt_key=receipt_key, version=version,
                  basis=basis, carried=[] if shipment else _carried_by([record_id]).get(record_id, []),
                  orders=sorted({line.purchase_order_number for line in lines}) if shipment else [],
                  notice=notice, line_errors=line_errors, expecting=expecting,
                  counted=_counted_toward_expected(lines, counts),
                  expected=sum(line.outstanding for line in lines))


def _nothing_left_to_count(kind: str, record, nothing_expected: str) -> tuple[int, dict[str, str]]:
    """A Finish refused because the delivery expects nothing more now: "Already received" when it
    was received meanwhile (another tablet finished first: counting again would book the goods
    twice), else why nothing is expected (closed, cancelled, or a container whose goods all came
    otherwise)."""
    if kind == "purchase-orders":
        received = record.state == "received"
    else:  # delivered by its own count, not marked delivered because its lines arrived otherwise
        received = record.status == "delivered" and db.session.scalar(select(PurchaseOrderReceipt.id).where(
            PurchaseOrderReceipt.inbound_shipment_id == record.id).limit(1)) is not None
    if received:
        return 200, {"text": _("Already received — %(number)s was received meanwhile (on another tablet, or by a "
                               "colleague), so this count was not booked again. Nothing more to count here.",
                               number=record.number), "category": "info"}
    return 409, {"text": nothing_expected, "category": "error"}


def _finished_message(kind: str, record_id: int, location: StockLocation) -> str:
    """After Finish: "received" only when nothing more is expected; a partial delivery says how
    many units the purchase order (or shipment) still expects, so it does not look complete."""
    db.session.expire_all()  # the receipt committed in its own transaction: read what it left
    record = _inbound_record(kind, record_id, location)
    still = sum(line.outstanding for line in _expected_lines(kind, record_id)) if \
        inbound_receiving.still_expected(record) else 0
    if still:
        return ngettext("%(number)s partly received: %(num)s unit still expected.",
                        "%(number)s partly received: %(num)s units still expected.", still, number=record.number)
    return _("%(number)s received: the stock is updated.", number=record.number)


def _counted_toward_expected(lines, counts: dict[str, dict[str, Any]]) -> int:
    """The running count: each line counts up to what it expects, so one line's extra units do
    not make up for another's missing ones (5 bags of 4 and 2 jeans of 3 is 11 of 12, not 12)."""
    return sum(min(counts[line.sku]["count"], line.outstanding) for line in lines)
