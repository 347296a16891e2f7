"""Store batch screens: start a batch from the queue, walk its pick list scanning each unit once
(the page says which tote it goes into), report missing units, refuse, pack each package, and
print every label of the batch at once. Every change is a service call in app.services.batches,
which runs the packages' own commands."""

from __future__ import annotations

from typing import Any

import htmx_flask
from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from werkzeug.wrappers import Response

from app.models import StockLocation
from app.services import batches
from app.services.errors import NotFound, ServiceError, ValidationFailed
from app.services.transitions import PACKAGE_TRANSITIONS
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
from app.views.store_actions import Submitted, build_actions, params_from_form, unscanned_question

MISSING_REASONS = (("not_found", _l("Not found on the shelf")), ("wrong_product", _l("Wrong product")),
                   ("defective", _l("Damaged or defective")))
PAGE, FRAGMENT = "store/batches/batch.html", "store/batches/_batch.html"


def board_or_404(location: StockLocation, batch_id: int) -> batches.Board:
    try:
        return batches.board(location.id, batch_id)
    except NotFound:
        abort(404)


def batch_context(location: StockLocation, board: batches.Board, submitted: Submitted | None = None) -> dict[str, Any]:
    """What the batch partials need: the board, and the packing buttons of the next package."""
    nxt = board.next_to_pack
    pack_actions = []
    if nxt is not None:
        commands = batches.packing_commands(nxt, manager=current_actor().is_manager)
        # Until every unit of that package is in its tote, packing is not the next step (scanning is).
        pack_actions = build_actions(PACKAGE_TRANSITIONS, commands, submitted=submitted,
                                     not_next=tuple(commands) if nxt.picked < nxt.required else ())
    return {"location": location, "board": board, "batch": board.batch, "next_slot": nxt,
            "pack_actions": pack_actions}


def _batch_page(location: StockLocation, batch_id: int, **extra: Any):
    board = board_or_404(location, batch_id)
    return render(PAGE, FRAGMENT, **batch_context(location, board), **extra)


def _back(location: StockLocation, batch_id: int) -> str:
    return url_for("store.batch", code=location.code, batch_id=batch_id)


def _redirect(target: str):
    """After a plain POST: 303. With htmx: a full navigation (the answer is another page)."""
    if wants_fragment():
        return htmx_flask.make_response("", 200, redirect=target)
    return redirect(target, code=303)


# --- list and start ------------------------------------------------------------------------

@bp.get("/<code>/batches")
@login_required
def batches_list(code: str):
    location = location_or_404(code)
    return render("store/batches/list.html", "store/batches/_list.html", location=location,
                  listing=batches.batch_list(location.id), next_oldest=batches.NEXT_OLDEST,
                  max_packages=batches.MAX_PACKAGES)


@bp.post("/<code>/batches")
@login_required
def start_batch(code: str):
    """From the To prepare tab (ticked packages) or "Next 10 oldest" (here or on that tab)."""
    location = location_or_404(code)
    try:
        if request.form.get("next_oldest"):
            started = batches.start_next_oldest(location.id, current_actor())
        else:
            ids = [int(raw) for raw in request.form.getlist("package_id") if raw.isdigit() and len(raw) <= 9]
            started = batches.start_batch(location.id, ids, current_actor())
    except ServiceError as exc:
        flash(error_message(exc), "error")
        back = request.form.get("from") == "queue"
        return _redirect(url_for("store.queue", code=location.code, tab="waiting") if back
                         else url_for("store.batches_list", code=location.code))
    message = _("Batch %(number)s started. Take one tote per package, numbered as on this page.", number=started.number)
    if started.skipped:
        message += " " + _("Not in it: %(packages)s (someone else started them).", packages=", ".join(started.skipped))
    flash(message, "success")
    return _redirect(_back(location, started.batch_id))


# --- the batch page, scanning ---------------------------------------------------------------

@bp.get("/<code>/batches/<int:batch_id>")
@login_required
def batch(code: str, batch_id: int):
    location = location_or_404(code)
    return _batch_page(location, batch_id)


@bp.get("/<code>/batches/<int:batch_id>/labels")
@login_required
def batch_labels_box(code: str, batch_id: int):
    """Polled while labels are on their way from the carrier: only the labels box."""
    location = location_or_404(code)
    if not wants_fragment():
        return redirect(_back(location, batch_id), code=303)
    board = board_or_404(location, batch_id)
    return render("store/batches/_labels.html", "store/batches/_labels.html", **batch_context(location, board))


