"""Package commands from packing to the customer: packing, shipments, shipping, delivery,
click & collect handover and invoices. Flush only."""

from __future__ import annotations

import base64
import secrets

from app.extensions import db
from app.models import CargoCompany, Invoice, Shipment
from app.models.base import utcnow
from app.services import events, pickup_codes, stock
from app.services.errors import Conflict, ValidationFailed
from app.services.lifecycle import holding_items, log_same_state, move_package, set_shipment_status, shipment_data
from app.services.package_commands import channel_labels
from app.services.package_commands.common import Ctx, cargo_company_by_code, invoice_job, label_job
from app.services.returns import close_failed_delivery_return, open_failed_delivery_return
from app.services.settings import get_setting

PRE_SHIP_STATUSES = ("pending", "label_ready", "failed")


def _consume(ctx: Ctx) -> None:
    """Packing: the reserved units physically leave the shelf (on_hand and reserved drop)."""
    items = holding_items(ctx.package)
    stock.consume(ctx.actor.label, ctx.package.number, package_item_ids=[i.id for i in items], reason="pack")
    for item in items:
        item.state = "packed"


def _company(ctx: Ctx, code: str | None) -> CargoCompany:
    if code:
        return cargo_company_by_code(code)
    company = ctx.package.order.cargo_company
    if company is None:
        raise ValidationFailed("The order has no cargo company.",
                               {"cargo_company": "The order has no cargo company: choose one."})
    return company


def _open_shipment(ctx: Ctx, company: CargoCompany | None, status: str, **fields) -> Shipment:
    """A new shipment for the package (a cancelled one is reused: one shipment row per package)."""
    package = ctx.package
    shipment = package.shipment
    if shipment is None:
        shipment = Shipment(package=package, version=1)
        db.session.add(shipment)
    else:
        shipment.version += 1
        for name in ("tracking_number", "tracking_url", "label_pdf", "label_zpl", "label_url", "last_error",
                     "last_error_message", "carrier_reference", "shipped_at", "delivered_at", "weight_kg"):
            setattr(shipment, name, None)
        shipment.attempts = 0
        shipment.boxes = 1
    old_status = shipment.status if shipment.id else None
    shipment.cargo_company = company
    shipment.status = status
    for name, value in fields.items():
        setattr(shipment, name, value)
    db.session.flush()
    events.log_transition("shipment", shipment.id, old_status, status, ctx.command, {}, ctx.actor.label)
    events.emit("shipment.created", "shipment", shipment.id, shipment_data(shipment))
    return shipment


def _packing_log(ctx: Ctx) -> dict:
    """The packing command's params as logged, with `unscanned`: how many units were packed
    without being scanned (left out when every unit was scanned)."""
    unscanned = sum(max(0, i.quantity - i.picked_quantity) for i in holding_items(ctx.package))
    return {**ctx.log_params, "unscanned": unscanned} if unscanned else ctx.log_params


def complete_packing(ctx: Ctx) -> None:
    company = _company(ctx, ctx.params.cargo_company)
    logged = _packing_log(ctx)
    _consume(ctx)
    shipment = _open_shipment(ctx, company, "pending", boxes=ctx.params.boxes, weight_kg=ctx.params.weight_kg)
    move_package(ctx.package, "waiting_cargo_label", ctx.command, logged, ctx.actor.label)
    ctx.after_commit.append(label_job(shipment))


def complete_packing_without_shipment(ctx: Ctx) -> None:
    logged = _packing_log(ctx)
    _consume(ctx)
    move_package(ctx.package, "packed", ctx.command, logged, ctx.actor.label)
    ctx.after_commit.append(invoice_job(ctx.package))


def complete_packing_channel(ctx: Ctx) -> None:
    """The channel printed the label itself. Staff scanned its barcode (the tracking number; its
    URL is optional): the shipment is ready at once. With nothing typed and a channel connector
    that fetches labels (channel_labels.label_task), the connector brings the label after commit."""
    params = ctx.params
    task = channel_labels.label_task(ctx.package.order.channel) if not params.tracking_number else None
    if not params.tracking_number and task is None:
        raise ValidationFailed(channel_labels.SCAN_THE_LABEL, {"tracking_number": channel_labels.SCAN_THE_LABEL})
    logged = _packing_log(ctx)
    _consume(ctx)
    company = ctx.package.order.cargo_company
    if task is not None:
        shipment = _open_shipment(ctx, company, "pending", label_url=params.label_url)
        ctx.after_commit.append(channel_labels.fetch_job(shipment, task))
    else:
        shipment = _open_shipment(ctx, company, "label_ready", tracking_number=params.tracking_number,
                                  label_url=params.label_url)
        events.emit("shipment.label_ready", "shipment", shipment.id, shipment_data(shipment))
    move_package(ctx.package, "packed", ctx.command, logged, ctx.actor.label)
    ctx.after_commit.append(invoice_job(ctx.package))


def create_shipment(ctx: Ctx) -> None:
    company = _company(ctx, ctx.params.cargo_company)
    shipment = _open_shipment(ctx, company, "pending")
    move_package(ctx.package, "waiting_cargo_label", ctx.command, ctx.log_params, ctx.actor.label)
    ctx.after_commit.append(label_job(shipment))


