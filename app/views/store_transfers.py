"""Store transfer screens: Expected (incoming), Dispatch and In transit (outgoing) lists, the
transfer page, scanning its items, and commands."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import htmx_flask
from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import login_required

from app.i18n import lower
from app.models import StockLocation, Transfer
from app.services import queues_store
from app.services.errors import Conflict, ServiceError, ValidationFailed
from app.services.pagination import PageArgs
from app.services.state_labels import state_label
from app.services.transfers import (
    SCAN_COLUMNS,
    count_transfer_scan,
    run_transfer_command,
    scan_side,
    scanned_count,
)
from app.services.transitions import TRANSFER_TRANSITIONS, allowed_transfer_commands
from app.views import number_or_text, whole_number, whole_number_refused
from app.views.htmx import render, wants_fragment
from app.views.store import (
    after_command,
    bp,
    current_actor,
    error_message,
    form_version,
    location_or_404,
    stale_message,
)
from app.views.store_actions import Submitted, build_actions, confirm_question, done_message, params_from_form

# Which side of a transfer does the work: the sender packs and dispatches, the receiver receives.
SENDER_COMMANDS = ("ready_for_dispatch", "dispatch", "report_missing", "out_of_stock")
RECEIVER_COMMANDS = ("receive",)
DIRECTIONS = (("expected", _l("Expected")), ("dispatch", _l("Dispatch")), ("sent", _l("In transit")))
# The whole-transfer steps that scanning comes before: outlined until every unit is counted.
SCANNED_STEPS = ("ready_for_dispatch", "dispatch", "receive")


def transfer_or_404(location: StockLocation, transfer_id: int) -> Transfer:
    transfer = queues_store.transfer_at(location.id, transfer_id)
    if transfer is None:
        abort(404)
    return transfer


def other_side_commands(location: StockLocation, transfer: Transfer) -> tuple[str, ...]:
    """Commands that belong to the other store of this transfer."""
    return RECEIVER_COMMANDS if transfer.source_id == location.id else SENDER_COMMANDS


def transfer_context(location: StockLocation, transfer: Transfer, submitted: Submitted | None = None) -> dict[str, Any]:
    hidden = other_side_commands(location, transfer)
    allowed = [c for c in allowed_transfer_commands(transfer.state, manager=current_actor().is_manager) if c not in hidden]
    outgoing = transfer.source_id == location.id
    # This store scans when the next step is its own: the sender before dispatch, the receiver
    # before receiving. Scanning is then the next step and the whole-transfer buttons are outlined.
    side = scan_side(transfer)
    scan_as = side if side == ("source" if outgoing else "destination") else None
    open_items = [ti for ti in transfer.items if ti.state == "open"]
    counted = sum(min(ti.quantity, scanned_count(ti, scan_as)) for ti in open_items) if scan_as else 0
    to_scan = sum(ti.quantity for ti in open_items) if scan_as else 0
    package = transfer.package
    return {
        "location": location,
        "transfer": transfer,
        "outgoing": outgoing,
        "actions": build_actions(TRANSFER_TRANSITIONS, allowed, submitted=submitted,
                                 not_next=SCANNED_STEPS if counted < to_scan else ()),
        "can_report_missing": "report_missing" in allowed,
        "scan_as": scan_as,
        "counted": counted,
        "to_scan": to_scan,
        "scan_column": SCAN_COLUMNS[scan_as] if scan_as else None,
        # The package the goods are for, when it is packed here: the receiver's next step.
        "package_here": package if package.location_id == location.id else None,
    }


@bp.get("/<code>/transfers")
@login_required
def transfers(code: str):
    location = location_or_404(code)
    counts = queues_store.transfer_counts(location.id)
    direction = request.args.get("direction", "")
    if direction not in queues_store.TRANSFER_DIRECTIONS:
        direction = queues_store.busiest_direction(counts)  # open on the side that has work
    listing = queues_store.transfer_list(location.id, direction,
                                         PageArgs.lenient(request.args, queues_store.PAGE_SIZE))
    return render("store/transfers/list.html", "store/transfers/_list.html", location=location,
                  direction=direction, directions=DIRECTIONS, listing=listing, counts=counts)


@bp.get("/<code>/transfers/<int:transfer_id>")
@login_required
def transfer(code: str, transfer_id: int):
    location = location_or_404(code)
    return render("store/transfers/transfer.html", "store/transfers/_transfer.html",
                  **transfer_context(location, transfer_or_404(location, transfer_id)))


def _finish(location: StockLocation, transfer_id: int, message: str, category: str, status: int = 200,
            submitted: Submitted | None = None):
    transfer = transfer_or_404(location, transfer_id)
    back = url_for("store.transfer", code=location.code, transfer_id=transfer.id)
    return after_command(back, message, category, "store/transfers/transfer.html", "store/transfers/_transfer.html",
                         status=status, **transfer_context(location, transfer, submitted))


def _run(location: StockLocation, transfer: Transfer, command: str, params: dict[str, Any]):
    try:
        if command in other_side_commands(location, transfer):
            raise Conflict(_("The other store does this step for this transfer."), code="other_side")
        run_transfer_command(transfer.id, command, params, current_actor(), expected_version=form_version())
    except ServiceError as exc:
        if exc.code == "stale":
            return _finish(location, transfer.id, stale_message(exc, TRANSFER_TRANSITIONS.get(command)), "info")
        return _finish(location, transfer.id, error_message(exc), "error", exc.status,
                       Submitted(command, request.form, exc.details or {}))
    label = TRANSFER_TRANSITIONS[command].label if command in TRANSFER_TRANSITIONS else _("That step")
    return _finish(location, transfer.id, done_message("transfer", command, label), "success")


@bp.post("/<code>/transfers/<int:transfer_id>/scan")
@login_required
def transfer_scan(code: str, transfer_id: int):
    """One scan = one unit counted for this store's step (see `count_transfer_scan`); answered
    like a package scan: the feedback line, and the changed row, counter and buttons out of band."""
    location = location_or_404(code)
    transfer = transfer_or_404(location, transfer_id)
    side = "source" if transfer.source_id == location.id else "destination"
    before = {ti.id: scanned_count(ti, side) for ti in transfer.items}
    barcode = request.form.get("barcode", "").strip()
    error, status, changed = None, 200, set()
    try:
        if not barcode:
            message = _("Scan a barcode or type it, then press Enter.")
            raise ValidationFailed(message, {"barcode": message})
        if scan_side(transfer) != side:  # the other store's step (a manager may see both stores)
            raise Conflict(f"A transfer in state {transfer.state!r} cannot 'scan'.", code="command_not_allowed",
                           details={"state": transfer.state})
        transfer = count_transfer_scan(transfer.id, barcode[:100], current_actor())
        changed = {ti.id for ti in transfer.items if scanned_count(ti, side) != before.get(ti.id)}
    except ServiceError as exc:
        error, status = error_message(exc), exc.status
    transfer = transfer_or_404(location, transfer_id)
    context = transfer_context(location, transfer)
    if not wants_fragment():
        back = url_for("store.transfer", code=location.code, transfer_id=transfer.id)
        return after_command(back, error or _("Counted %(barcode)s.", barcode=barcode), "error" if error else "success", "", "")
    if status == 409:
        # The transfer moved on meanwhile (dispatched, received...): show it as it is now.
        return htmx_flask.make_response(render("store/transfers/_transfer.html", "store/transfers/_transfer.html",
                                               status=status, notice={"text": error, "category": "error"},
                                               **context), retarget="#transfer", reswap="outerHTML")
    return render("store/transfers/_scan_result.html", "store/transfers/_scan_result.html", status=status,
                  scan_error=error, scanned=barcode,
                  counted_items=[ti for ti in transfer.items if ti.id in changed], **context)


@bp.post("/<code>/transfers/<int:transfer_id>/commands/<command>")
@login_required
def transfer_command(code: str, transfer_id: int, command: str):
    location = location_or_404(code)
    transfer = transfer_or_404(location, transfer_id)
    transition = TRANSFER_TRANSITIONS.get(command)
    context = transfer_context(location, transfer)
    if any(a.command == command for a in context["actions"]) and form_version() in (None, transfer.version):
        question = confirm_question("transfer", TRANSFER_TRANSITIONS, command, request.form)
        if question is not None:  # destructive: asked on the page, so it works without JavaScript too
            return render("store/transfers/transfer.html", "store/transfers/_transfer.html", confirm=question,
                          **context)
    params = params_from_form(transition, request.form) if transition and command != "report_missing" else {}
    if command == "report_missing":
        params = {"items": [
            {"item_id": item.id, "quantity": number_or_text(raw)}
            for item in transfer.items
            if (raw := request.form.get(f"quantity-{item.id}", "").strip()) and raw != "0"
        ]}
    return _run(location, transfer, command, params)


# ------------------------------------------------------------------------------ receiving with a count

@dataclass
class ReceivingLine:
    """One SKU of an incoming transfer on the receiving review: what was sent and counted so far."""

    product_id: int
    sku: str
    name: str
    sent: int
    scanned: int


def receiving_lines(transfer: Transfer) -> list[ReceivingLine]:
    lines: dict[int, ReceivingLine] = {}
    for ti in transfer.items:
        if ti.state != "open":
            continue
        line = lines.setdefault(ti.product_id, ReceivingLine(ti.product_id, ti.product.sku, ti.product.name, 0, 0))
        line.sent += ti.quantity
        line.scanned += ti.receive_scanned
    return list(lines.values())


def _typed_lines(lines: list[ReceivingLine]) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """The review form's counts per SKU (received-/damaged-/note-<product id>); counts that are not
    whole numbers are named on their line, never read as 0."""
    values: dict[str, dict[str, Any]] = {}
    errors: dict[str, str] = {}
    for line in lines:
        typed: dict[str, Any] = {}
        for field, default in (("received", ""), ("damaged", "0")):
            raw = request.form.get(f"{field}-{line.product_id}", default).strip() or default
            value = whole_number(raw, 6)
            if value is None:
                errors[f"{line.sku}.{field}"] = whole_number_refused(6)
            typed[field] = value if value is not None else raw
        typed["note"] = request.form.get(f"note-{line.product_id}", "").strip()[:500] or None
        values[line.sku] = typed
    return values, errors


def _line_errors(lines: list[ReceivingLine], sent_order: list[str], exc: ServiceError) -> dict[str, str]:
    """The service names lines by their place in what was sent ("lines.0.note") or by SKU
    ("lines.SKU-A"); the form shows them by SKU and field."""
    errors: dict[str, str] = {}
    for key, message in (exc.details or {}).items():
        parts = key.split(".")
        if parts[0] == "lines" and len(parts) > 1 and parts[1].isdigit() and int(parts[1]) < len(sent_order):
            field = parts[2] if len(parts) > 2 else "received"
            errors[f"{sent_order[int(parts[1])]}.{'received' if field == 'sku' else field}"] = str(message)
        elif parts[0] == "lines" and len(parts) > 1:
            errors[f"{'.'.join(parts[1:])}.received"] = str(message)
        else:
            errors["_form"] = str(message)
    return errors


@bp.route("/<code>/receiving/transfers/<int:transfer_id>/finish", methods=["GET", "POST"])
@login_required
def transfer_receive_finish(code: str, transfer_id: int):
    """Review what arrived (counts prefilled from the scans), mark damaged units and say why a
    count differs, then finish: the transfer's `receive` with the count, in one transaction."""
    location = location_or_404(code)
    transfer = transfer_or_404(location, transfer_id)
    if transfer.destination_id != location.id:
        abort(404)
    back = url_for("store.transfer", code=location.code, transfer_id=transfer.id)
    if transfer.state != "in_transit":
        return after_command(back, _("This transfer is not on its way any more (it is %(state)s): nothing to "
                                     "receive.", state=lower(state_label(transfer.state))), "info",
                             "store/transfers/transfer.html", "store/transfers/_transfer.html",
                             **transfer_context(location, transfer))
    lines = receiving_lines(transfer)
    context = {"location": location, "transfer": transfer, "lines": lines}
    if request.method == "GET":
        return render("store/transfers/receive_finish.html", "store/transfers/_receive_finish.html", errors={},
                      values={}, **context)
    values, errors = _typed_lines(lines)
    sent_order = [line.sku for line in lines]
    try:
        if errors:
            raise ValidationFailed(_("Some counts are not valid."), {})
        params = {"lines": [{"sku": sku, "received": typed["received"], "damaged": typed["damaged"],
                             **({"note": typed["note"]} if typed["note"] else {})}
                            for sku, typed in values.items()]}
        run_transfer_command(transfer.id, "receive", params, current_actor(), expected_version=form_version())
    except ServiceError as exc:
        if isinstance(exc, Conflict):
            transfer = transfer_or_404(location, transfer_id)
            # "Already received" only when it is: a stale form on a transfer still on its way was
            # not received (someone changed it first).
            message = (_("Already received — here is the transfer as it is now.") if transfer.state == "received"
                       else stale_message(exc, TRANSFER_TRANSITIONS["receive"]) if exc.code == "stale"
                       else error_message(exc))
            return after_command(back, message, "info", "store/transfers/transfer.html",
                                 "store/transfers/_transfer.html", **transfer_context(location, transfer))
        errors = errors or _line_errors(lines, sent_order, exc)
        return render("store/transfers/receive_finish.html", "store/transfers/_receive_finish.html", status=exc.status,
                      errors=errors, values=values,
                      notice={"text": _("Check the lines marked in red: nothing was received yet."),
                              "category": "error"}, **context)
    flash(_received_message(transfer.number, lines, values), "success")
    target = url_for("store.receiving", code=location.code)
    if wants_fragment():
        return htmx_flask.make_response("", 200, redirect=target)
    return redirect(target, code=303)


def _received_message(number: str, lines: list[ReceivingLine], values: dict[str, dict[str, Any]]) -> str:
    """What the finish did, said plainly: "stock updated" only when everything arrived as sent;
    otherwise how many units are in stock here, how many damaged ones were written off, how many
    did not arrive, and that those are planned again at once (from here or elsewhere, or out of stock)."""
    sent = {line.sku: line.sent for line in lines}
    damaged = sum(typed["damaged"] for typed in values.values())
    usable = sum(max(0, typed["received"] - typed["damaged"]) for typed in values.values())
    short = sum(max(0, sent[sku] - typed["received"]) for sku, typed in values.items())
    if not damaged and not short:
        return _("%(number)s received: the stock is updated.", number=number)
    said = [_("%(number)s received.", number=number)]
    if usable:
        said.append(ngettext("%(num)s unit is in stock here.", "%(num)s units are in stock here.", usable))
    if damaged:
        said.append(ngettext("%(num)s damaged unit was written off.", "%(num)s damaged units were written off.",
                             damaged))
    if short:
        said.append(ngettext("%(num)s unit did not arrive.", "%(num)s units did not arrive.", short))
    said.append(ngettext("It is planned again.", "They are planned again.", damaged + short))
    return " ".join(said)
