"""Stock locations as a record kind of `services.records`: every edge (API, admin form, import)
writes them through it, and every write is announced as a stock_location event."""

from __future__ import annotations

from typing import Any

from app.models import StockLocation
from app.schemas.catalog import LocationIn, LocationPatch
from app.services import events, records
from app.services.representations import location_dict


def _announce(location: StockLocation, old: dict[str, Any] | None) -> None:
    """stock_location.created, or .updated with the old values of what changed (SPEC §7)."""
    if old is None:
        events.emit("stock_location.created", "stock_location", location.id, location_dict(location))
    else:
        events.emit("stock_location.updated", "stock_location", location.id, location_dict(location), old)


LOCATIONS = records.Kind(StockLocation, "code", LocationIn, LocationPatch, "location", location_dict,
                         written=_announce)
