"""Following parcels at the carrier: status polling, lost label requests, carrier cancellation.

All of it runs from the periodic `poll_shipments` job. Like label requests, carrier calls run
with no database transaction open; each parcel's news is applied in its own short transaction,
so one parcel's problem never holds up or undoes another's.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.models import CargoCompany, Channel, Order, Package, Shipment, TransitionLog
from app.models.base import utcnow
from app.services import events, said
from app.services.actors import Actor
from app.services.carriers import CarrierAdapter, CarrierError, CarrierStatus, get_adapter
from app.services.db import begin_write
from app.services.errors import ServiceError
from app.services.lifecycle import set_shipment_status
from app.services.packages import run_package_command
from app.services.shipments import CARRIER_ACTOR
from app.services.transitions import DELIVERY_STATUS_TARGETS, OUT_WITH_CARRIER, SHIPMENT_TRANSITIONS

log = logging.getLogger(__name__)

# Package states in which the parcel is with the carrier and worth polling.
CANCEL_COMMAND = "cancel_at_carrier"
# Cancellations older than this are not sent any more (the carrier has long dropped the parcel).
CANCEL_WINDOW = timedelta(days=7)


@dataclass(frozen=True)
class _Parcel:
    shipment_id: int
    package_id: int
    tracking_number: str
    cargo_company_id: int
    shipped_at: datetime


class _Adapters:
    """One adapter per cargo company per run; a broken config raises CarrierError each time."""

    def __init__(self, company_ids: set[int]) -> None:
        self.configs = {c.id: (c.adapter, dict(c.config or {})) for c in db.session.scalars(
            select(CargoCompany).where(CargoCompany.id.in_(company_ids)))}
        self.built: dict[int, CarrierAdapter] = {}

    def __call__(self, company_id: int) -> CarrierAdapter:
        if company_id not in self.built:
            self.built[company_id] = get_adapter(*self.configs[company_id])
        return self.built[company_id]


def poll_open_shipments(now: datetime | None = None) -> dict[str, int]:
    """Ask the carrier about every parcel out for delivery and apply what changed.

    Delivery news moves the package through the `update_shipment_status` command (as
    system:carrier); the shipment's own status follows. One parcel's error never stops the others.
    Returns counts for the job result.
    """
    now = now or utcnow()
    rows = db.session.execute(
        select(Shipment.id, Shipment.package_id, Shipment.tracking_number, Shipment.cargo_company_id,
               func.coalesce(Shipment.shipped_at, Package.state_changed_at))
        .join(Package, Package.id == Shipment.package_id)
        .where(Package.state.in_(OUT_WITH_CARRIER), Shipment.tracking_number.is_not(None),
               Shipment.cargo_company_id.is_not(None), Shipment.status.not_in(("cancelled", "delivered")))
        .order_by(Shipment.id)
    ).all()
    parcels = [_Parcel(*row) for row in rows]
    adapters = _Adapters({p.cargo_company_id for p in parcels})
    db.session.rollback()  # no transaction stays open across carrier calls
    counts = {"polled": 0, "changed": 0, "errors": 0}
    for parcel in parcels:
        counts["polled"] += 1
        try:
            news = adapters(parcel.cargo_company_id).query_status(parcel.tracking_number, parcel.shipped_at, now)
            if apply_carrier_status(parcel.shipment_id, news):
                counts["changed"] += 1
        except CarrierError as exc:
            counts["errors"] += 1
            log.warning("status of shipment %s (%s) unknown: %s", parcel.shipment_id, parcel.tracking_number, exc)
        except ServiceError as exc:
            counts["errors"] += 1
            db.session.rollback()
            log.warning("status of shipment %s not applied: %s", parcel.shipment_id, exc.message)
    return counts


def apply_carrier_status(shipment_id: int, news: CarrierStatus) -> bool:
    """Apply one parcel's carrier status; returns whether anything changed."""
    if news.status is None:
        return False
    shipment = db.session.get(Shipment, shipment_id)
    if shipment is None:
        return False
    changed = False
    package_id, package_state = shipment.package_id, shipment.package.state
    db.session.rollback()
    if news.status in DELIVERY_STATUS_TARGETS and package_state != news.status:
        run_package_command(package_id, "update_shipment_status", {"status": news.status}, Actor.system("carrier"))
        changed = True
    return _follow_carrier(shipment_id, news) or changed


