"""Store package screens: the queue, the package page, scan-to-pick, commands, missing items, PDFs."""

from __future__ import annotations

from typing import Any

import htmx_flask
from flask import abort, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from werkzeug.wrappers import Response

from app.i18n import format_number
from app.models import Package, StockLocation
from app.services import queues_store
from app.services.carriers.base import Address
from app.services.carriers.labels import render_packing_slip_pdf
from app.services.errors import NotFound, ServiceError, ValidationFailed
from app.services.package_commands import channel_labels
from app.services.packages import Withdrawn, package_at, run_package_command
from app.services.pagination import PageArgs
from app.services.transitions import NOT_HOLDING_ITEM_STATES, PACKAGE_TRANSITIONS, allowed_package_commands
from app.views import number_or_text, whole_number
from app.views.htmx import render, wants_fragment
from app.views.store import (
    AT_THE_FIELD,
    after_command,
    bp,
    current_actor,
    error_message,
    form_version,
    int_arg,
    location_or_404,
    stale_message,
)
from app.views.store_actions import (
    PACKING,
    PICKUP_LABELS,
    Submitted,
    build_actions,
    confirm_question,
    done_message,
    needs_pickup_code,
    on_the_form,
    params_from_form,
    unscanned_question,
)

NOTHING_MISSING = _l("Enter how many units are missing for at least one item, or tick Give up the whole package.")
MISSING_REASONS = (("not_found", _l("Not found on the shelf")), ("wrong_product", _l("Wrong product")),
                   ("defective", _l("Damaged or defective")))


def package_or_404(location: StockLocation, package_id: int) -> Package:
    package = package_at(location.id, package_id)
    if package is None:
        abort(404)
    return package


def picked_and_required(package: Package) -> tuple[int, int]:
    """Units scanned and units to pack, over the items the package still holds."""
    counted = [i for i in package.items if i.state not in NOT_HOLDING_ITEM_STATES]
    return sum(i.picked_quantity for i in counted), sum(i.quantity for i in counted)


def package_context(location: StockLocation, package: Package, submitted: Submitted | None = None) -> dict[str, Any]:
    """Everything the package partials need; the allowed commands decide every button."""
    allowed = allowed_package_commands(package, manager=current_actor().is_manager)
    shipment = package.shipment
    items = list(package.items)
    picked, required = picked_and_required(package)
    # A marketplace label fetched by its connector may exist only as ZPL (Trendyol's common label):
    # then Print label downloads the ZPL for the thermal printer instead of opening a PDF.
    # A cancelled package is not shipped: its label is not offered even if one was fetched.
    label_ready = bool(shipment and (shipment.label_pdf or shipment.label_url or shipment.label_zpl)) \
        and package.state != "cancelled"
    label_format = "pdf" if shipment and (shipment.label_pdf or shipment.label_url) else "zpl"
    # Until every unit is scanned, scanning is the next step, not packing; once the label is
    # there, printing it comes before shipping.
    print_first = label_ready and "ship" in allowed
    not_next = (PACKING if picked < required else ()) + (("ship",) if print_first else ())
    pickup = package.order.delivery_type == "click_and_collect"
    # A marketplace label: once everything is picked, the next scan is the label's barcode, so the
    # cursor moves from the item scan field to the label field of "Complete packing (channel label)".
    label_scan = "complete_packing_channel" in allowed and picked >= required
    needs_code = pickup and needs_pickup_code(package)
    actions = build_actions(PACKAGE_TRANSITIONS, allowed, submitted=submitted, not_next=not_next, pickup=pickup,
                            needs_code=needs_code)
    for action in actions if label_scan else ():
        if action.command != "complete_packing_channel":
            continue
        if channel_labels.label_task(package.order.channel) is not None:
            action.fields = []  # the channel's connector fetches the label: nothing to type
        for f in action.fields:
            f.focus = f.scan
    # The page's address and its commands' (`command_url ~ command`), built once rather than by
    # url_for for every form of the answer.
    package_url = url_for("store.package", code=location.code, package_id=package.id)
    return {
        "location": location,
        "package": package,
        "package_url": package_url,
        "command_url": package_url + "/commands/",
        "order": package.order,
        "items": items,
        "allowed": allowed,
        "actions": actions,
        "can_scan": "pick" in allowed and not label_scan,
        "label_scan": label_scan,
        "can_report_missing": "report_missing" in allowed,
        "picked": picked,
        "required": required,
        "label_ready": label_ready,
        "print_first": print_first,
        # A carrier job is fetching the label: refresh the page until it lands.
        "awaiting_label": bool(shipment and shipment.status == "pending"),
        "label_format": label_format,
        # Who prints the label: the marketplace (named on the page) or the carrier.
        "label_source": package.order.channel.name if channel_labels.channel_prints_label(package.order.channel)
        else None,
        "shipment": shipment,
        "pickup": pickup,
        # Handing over asks for the customer's code (never shown here) or, without one, a confirmation.
        "needs_code": needs_code,
    }


