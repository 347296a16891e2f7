"""Carrier adapters by name: a cargo company names its adapter and config, a job asks for it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import gettext as _

from app.services.carriers.base import (
    Address,
    CarrierAdapter,
    CarrierError,
    CarrierShipment,
    CarrierStatus,
    ShipmentRequest,
    validate_tracking_number,
)
from app.services.carriers.demo import DemoCarrier
from app.services.carriers.http import HttpCarrier

ADAPTERS: dict[str, type[CarrierAdapter]] = {
    DemoCarrier.name: DemoCarrier,
    HttpCarrier.name: HttpCarrier,
}

__all__ = [
    "ADAPTERS",
    "Address",
    "CarrierAdapter",
    "CarrierError",
    "CarrierShipment",
    "CarrierStatus",
    "ShipmentRequest",
    "get_adapter",
    "validate_tracking_number",
]


def get_adapter(adapter_name: str, config: Mapping[str, Any] | None) -> CarrierAdapter:
    """Build the adapter called `adapter_name` with `config`.

    An unknown name or a bad config is a permanent `CarrierError`, so the job records it on the
    shipment where an admin can see and fix it.
    """
    adapter = ADAPTERS.get(adapter_name)
    if adapter is None:
        known = ", ".join(sorted(ADAPTERS))
        raise CarrierError(_('unknown carrier adapter %(adapter_name)s (known: %(known)s)', adapter_name=repr(adapter_name), known=known), transient=False)
    return adapter(config or {})