def _follow_carrier(shipment_id: int, news: CarrierStatus) -> bool:
    """Set the shipment's own status to the carrier's when the shipment table allows the move."""
    begin_write()
    shipment = db.session.scalars(select(Shipment).where(Shipment.id == shipment_id).with_for_update()
                                  .execution_options(populate_existing=True)).one_or_none()
    if shipment is None or shipment.status == news.status or news.status not in SHIPMENT_TRANSITIONS.get(
            shipment.status, ()):
        db.session.rollback()
        return False
    set_shipment_status(shipment, news.status, "carrier_status", CARRIER_ACTOR, {"carrier_status": news.raw})
    db.session.commit()
    return True


def stale_label_requests(older_than: timedelta = timedelta(minutes=15)) -> list[tuple[str, int, str]]:
    """(task, shipment id, job id) for pending shipments untouched for `older_than`: their label
    job was lost or gave up (Redis down at enqueue time, worker killed, the marketplace had no
    label yet), so the poll enqueues it again. A package whose sales channel prints its label
    gets the channel's fetch job again, never a carrier request (that would be a second parcel
    with a tracking number the marketplace does not know); one whose channel cannot fetch labels
    is left to staff (they scan the label)."""
    from app.services.package_commands import channel_labels

    rows = db.session.execute(
        select(Shipment.id, Shipment.version, Channel).join(Package, Package.id == Shipment.package_id)
        .join(Order, Order.id == Package.order_id).join(Channel, Channel.id == Order.channel_id)
        .where(Shipment.status == "pending", Shipment.updated_at < utcnow() - older_than,
               Package.state.not_in(("cancelled", "refused", "packed_for_refund")))
        .order_by(Shipment.id)
    ).all()
    jobs = []
    for shipment_id, version, channel in rows:
        if not channel_labels.channel_prints_label(channel):
            jobs.append(("app.tasks.carriers.request_label", shipment_id, f"label-{shipment_id}-{version}"))
        elif task := channel_labels.label_task(channel):
            jobs.append((task, shipment_id, channel_labels.job_id(shipment_id, version)))
    db.session.rollback()
    return jobs


def cancel_cancelled_at_carriers() -> dict[str, int]:
    """Tell carriers about shipments cancelled here that they had issued a tracking number for.

    A shipment counts as told once its history has a `cancel_at_carrier` row after its last
    cancellation; transient carrier errors leave it for the next poll, permanent ones are
    written to the history (with the message) and not sent again.
    """
    candidates = db.session.execute(
        select(Shipment.id, Shipment.tracking_number, Shipment.cargo_company_id)
        .where(Shipment.status == "cancelled", Shipment.tracking_number.is_not(None),
               Shipment.cargo_company_id.is_not(None), Shipment.updated_at >= utcnow() - CANCEL_WINDOW)
        .order_by(Shipment.id)
    ).all()
    todo = [row for row in candidates if _last_command(row[0]) != CANCEL_COMMAND]
    adapters = _Adapters({row[2] for row in todo})
    db.session.rollback()
    counts = {"cancelled_at_carrier": 0, "cancel_errors": 0}
    for shipment_id, tracking_number, company_id in todo:
        error, error_said = None, None
        try:
            with said.listening():  # the carrier's error is kept as the catalogue message it was
                adapters(company_id).cancel(tracking_number)
        except CarrierError as exc:
            counts["cancel_errors"] += 1
            log.warning("carrier cancellation of shipment %s (%s) failed: %s", shipment_id, tracking_number, exc)
            if exc.transient:
                continue
            error, error_said = exc.message, exc.said
        if _record_cancellation(shipment_id, tracking_number, error, error_said) and error is None:
            counts["cancelled_at_carrier"] += 1
    return counts


def _last_command(shipment_id: int) -> str | None:
    return db.session.scalar(
        select(TransitionLog.command).where(TransitionLog.entity_type == "shipment",
                                            TransitionLog.entity_id == shipment_id)
        .order_by(TransitionLog.id.desc()).limit(1))


def _record_cancellation(shipment_id: int, tracking_number: str, error: str | None,
                         error_said: said.Message | str | None = None) -> bool:
    begin_write()
    shipment = db.session.scalars(select(Shipment).where(Shipment.id == shipment_id).with_for_update()
                                  .execution_options(populate_existing=True)).one_or_none()
    # Re-opened meanwhile (a new shipment on the same row) or already recorded: nothing to write.
    if (shipment is None or shipment.status != "cancelled" or shipment.tracking_number != tracking_number
            or _last_command(shipment_id) == CANCEL_COMMAND):
        db.session.rollback()
        return False
    params = {"tracking_number": tracking_number, **({"error": error} if error else {})}
    if error and (message := said.stored_message(error_said)):
        params["error_message"] = message  # the history says it in the reader's language
    events.log_transition("shipment", shipment_id, "cancelled", "cancelled", CANCEL_COMMAND, params, CARRIER_ACTOR)
    db.session.commit()
    return True
