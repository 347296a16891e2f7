"""Labels printed by the marketplace (channels with `provides_shipping_label`): the package's
label fetched from the channel's connector — Trendyol's common label (ZPL) today."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.models import Channel
from app.services.channels import ChannelError, connector_for
from app.services.said import N_, said


def fetch_channel_label(channel_code: str, tracking_number: str) -> tuple[str, str]:
    """(format, content) of the channel's label for `tracking_number`, e.g. ("ZPL", "^XA...^XZ").
    Raises ChannelError: transient when the channel has no label yet or did not answer (try
    again), permanent when the channel's connector prints no labels or is not configured.
    Makes an HTTP call: never call it inside a transaction."""
    channel = db.session.scalar(select(Channel).where(Channel.code == channel_code))
    if channel is None:
        raise ChannelError(_('There is no channel %(channel_code)s.', channel_code=channel_code), transient=False)
    connector = connector_for(channel.adapter or "api", channel.config)
    db.session.commit()
    return connector.fetch_label(tracking_number)


def fetch_for_shipment(shipment_id: int, *, last_attempt: bool = True) -> str:
    """The label job for a package packed with `complete_packing_channel` and nothing scanned
    (and for refresh_label and the stale-label sweep on such packages): ask the channel for its
    label by the package's tracking number (the one the channel gave with the order, e.g.
    Trendyol's `cargoTrackingNumber`) and store it as a carrier label job does. A transient
    ChannelError propagates unless this is the `last_attempt`, so the job (app.tasks.channels.
    fetch_label) is retried; on the last attempt its message is recorded and the shipment stays
    pending, for the carrier poll's stale-label sweep to try again later. A permanent error is
    recorded on the shipment (`failed`, with the message) for staff to read."""
    from app.models import ChannelInboxEntry, Order, Package, Shipment
    from app.services import shipments
    from app.services.carriers import CarrierShipment

    shipment = db.session.get(Shipment, shipment_id)
    if shipment is None:
        return "missing"
    package = db.session.get(Package, shipment.package_id)
    order = db.session.get(Order, package.order_id)
    channel = db.session.get(Channel, order.channel_id)
    tracking = shipment.tracking_number or _tracking_from_inbox(order.id, ChannelInboxEntry)
    actor = f"system:channel:{channel.code}"
    if not tracking:
        no_tracking = N_("The channel gave no tracking number for this order; scan the marketplace's label instead.")
        shipments.label_failed(shipment_id, no_tracking, actor, said_as=said(no_tracking))
        return "failed: no tracking number"
    try:
        fmt, content = fetch_channel_label(channel.code, tracking)
    except ChannelError as exc:
        if exc.transient and not last_attempt:
            raise
        if exc.transient:
            shipments.label_failed(shipment_id, exc.message, actor, final=False, said_as=exc.said)
            return f"waiting: {exc.message}"
        shipments.label_failed(shipment_id, exc.message, actor, said_as=exc.said)
        return f"failed: {exc.message}"
    result = CarrierShipment(tracking_number=tracking, tracking_url=shipment.tracking_url or "", label_pdf=b"",
                             label_zpl=content if fmt.upper() == "ZPL" else "", carrier_reference="")
    done = shipments.label_ready(shipment_id, result, actor)
    return "label_ready" if done is not None else "skipped: shipment changed meanwhile"


def _tracking_from_inbox(order_id: int, model) -> str | None:
    import json

    body = db.session.scalar(select(model.body).where(model.order_id == order_id).order_by(model.id.desc()).limit(1))
    try:
        value = json.loads(body).get("cargoTrackingNumber") if body else None
    except (ValueError, AttributeError):
        return None
    return str(value) if value else None