# --- queue ------------------------------------------------------------------------------------

@bp.get("/<code>/packages")
@login_required
def queue(code: str):
    location = location_or_404(code)
    queue = queues_store.package_queue(location.id, request.args.get("tab", queues_store.DEFAULT_TAB),
                                       request.args.get("q", "")[:100],
                                       PageArgs.lenient(request.args, queues_store.PAGE_SIZE),
                                       target_minutes=location.target_packaging_minutes)
    return render("store/packages/queue.html", "store/packages/_queue.html", location=location, queue=queue,
                  tabs=queues_store.PACKAGE_TABS)


@bp.get("/<code>/packages/new")
@login_required
def new_badge(code: str):
    """Polled by the queue and home every 15 s: how many packages arrived since the page was drawn."""
    location = location_or_404(code)
    since = int_arg("since", 0)
    if not wants_fragment():
        return redirect(url_for("store.queue", code=location.code), code=303)
    return render("store/packages/_new_badge.html", "store/packages/_new_badge.html", location=location,
                  since=since, new_count=queues_store.count_new_since(location.id, since))


# --- package page and commands -------------------------------------------------------------

@bp.get("/<code>/packages/<int:package_id>")
@login_required
def package(code: str, package_id: int):
    location = location_or_404(code)
    return render("store/packages/package.html", "store/packages/_package.html",
                  **package_context(location, package_or_404(location, package_id)))


def _success_message(command: str, pickup: bool = False) -> str:
    if command not in PACKAGE_TRANSITIONS:
        return _("Done.")
    label = (PICKUP_LABELS if pickup else {}).get(command, PACKAGE_TRANSITIONS[command].label)
    return done_message("package", command, label, pickup)


@bp.post("/<code>/packages/<int:package_id>/commands/<command>")
@login_required
def package_command(code: str, package_id: int, command: str):
    location = location_or_404(code)
    transition = PACKAGE_TRANSITIONS.get(command)
    manager = current_actor().is_manager

    def ask_first(package: Package) -> None:
        """Steps that ask first answer with a form on the page, so they work without JavaScript
        too: packing with units unscanned, destructive commands, handing over without a pickup
        code. Decided on the package as the command has locked it: when nothing is asked, the
        command runs on the same read (the package is not loaded twice)."""
        if command not in allowed_package_commands(package, manager=manager):
            return
        picked, required = picked_and_required(package)
        unscanned = unscanned_question(command, request.form, picked, required)
        if unscanned is not None:
            raise Withdrawn({"confirm_unscanned": unscanned})
        order = package.order
        question = confirm_question("package", PACKAGE_TRANSITIONS, command, request.form,
                                    customer=(order.customer_name or "", order.customer_phone or ""),
                                    needs_code=needs_pickup_code(package))
        if question is not None and form_version() in (None, package.version):
            raise Withdrawn({"confirm": question})

    if command == "deliver_to_customer":
        package_or_404(location, package_id)  # a pickup code is compared (a wrong one counted) only here
    params = params_from_form(transition, request.form) if transition else {}
    status, category, submitted = 200, "success", None
    try:
        package = run_package_command(package_id, command, params, current_actor(), expected_version=form_version(),
                                      location_id=location.id, before=ask_first)
        message = _success_message(command, pickup=package.order.delivery_type == "click_and_collect")
    except Withdrawn as asked:
        return render("store/packages/package.html", "store/packages/_package.html", **asked.answer,
                      **package_context(location, package_or_404(location, package_id)))
    except ServiceError as refused:
        exc = on_the_form(command, refused)
        message, submitted_error = error_message(exc), exc
        if exc.code == "stale":
            message, category = stale_message(exc, transition), "info"
        else:
            category, status = "error", exc.status
            submitted = Submitted(command, request.form, exc.details or {})
        package = package_or_404(location, package_id)
    back = url_for("store.package", code=location.code, package_id=package.id)
    context = package_context(location, package, submitted)
    if submitted is not None and wants_fragment():
        # The form comes back with its fields' messages next to them: the top says the rest once.
        # (Without JavaScript the flash after the redirect is all there is, so it says everything.)
        shown = next((tuple(f.name for f in a.fields if f.error) for a in context["actions"] if a.command == command), ())
        message = error_message(submitted_error, at_fields=shown)
    return after_command(back, message, category, "store/packages/package.html", "store/packages/_package.html",
                         status=status, **context)


