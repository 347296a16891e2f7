"""The carrier adapter contract: what a job hands an adapter and what it gets back.

Adapters are pure: they know nothing about the database. A job loads the shipment, builds a
`ShipmentRequest`, calls the adapter and records the answer (or the `CarrierError`) itself.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar, Literal

from app.services.said import Message, recall

CarrierStatusName = Literal["in_transit", "attempted_delivery", "delivery_failed", "delivered", "cancelled"]
CARRIER_STATUSES: tuple[CarrierStatusName, ...] = (
    "in_transit",
    "attempted_delivery",
    "delivery_failed",
    "delivered",
    "cancelled",
)

MAX_ERROR_LENGTH = 500

# Tracking numbers end up in URL paths, Code 128 symbols and ZPL fields, so only characters that
# are safe in all three are accepted; 100 matches the shipments.tracking_number column.
_TRACKING_NUMBER = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


class CarrierError(Exception):
    """A carrier call failed.

    `transient` errors (timeouts, connection errors, 5xx) are worth retrying as they are; the job
    lets them raise so RQ retries. Permanent ones (4xx, validation, nonsense answers) are recorded
    on the shipment for staff to read. The message is capped so a carrier's error page can never
    flood the database or the UI.

    `said` is the same sentence as a catalogue message (services/said.py), for the screens that
    show it later in the reader's language: given, or recalled from a message said through `_()`
    inside `said.listening()` (the label job listens); else the text itself.
    """

    def __init__(self, message: str, transient: bool, said: Message | None = None) -> None:
        self.said: Message | str = said if said is not None else recall(message)
        message = " ".join(str(message).split())
        if len(message) > MAX_ERROR_LENGTH:
            message = message[: MAX_ERROR_LENGTH - 1] + "…"
        super().__init__(message)
        self.message = message
        self.transient = transient

    def __repr__(self) -> str:
        return f"CarrierError({self.message!r}, transient={self.transient})"


@dataclass(frozen=True)
class Address:
    """A postal address block as printed on labels (sender = packing location)."""

    name: str
    line: str
    city: str
    district: str = ""
    postcode: str = ""
    country: str = ""
    phone: str = ""


@dataclass(frozen=True)
class ShipmentRequest:
    """Everything a carrier needs to create one shipment (one package, one or more boxes).

    `idempotency_key` must be stable for the shipment across retries (the package number is
    enough while a package has one shipment): a retried create must return the shipment the
    carrier already made instead of a second one.
    """

    package_number: str
    order_number: str
    boxes: int
    weight_kg: Decimal | None
    cargo_company_code: str
    sender: Address
    recipient: Address
    idempotency_key: str

    def __post_init__(self) -> None:
        if not isinstance(self.boxes, int) or self.boxes < 1:
            raise ValueError(f"boxes must be a positive integer, not {self.boxes!r}")
        if not self.idempotency_key:
            raise ValueError("idempotency_key must not be empty")


@dataclass(frozen=True)
class CarrierShipment:
    """What the carrier answered to a create: tracking data and the label in both formats."""

    tracking_number: str
    tracking_url: str
    label_pdf: bytes
    label_zpl: str
    carrier_reference: str


@dataclass(frozen=True)
class CarrierStatus:
    """A parcel's status in our vocabulary (None: nothing we act on) and the carrier's own text."""

    status: CarrierStatusName | None
    raw: str


def validate_tracking_number(value: object) -> str:
    """Return `value` stripped if it is a usable tracking number, else raise ValueError."""
    text = value.strip() if isinstance(value, str) else ""
    if not _TRACKING_NUMBER.fullmatch(text):
        raise ValueError(f"a tracking number is 1-100 letters, digits, '.', '_' or '-', not {str(value)[:60]!r}")
    return text


class CarrierAdapter(ABC):
    """One carrier integration, configured per cargo company.

    Every method raises `CarrierError` and nothing else; a create must be idempotent on
    `req.idempotency_key`.
    """

    name: ClassVar[str]

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = dict(config)

    @abstractmethod
    def create_shipment(self, req: ShipmentRequest) -> CarrierShipment:
        """Create (or find, on a retry) the shipment and return its tracking data and label."""

    @abstractmethod
    def fetch_label(self, tracking_number: str, req: ShipmentRequest) -> tuple[bytes, str]:
        """Return the label again as (PDF bytes, ZPL text)."""

    @abstractmethod
    def query_status(self, tracking_number: str, shipped_at: datetime, now: datetime) -> CarrierStatus:
        """Ask where the parcel is; `status` is None when there is nothing new to act on."""

    @abstractmethod
    def cancel(self, tracking_number: str) -> None:
        """Cancel the shipment at the carrier."""