def refresh_label(ctx: Ctx) -> None:
    """Ask again for the label: from the carrier, or, when the sales channel prints the label,
    from the channel's connector (never the carrier: its tracking number would not be the
    marketplace's). A channel that cannot fetch labels is refused with what to do instead."""
    shipment = ctx.package.shipment
    channel = ctx.package.order.channel
    task = channel_labels.label_task(channel) if channel_labels.channel_prints_label(channel) else None
    if channel_labels.channel_prints_label(channel) and task is None:
        raise ValidationFailed(channel_labels.NO_LABEL_FETCH)
    shipment.version += 1  # a new job id, so a finished earlier job does not swallow this one
    if shipment.status in PRE_SHIP_STATUSES:
        shipment.last_error = shipment.last_error_message = None
        set_shipment_status(shipment, "pending", ctx.command, ctx.actor.label)
    log_same_state(ctx.package, ctx.command, ctx.log_params, ctx.actor.label)
    ctx.after_commit.append(channel_labels.fetch_job(shipment, task) if task else label_job(shipment))


def update_shipment_info(ctx: Ctx) -> None:
    shipment, params = ctx.package.shipment, ctx.params
    if params.cargo_company is not None:
        shipment.cargo_company = cargo_company_by_code(params.cargo_company)
    if params.tracking_number is not None:
        shipment.tracking_number = params.tracking_number
    if params.tracking_url is not None:
        shipment.tracking_url = params.tracking_url
    shipment.version += 1
    log_same_state(ctx.package, ctx.command, ctx.log_params, ctx.actor.label)
    ctx.after_commit.append(label_job(shipment))  # the label is regenerated with the new details


def _mark_shipped(ctx: Ctx, shipment: Shipment) -> None:
    shipment.shipped_at = utcnow()
    set_shipment_status(shipment, "in_transit", ctx.command, ctx.actor.label)
    move_package(ctx.package, "shipped", ctx.command, ctx.log_params, ctx.actor.label)


def ship(ctx: Ctx) -> None:
    shipment = ctx.package.shipment
    if shipment.status != "label_ready":
        waiting = "the carrier could not make it: ask for a new label under More actions" \
            if shipment.status == "failed" else "wait until Print label appears"
        raise Conflict(f"The label is not ready yet: {waiting}.", code="command_not_allowed",
                       details={"state": ctx.package.state, "shipment_status": shipment.status})
    _mark_shipped(ctx, shipment)


def _manual_shipment(ctx: Ctx, **fields) -> Shipment:
    """ship_advanced / ship_without_integration: create or update the shipment record by hand."""
    company = cargo_company_by_code(ctx.params.cargo_company)
    shipment = ctx.package.shipment
    if shipment is None or shipment.status == "cancelled":
        return _open_shipment(ctx, company, "label_ready", **fields)
    shipment.cargo_company = company
    for name, value in fields.items():
        if value is not None:
            setattr(shipment, name, value)
    return shipment


def ship_advanced(ctx: Ctx) -> None:
    p = ctx.params
    shipment = _manual_shipment(ctx, tracking_number=p.tracking_number, boxes=p.boxes, weight_kg=p.weight_kg)
    _mark_shipped(ctx, shipment)


def ship_without_integration(ctx: Ctx) -> None:
    p = ctx.params
    shipment = _manual_shipment(ctx, tracking_number=p.tracking_number, tracking_url=p.tracking_url)
    _mark_shipped(ctx, shipment)


def update_shipment_status(ctx: Ctx) -> None:
    status, package = ctx.params.status, ctx.package
    shipment = package.shipment
    if shipment is not None and shipment.status not in ("cancelled", status):
        if status == "delivered":
            shipment.delivered_at = utcnow()
        set_shipment_status(shipment, status, ctx.command, ctx.actor.label)
    if package.state == status:
        log_same_state(package, ctx.command, ctx.log_params, ctx.actor.label)
        return
    left_failed = package.state == "delivery_failed"
    move_package(package, status, ctx.command, ctx.log_params, ctx.actor.label)
    # A parcel the carrier could not deliver comes back to its packing location as a return
    # (SPEC §14); delivered or tried again after all, that return is no longer expected.
    if status == "delivery_failed":
        open_failed_delivery_return(package, ctx.actor.label)
    elif left_failed:
        close_failed_delivery_return(package, ctx.actor.label)


def ready_for_pickup(ctx: Ctx) -> None:
    """The customer is told by the event; with IS_OTP_ENABLED it carries a one-time code, which
    is never part of API responses."""
    extra = None
    if get_setting("IS_OTP_ENABLED", False):
        ctx.package.otp_code = f"{secrets.randbelow(10**6):06d}"
        extra = {"otp": ctx.package.otp_code}
    move_package(ctx.package, "ready_for_pickup", ctx.command, ctx.log_params, ctx.actor.label, event_extra=extra)


def deliver_to_customer(ctx: Ctx) -> None:
    """With IS_OTP_ENABLED a package that has a code is handed over only for that code. One put on
    the pickup shelf while codes were off has none (its customer was sent none): it is handed over
    on the name check as before, and a code typed for it is refused, so no code ever "works"."""
    package = ctx.package
    if get_setting("IS_OTP_ENABLED", False):
        if package.otp_code:
            pickup_codes.check(package.id, ctx.actor.label, package.otp_code, ctx.params.otp)
        elif (ctx.params.otp or "").strip():
            pickup_codes.refuse_code_for_codeless()
    package.otp_code = None
    move_package(package, "delivered", ctx.command, ctx.log_params, ctx.actor.label)


def update_invoice(ctx: Ctx) -> None:
    p, package = ctx.params, ctx.package
    invoice = package.invoice
    if invoice is None:
        invoice = Invoice(package=package)
        db.session.add(invoice)
    invoice.number = p.number
    invoice.date = p.date
    if p.url is not None:
        invoice.url = p.url
    if p.document_base64 is not None:
        raw = base64.b64decode(p.document_base64)
        invoice.document = raw
        invoice.content_type = "application/pdf" if raw.startswith(b"%PDF") else "application/octet-stream"
    log_same_state(package, ctx.command, ctx.log_params, ctx.actor.label)