@bp.post("/<code>/packages/<int:package_id>/scan")
@login_required
def scan(code: str, package_id: int):
    """One scan = one unit picked. Not version-guarded: scanning the same barcode twice is two units."""
    location = location_or_404(code)
    before: dict[int, int] = {}  # picked units per item as the scan found them (under its lock)

    def note_picked(package: Package) -> None:
        before.update((item.id, item.picked_quantity) for item in package.items)

    barcode = request.form.get("barcode", "").strip()
    changed: list[int] = []
    error, status = None, 200
    try:
        if not barcode:
            message = _("Scan a barcode or type it, then press Enter.")
            raise ValidationFailed(message, {"barcode": message})
        package = run_package_command(package_id, "pick", {"barcode": barcode[:100]}, current_actor(),
                                      location_id=location.id, before=note_picked)
        changed = [i.id for i in package.items if i.picked_quantity != before.get(i.id)]
    except ServiceError as exc:
        error, status = error_message(exc), exc.status
        package = package_or_404(location, package_id)
    back = url_for("store.package", code=location.code, package_id=package.id)
    context = package_context(location, package)
    if not wants_fragment():
        return after_command(back, error or _("Counted %(barcode)s.", barcode=barcode), "error" if error else "success", "", "")
    if status == 409:
        # The package moved on meanwhile (packed by a colleague, blocked...): show it as it is now.
        return htmx_flask.make_response(render("store/packages/_package.html", "store/packages/_package.html",
                                               status=status, notice={"text": error, "category": "error"},
                                               **context), retarget="#package", reswap="outerHTML")
    picked_items = [i for i in context["items"] if i.id in changed]
    return render("store/packages/_scan_result.html", "store/packages/_scan_result.html",
                  status=status, scan_error=error, scanned=barcode, picked_items=picked_items,
                  **context)


# --- missing items -------------------------------------------------------------------------

def _missing_form(location: StockLocation, package: Package, status: int = 200, errors: str | None = None,
                  field_errors: dict[int, str] | None = None):
    return render("store/packages/missing.html", "store/packages/_missing.html", status=status,
                  reasons=MISSING_REASONS, error=errors, field_errors=field_errors or {}, form=request.form,
                  **package_context(location, package))


def _missing_counts_refused(package: Package) -> dict[int, str]:
    """A count the form's field does not take (0 to the item's units) is said next to it, naming
    the item and the range, before the command runs."""
    refused = {}
    for item in package.items:
        raw = request.form.get(f"quantity-{item.id}", "").strip()
        if raw and whole_number(raw, 5) is None:  # more than it holds: the command names what it holds
            refused[item.id] = _("Units missing of %(sku)s: enter a whole number from 0 to %(most)s.",
                                 sku=item.product.sku, most=format_number(item.quantity))
    return refused


@bp.get("/<code>/packages/<int:package_id>/missing")
@login_required
def missing_form(code: str, package_id: int):
    location = location_or_404(code)
    return _missing_form(location, package_or_404(location, package_id))


