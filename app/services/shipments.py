"""Shipments at the carrier: asking for the tracking number and label, and printing documents.

Carrier calls never run inside a database transaction. A label request reads what it needs,
closes the read, calls the adapter, then records the answer in one short write transaction that
re-checks the shipment has not moved on meanwhile (`version`). The package commands
(app/services/packages.py) create the shipment, set it `pending` and enqueue the job; this module
is what the job runs. Following parcels after they ship is app/services/shipment_tracking.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select

from app.extensions import db
from app.models import CargoCompany, Order, Package, Shipment, TransitionLog
from app.services import events, said
from app.services.actors import Actor
from app.services.carriers import (
    Address,
    CarrierError,
    CarrierShipment,
    ShipmentRequest,
    get_adapter,
)
from app.services.carriers.labels import render_packing_slip_pdf
from app.services.db import begin_write
from app.services.errors import NotFound, ValidationFailed
from app.services.lifecycle import move_package, set_shipment_status
from app.services.transitions import NOT_HOLDING_ITEM_STATES

CARRIER_ACTOR = "system:carrier"
# Shipment statuses in which a label is still wanted; anything else means a label job is late.
AWAITING_LABEL = ("pending", "failed")
# A shipment with a label whose label may be made again when the shipment changed.
REGENERABLE = ("label_ready", "in_transit", "attempted_delivery", "delivery_failed")
# After a label arrives the shipment follows its package: not handed over yet -> label_ready.
_STATUS_FOR_PACKAGE_STATE = {
    "shipped": "in_transit",
    "attempted_delivery": "attempted_delivery",
    "delivery_failed": "delivery_failed",
    "delivered": "delivered",
}


# ------------------------------------------------------------------------------ label request


@dataclass(frozen=True)
class _LabelPlan:
    """What a label request needs, read before the carrier call (no rows held)."""

    shipment_id: int
    version: int
    adapter: str
    config: dict
    request: ShipmentRequest
    tracking_number: str | None
    tracking_url: str | None


def idempotency_key(shipment: Shipment) -> str:
    """The key the carrier de-duplicates creates by: stable across retries of one shipment,
    new once the shipment was cancelled (a cancelled shipment must not be handed back)."""
    cancellations = db.session.scalar(
        select(func.count(TransitionLog.id)).where(
            TransitionLog.entity_type == "shipment",
            TransitionLog.entity_id == shipment.id,
            TransitionLog.to_state == "cancelled",
        )
    ) or 0
    key = f"{shipment.package.number}-{shipment.id}"
    return f"{key}-r{cancellations}" if cancellations else key


def location_address(package: Package) -> Address:
    loc = package.location
    return Address(name=loc.name, line=loc.address or "", city=loc.city or "", district=loc.district or "")


def recipient_address(order: Order) -> Address:
    return Address(name=order.customer_name or "", line=order.ship_line or "", city=order.ship_city or "",
                   district=order.ship_district or "", postcode=order.ship_postcode or "",
                   country=order.ship_country or "", phone=order.customer_phone or "")


def _cargo_company(shipment: Shipment) -> CargoCompany:
    cargo = shipment.cargo_company or shipment.package.order.cargo_company
    if cargo is None:
        raise CarrierError(_('no cargo company is set for this shipment or its order'), transient=False)
    if not cargo.active:
        raise CarrierError(_('cargo company %(code)s is not active', code=cargo.code), transient=False)
    return cargo


def label_version(shipment: Shipment) -> int | None:
    """The shipment version its current label was made for (from the shipment's history)."""
    params = db.session.scalar(
        select(TransitionLog.params).where(
            TransitionLog.entity_type == "shipment", TransitionLog.entity_id == shipment.id,
            TransitionLog.command == "request_label", TransitionLog.to_state != "failed",
        ).order_by(TransitionLog.id.desc()).limit(1)
    )
    return (params or {}).get("version")


def wants_label(shipment: Shipment) -> bool:
    """A label is wanted while the shipment awaits one, and again once the label is older than
    the shipment (refresh_label and update_shipment_info bump `version`)."""
    if shipment.status in AWAITING_LABEL:
        return True
    return (shipment.status in REGENERABLE and bool(shipment.tracking_number)
            and label_version(shipment) != shipment.version)


def _plan(shipment_id: int) -> _LabelPlan | str:
    """The label request to make, or why none is needed (a string)."""
    shipment = db.session.get(Shipment, shipment_id)
    if shipment is None:
        return "shipment does not exist"
    package = shipment.package
    if package.state in ("cancelled", "refused", "packed_for_refund"):
        return f"package is {package.state}"
    if not wants_label(shipment):
        return f"shipment is {shipment.status} and its label is current"
    order = package.order
    if order.channel is not None and order.channel.provides_shipping_label:
        # The marketplace prints this parcel's label (its tracking number is the marketplace's);
        # a carrier label would be a second, unknown parcel. The channel's fetch job brings it.
        return "the sales channel prints this package's label"
    cargo = _cargo_company(shipment)
    request = ShipmentRequest(
        package_number=package.number, order_number=order.number, boxes=shipment.boxes or 1,
        weight_kg=shipment.weight_kg, cargo_company_code=cargo.code, sender=location_address(package),
        recipient=recipient_address(order), idempotency_key=idempotency_key(shipment),
    )
    return _LabelPlan(shipment.id, shipment.version, cargo.adapter, dict(cargo.config or {}), request,
                      shipment.tracking_number, shipment.tracking_url)


def request_label(shipment_id: int, *, last_attempt: bool = True) -> str:
    """Ask the carrier for the shipment's tracking number and label and record the answer.

    Creates the shipment at the carrier, or only fetches the label when the shipment already has
    a tracking number (refresh_label, update_shipment_info). Idempotent: nothing is sent unless
    `wants_label`, and creates carry a stable idempotency key. A transient carrier error is
    recorded (attempts, last_error) and re-raised as `CarrierError` unless this is the
    `last_attempt`; a permanent error, or a transient one on the last attempt, leaves a shipment
    that awaited its first label `failed` with the carrier's message. Returns what happened.

    Runs inside `said.listening()`, so a carrier's message said through `_()` is kept as its
    catalogue message too (`CarrierError.said`) and shown in the reader's language.
    """
    with said.listening():
        return _request_label(shipment_id, last_attempt)


def _request_label(shipment_id: int, last_attempt: bool) -> str:
    try:
        plan = _plan(shipment_id)
    except CarrierError as exc:  # configuration problem: nothing to retry
        db.session.rollback()
        label_failed(shipment_id, exc.message, CARRIER_ACTOR, final=True, said_as=exc.said)
        return "failed"
    db.session.rollback()  # end the read before the network call
    if isinstance(plan, str):
        return f"skipped: {plan}"
    try:
        adapter = get_adapter(plan.adapter, plan.config)
        if plan.tracking_number:
            pdf, zpl = adapter.fetch_label(plan.tracking_number, plan.request)
            result = CarrierShipment(plan.tracking_number, plan.tracking_url or "", pdf, zpl, "")
        else:
            result = adapter.create_shipment(plan.request)
    except CarrierError as exc:
        final = last_attempt or not exc.transient
        label_failed(shipment_id, exc.message, CARRIER_ACTOR, final=final, expected_version=plan.version,
                     said_as=exc.said)
        if not final:
            raise
        return "failed"
    done = label_ready(shipment_id, result, CARRIER_ACTOR, expected_version=plan.version)
    return "label_ready" if done is not None else "skipped: shipment changed meanwhile"


def package_id_of(shipment_id: int) -> int | None:
    return db.session.scalar(select(Shipment.package_id).where(Shipment.id == shipment_id))


def _lock(shipment_id: int, expected_version: int | None) -> tuple[Shipment, Package] | None:
    """Lock package then shipment (the order the package commands use) and reload both; None
    (transaction rolled back) when the shipment is gone, moved on, or wants no label."""
    package_id = db.session.scalar(select(Shipment.package_id).where(Shipment.id == shipment_id))
    if package_id is not None:
        package = db.session.scalars(select(Package).where(Package.id == package_id).with_for_update()
                                     .execution_options(populate_existing=True)).one()
        shipment = db.session.scalars(select(Shipment).where(Shipment.id == shipment_id).with_for_update()
                                      .execution_options(populate_existing=True)).one()
        if (expected_version is None or shipment.version == expected_version) and wants_label(shipment):
            return shipment, package
    db.session.rollback()
    return None


def label_ready(shipment_id: int, result: CarrierShipment, actor_label: str,
                expected_version: int | None = None) -> Shipment | None:
    """Store the carrier's tracking data and label; a package waiting for it becomes `packed`.

    Returns None (and changes nothing) when the shipment wants no label any more or moved on
    since the request was made (`expected_version`): a newer request has its own job.
    """
    begin_write()
    locked = _lock(shipment_id, expected_version)
    if locked is None:
        return None
    shipment, package = locked
    shipment.tracking_number = result.tracking_number
    shipment.tracking_url = result.tracking_url or shipment.tracking_url
    shipment.carrier_reference = result.carrier_reference or shipment.carrier_reference
    shipment.label_pdf, shipment.label_zpl = result.label_pdf, result.label_zpl
    shipment.attempts += 1
    shipment.last_error = shipment.last_error_message = None
    params = {"tracking_number": result.tracking_number, "version": shipment.version}
    if shipment.status in AWAITING_LABEL:
        set_shipment_status(shipment, _STATUS_FOR_PACKAGE_STATE.get(package.state, "label_ready"), "request_label",
                            actor_label, params)
    else:  # a regenerated label: same status, still written to the history
        events.log_transition("shipment", shipment.id, shipment.status, shipment.status, "request_label", params,
                              actor_label)
    if package.state == "waiting_cargo_label":
        package.version += 1
        move_package(package, "packed", "label_ready", {"tracking_number": result.tracking_number}, actor_label)
    db.session.commit()
    return shipment


def label_failed(shipment_id: int, message: str, actor_label: str, final: bool = True,
                 expected_version: int | None = None, said_as: said.Message | str | None = None) -> Shipment | None:
    """Record a failed label request: attempts and the carrier's message. With `final` a
    shipment that awaited its first label becomes `failed`; the package keeps its state, so
    refresh_label can try again. Returns None when the shipment moved on meanwhile.

    `message` is kept as it is in `last_error` (logs, the API); `said_as`, the same sentence as
    a catalogue message (a `CarrierError.said`), in `last_error_message` for the store's shipment
    panel, which says it in the reader's language.
    """
    begin_write()
    locked = _lock(shipment_id, expected_version)
    if locked is None:
        return None
    shipment = locked[0]
    shipment.attempts += 1
    shipment.last_error = message[:1000]
    shipment.last_error_message = said.stored_message(said_as)
    if final and shipment.status == "pending":
        params = {"error": message[:300]}
        if shipment.last_error_message:  # the history says it in the reader's language
            params["error_message"] = shipment.last_error_message
        set_shipment_status(shipment, "failed", "request_label", actor_label, params, repeat=True)
    db.session.commit()
    return shipment


# ---------------------------------------------------------------------------------- documents


@dataclass(frozen=True)
class Document:
    content: bytes
    mimetype: str
    filename: str


LABEL_FORMATS = ("pdf", "zpl")


def _visible_package(package_id: int, actor: Actor) -> Package:
    package = db.session.get(Package, package_id)
    if package is None or not actor.can_see(package.location_id):
        raise NotFound(_('Package not found.'))
    return package


def label_document(package_id: int, fmt: str, actor: Actor) -> Document:
    """The package's shipping label as PDF or ZPL; NotFound explains why there is none yet."""
    if fmt not in LABEL_FORMATS:
        raise ValidationFailed(_('Unknown label format.'), details={"format": _('Must be pdf or zpl.')})
    package = _visible_package(package_id, actor)
    shipment = package.shipment
    if shipment is None or shipment.status == "cancelled":
        raise NotFound(_('Package %(number)s has no shipment yet: complete packing or create a shipment first, then the carrier issues the label.', number=package.number), code="no_shipment")
    content = shipment.label_pdf if fmt == "pdf" else (shipment.label_zpl or "").encode() or None
    if content:
        if fmt == "pdf":
            return Document(content, "application/pdf", f"label-{package.number}.pdf")
        return Document(content, "text/plain; charset=utf-8", f"label-{package.number}.zpl")
    if shipment.label_url:
        raise NotFound(_('The label of package %(number)s is printed from the sales channel.', number=package.number),
                       details={"label_url": shipment.label_url}, code="external_label")
    if shipment.status == "failed":
        raise NotFound(_('The carrier could not issue a label for package %(number)s: %(last_error)s. Use refresh_label to try again.', number=package.number, last_error=shipment.last_error), details={"status": shipment.status}, code="no_label")
    if shipment.status == "pending":
        raise NotFound(_('The label of package %(number)s is not ready yet: the carrier is being asked for it. Try again in a moment.', number=package.number), details={"status": shipment.status}, code="no_label")
    raise NotFound(_('Package %(number)s has no label: its shipment details were entered by hand. Use refresh_label to have the carrier issue one.', number=package.number), details={"status": shipment.status},
                   code="no_label")


def packing_slip_document(package_id: int, actor: Actor) -> Document:
    """The package's A4 packing slip (PDF) listing the items that travel in it."""
    package = _visible_package(package_id, actor)
    items = [(i.product.sku, i.product.name, i.quantity) for i in package.items
             if i.state not in NOT_HOLDING_ITEM_STATES]
    pdf = render_packing_slip_pdf(package.number, package.order.number, location_address(package),
                                  recipient_address(package.order), items)
    return Document(pdf, "application/pdf", f"packing-slip-{package.number}.pdf")
