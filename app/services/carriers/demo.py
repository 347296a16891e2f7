"""The built-in demo carrier: real labels, made-up tracking, parcels delivered by the clock."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from flask_babel import gettext as _

from app.services.carriers.base import (
    CarrierAdapter,
    CarrierError,
    CarrierShipment,
    CarrierStatus,
    ShipmentRequest,
    validate_tracking_number,
)
from app.services.carriers.labels import render_label_pdf, render_zpl

TRACKING_PREFIX = "PKL"
TRACKING_DIGITS = 16
TRACKING_URL = "https://track.example.invalid/{tracking_number}"


def demo_tracking_number(idempotency_key: str) -> str:
    """The tracking number the demo carrier gives `idempotency_key`: same key, same number.

    Sixteen digits of SHA-256 keep collisions unlikely (about one in 20,000 among a million
    shipments), which is plenty for a carrier that only exists for demos and tests.
    """
    digest = hashlib.sha256(idempotency_key.encode()).digest()
    number = int.from_bytes(digest[:8], "big") % 10**TRACKING_DIGITS
    return f"{TRACKING_PREFIX}{number:0{TRACKING_DIGITS}d}"


def _as_utc(moment: datetime) -> datetime:
    # Naive datetimes in Packline are UTC (the database stores them that way).
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


class DemoCarrier(CarrierAdapter):
    """A carrier without a network: config `deliver_after_minutes` (default 60)."""

    name = "demo"

    def __init__(self, config: Mapping[str, Any]) -> None:
        super().__init__(config)
        raw = self.config.get("deliver_after_minutes", 60)
        try:
            minutes = float(raw)
        except (TypeError, ValueError):
            minutes = -1.0
        if not minutes >= 0:  # also rejects NaN
            raise CarrierError(
                _('demo carrier: deliver_after_minutes must be a number >= 0, not %(raw)s', raw=repr(raw)),
                transient=False,
            )
        self.deliver_after = timedelta(minutes=minutes)

    def create_shipment(self, req: ShipmentRequest) -> CarrierShipment:
        """Issue the key's tracking number and render its label; a retry gets the same answer."""
        tracking_number = demo_tracking_number(req.idempotency_key)
        pdf, zpl = self.fetch_label(tracking_number, req)
        return CarrierShipment(
            tracking_number=tracking_number,
            tracking_url=TRACKING_URL.format(tracking_number=tracking_number),
            label_pdf=pdf,
            label_zpl=zpl,
            carrier_reference=f"demo:{req.idempotency_key}"[:200],
        )

    def fetch_label(self, tracking_number: str, req: ShipmentRequest) -> tuple[bytes, str]:
        """Render the label for `tracking_number` (PDF, ZPL)."""
        try:
            tracking_number = validate_tracking_number(tracking_number)
        except ValueError as exc:
            raise CarrierError(str(exc), transient=False) from None
        return render_label_pdf(req, tracking_number), render_zpl(req, tracking_number)

    def query_status(self, tracking_number: str, shipped_at: datetime, now: datetime) -> CarrierStatus:
        """In transit once shipped, delivered `deliver_after_minutes` after `shipped_at`."""
        if _as_utc(now) - _as_utc(shipped_at) >= self.deliver_after:
            return CarrierStatus("delivered", "Delivered (demo)")
        return CarrierStatus("in_transit", "In transit (demo)")

    def cancel(self, tracking_number: str) -> None:
        """Nothing to undo at a carrier that does not exist."""