@bp.post("/<code>/packages/<int:package_id>/missing")
@login_required
def report_missing(code: str, package_id: int):
    location = location_or_404(code)
    package = package_or_404(location, package_id)
    refused = _missing_counts_refused(package)
    if refused:  # the form again, with its fields, without JavaScript too: a flash could not mark them
        return _missing_form(location, package, status=422, errors=str(AT_THE_FIELD), field_errors=refused)
    items = []
    for item in package.items:
        raw = request.form.get(f"quantity-{item.id}", "").strip()
        if raw and raw != "0":
            items.append({"item_id": item.id, "quantity": number_or_text(raw),
                          "reason": request.form.get(f"reason-{item.id}", "not_found")})
    params = {"items": items, "whole_package": request.form.get("whole_package") == "yes"}
    try:
        if not items and not params["whole_package"]:
            raise ValidationFailed(str(NOTHING_MISSING), {"items": str(NOTHING_MISSING)})
        package = run_package_command(package.id, "report_missing", params, current_actor(),
                                      expected_version=form_version())
    except ServiceError as exc:
        package = package_or_404(location, package_id)
        if exc.code == "stale":
            back = url_for("store.package", code=location.code, package_id=package.id)
            return after_command(back, stale_message(exc, PACKAGE_TRANSITIONS["report_missing"]), "info",
                                 "store/packages/package.html",
                                 "store/packages/_package.html", **package_context(location, package))
        if not wants_fragment():
            return after_command(url_for("store.missing_form", code=location.code, package_id=package.id),
                                 error_message(exc), "error", "", "")
        return _missing_form(location, package, status=exc.status, errors=error_message(exc))
    back = url_for("store.package", code=location.code, package_id=package.id)
    return after_command(back, _("Missing items reported. They will be planned at another location."), "success",
                         "store/packages/package.html", "store/packages/_package.html",
                         **package_context(location, package))


# --- printing ------------------------------------------------------------------------------

def _pdf(data: bytes, filename: str) -> Response:
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/<code>/packages/<int:package_id>/label.pdf")
@login_required
def label_pdf(code: str, package_id: int):
    location = location_or_404(code)
    package = package_or_404(location, package_id)
    shipment = package.shipment
    if shipment is not None and shipment.label_pdf:
        return _pdf(shipment.label_pdf, f"label-{package.number}.pdf")
    if shipment is not None and shipment.label_url:
        return redirect(shipment.label_url)  # the channel printed its own label
    if shipment is not None and shipment.label_zpl:
        return redirect(url_for("store.label_zpl", code=code, package_id=package_id))
    raise NotFound(_("The label is not ready yet. It appears on the package page as soon as the carrier sends it."))


@bp.get("/<code>/packages/<int:package_id>/label.zpl")
@login_required
def label_zpl(code: str, package_id: int):
    """The label as ZPL, downloaded for a thermal label printer: what a marketplace such as
    Trendyol gives (no PDF). It is the marketplace's own label, so Packline does not redraw it."""
    location = location_or_404(code)
    package = package_or_404(location, package_id)
    shipment = package.shipment
    if shipment is None or not shipment.label_zpl:
        raise NotFound(_("The label is not ready yet. It appears on the package page as soon as it arrives."))
    response = Response(shipment.label_zpl.encode(), mimetype="text/plain")
    response.headers["Content-Disposition"] = f'attachment; filename="label-{package.number}.zpl"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.get("/<code>/packages/<int:package_id>/packing-slip.pdf")
@login_required
def packing_slip_pdf(code: str, package_id: int):
    location = location_or_404(code)
    package = package_or_404(location, package_id)
    order = package.order
    sender = Address(name=location.name, line=location.address or "", city=location.city or "",
                     district=location.district or "")
    recipient = Address(name=order.customer_name or "", line=order.ship_line or "", city=order.ship_city or "",
                        district=order.ship_district or "", postcode=order.ship_postcode or "",
                        country=order.ship_country or "", phone=order.customer_phone or "")
    lines = [(i.product.sku, i.product.name, i.quantity) for i in package.items
             if i.state not in NOT_HOLDING_ITEM_STATES]
    return _pdf(render_packing_slip_pdf(package.number, order.number, sender, recipient, lines),
                f"packing-slip-{package.number}.pdf")