@bp.post("/<code>/batches/<int:batch_id>/scan")
@login_required
def batch_scan(code: str, batch_id: int):
    """One scan = one unit, counted for the first tote that still needs it."""
    location = location_or_404(code)
    barcode = request.form.get("barcode", "").strip()[:100]
    result, error, status = None, None, 200
    try:
        if not barcode:
            message = _("Scan a barcode or type it, then press Enter.")
            raise ValidationFailed(message, {"barcode": message})
        result = batches.scan(location.id, batch_id, barcode, current_actor())
    except NotFound:
        abort(404)
    except ServiceError as exc:
        error, status = error_message(exc), exc.status
    if not wants_fragment():
        if result is not None:
            flash(_("Tote %(tote)s · %(product)s · %(count)s of %(total)s for %(package)s", tote=result.slot,
                    product=result.product_name, count=result.in_tote, total=result.for_tote,
                    package=result.package_number), "tote")
        else:
            flash(f"{barcode}: {error}" if barcode else error, "error")
        return redirect(_back(location, batch_id), code=303)
    board = board_or_404(location, batch_id)
    context = batch_context(location, board)
    if status == 409:
        # The batch was finished or given up meanwhile: show it as it is now (queued scans stop).
        return htmx_flask.make_response(render(FRAGMENT, FRAGMENT, status=status,
                                               notice={"text": error, "category": "error"}, **context),
                                        retarget="#batch", reswap="outerHTML")
    changed = [line for line in board.lines if result is not None and line.product.sku == result.sku]
    return render("store/batches/_scan_result.html", "store/batches/_scan_result.html", status=status,
                  result=result, scan_error=error, scanned=barcode, changed_lines=changed, **context)


# --- missing units of a product --------------------------------------------------------------

def _missing_page(location: StockLocation, board: batches.Board, product_id: int, status: int = 200,
                  error: str | None = None):
    line = next((line for line in board.lines if line.product.id == product_id), None)
    if line is None or not board.active:
        return after_command(_back(location, board.batch.id), _("Nothing of that product is left to pick."), "info",
                             PAGE, FRAGMENT, **batch_context(location, board))
    return render("store/batches/missing.html", "store/batches/_missing.html", status=status, line=line,
                  reasons=MISSING_REASONS, error=error, form=request.form, **batch_context(location, board))


@bp.get("/<code>/batches/<int:batch_id>/missing/<int:product_id>")
@login_required
def batch_missing_form(code: str, batch_id: int, product_id: int):
    location = location_or_404(code)
    return _missing_page(location, board_or_404(location, batch_id), product_id)


@bp.post("/<code>/batches/<int:batch_id>/missing/<int:product_id>")
@login_required
def batch_report_missing(code: str, batch_id: int, product_id: int):
    location = location_or_404(code)
    raw = request.form.get("quantity", "").strip()
    quantity = int(raw) if raw.isdigit() and len(raw) <= 6 else 0
    try:
        result = batches.report_missing(location.id, batch_id, product_id, quantity,
                                        request.form.get("reason", ""), current_actor())
    except NotFound:
        abort(404)
    except ServiceError as exc:
        board = board_or_404(location, batch_id)
        if not wants_fragment():
            flash(error_message(exc), "error")
            return redirect(url_for("store.batch_missing_form", code=location.code, batch_id=batch_id,
                                    product_id=product_id), code=303)
        return _missing_page(location, board, product_id, status=exc.status, error=error_message(exc))
    parts = [_("%(units)s from tote %(tote)s (%(package)s)", units=units, tote=slot, package=number)
             for slot, number, units in result.reported]
    message = (_("Reported missing: %(parts)s. Those units will come from another store.", parts=", ".join(parts))
               if parts else _("Nothing was reported."))
    category = "success"
    if result.problems:
        message += " " + _("Not reported: %(problems)s Open that package to check it.",
                           problems="; ".join(result.problems))
        category = "error"
    board = board_or_404(location, batch_id)
    return after_command(_back(location, batch_id), message, category, PAGE, FRAGMENT,
                         **batch_context(location, board))


# --- refuse, pack, cancel ----------------------------------------------------------------------

@bp.get("/<code>/batches/<int:batch_id>/packages/<int:package_id>/refuse")
@login_required
def batch_refuse_form(code: str, batch_id: int, package_id: int):
    """Refusing from the batch is a page of its own: choosing the reason and pressing the red
    button is the confirmation, with or without JavaScript."""
    location = location_or_404(code)
    board = board_or_404(location, batch_id)
    slot = board.slot_of(package_id)
    if slot is None:
        abort(404)
    return _refuse_page(location, board, slot)


def _refuse_page(location: StockLocation, board: batches.Board, slot: batches.Slot, status: int = 200,
                 error: str | None = None):
    actions = build_actions(PACKAGE_TRANSITIONS, ["refuse"]) if slot.open else []
    return render("store/batches/refuse.html", "store/batches/_refuse.html", status=status, slot=slot,
                  reason_field=actions[0].fields[0] if actions else None, error=error,
                  form=request.form, **batch_context(location, board))


@bp.post("/<code>/batches/<int:batch_id>/packages/<int:package_id>/commands/<command>")
@login_required
def batch_package_command(code: str, batch_id: int, package_id: int, command: str):
    location = location_or_404(code)
    board = board_or_404(location, batch_id)
    slot = board.slot_of(package_id)
    transition = PACKAGE_TRANSITIONS.get(command)
    if slot is None or command not in batches.BATCH_COMMANDS or transition is None:
        abort(404)
    if command != "refuse":
        question = unscanned_question(command, request.form, slot.picked, slot.required)
        if question is not None and slot.open:
            # Packing with units not in the tote asks first, as on the package page (works without JS).
            return render(PAGE, FRAGMENT, confirm_unscanned=question, **batch_context(location, board))
    params = params_from_form(transition, request.form)
    if command == "refuse" and not params.get("reason"):
        error = _("Choose why you refuse this package.")
        if not wants_fragment():
            flash(error, "error")
            return redirect(url_for("store.batch_refuse_form", code=location.code, batch_id=batch_id,
                                    package_id=package_id), code=303)
        return _refuse_page(location, board, slot, status=422, error=error)
    try:
        package = batches.run_command(location.id, batch_id, package_id, command, params, current_actor(),
                                      expected_version=form_version())
    except NotFound:
        abort(404)
    except ServiceError as exc:
        board = board_or_404(location, batch_id)
        if exc.code == "stale":
            return after_command(_back(location, batch_id), stale_message(exc, transition), "info", PAGE, FRAGMENT,
                                 **batch_context(location, board))
        if command == "refuse" and exc.code == "validation_failed" and wants_fragment():
            return _refuse_page(location, board, board.slot_of(package_id) or slot, status=exc.status,
                                error=error_message(exc))
        submitted = Submitted(command, request.form, exc.details or {})
        return after_command(_back(location, batch_id), error_message(exc), "error", PAGE, FRAGMENT,
                             status=exc.status, **batch_context(location, board, submitted))
    if command == "refuse":
        message = _("%(package)s refused: it leaves this batch and goes to another store. Empty tote %(tote)s.",
                    package=package.number, tote=slot.slot)
    else:
        message = _("Tote %(tote)s packed (%(package)s).", tote=slot.slot, package=package.number)
    board = board_or_404(location, batch_id)
    if board.batch.state == "done":
        message += " " + _("Every package of this batch is packed: print the labels.")
    return after_command(_back(location, batch_id), message, "success", PAGE, FRAGMENT,
                         **batch_context(location, board))


@bp.post("/<code>/batches/<int:batch_id>/cancel")
@login_required
def batch_cancel(code: str, batch_id: int):
    location = location_or_404(code)
    try:
        batches.cancel(location.id, batch_id, current_actor())
        message, category = (_("Batch given up. Its packages stay in Preparing: finish each from its own page."),
                             "success")
    except NotFound:
        abort(404)
    except ServiceError as exc:
        message, category = error_message(exc), "info"
    board = board_or_404(location, batch_id)
    return after_command(_back(location, batch_id), message, category, PAGE, FRAGMENT,
                         **batch_context(location, board))


# --- labels ----------------------------------------------------------------------------------

def _document(document) -> Response:
    # the document's type is a whole Content-Type ("text/plain; charset=utf-8"): as a mimetype Flask
    # would add the charset a second time
    response = Response(document.content, content_type=document.mimetype)
    disposition = "inline" if document.mimetype == "application/pdf" else "attachment"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{document.filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/<code>/batches/<int:batch_id>/labels.pdf")
@login_required
def batch_labels_pdf(code: str, batch_id: int):
    location = location_or_404(code)
    return _document(batches.labels(location.id, batch_id, "pdf", current_actor()))


@bp.get("/<code>/batches/<int:batch_id>/labels.zpl")
@login_required
def batch_labels_zpl(code: str, batch_id: int):
    location = location_or_404(code)
    return _document(batches.labels(location.id, batch_id, "zpl", current_actor()))
