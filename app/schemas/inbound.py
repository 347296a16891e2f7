"""Inbound goods as integrators send them (SPEC §14): suppliers, purchase orders and their
commands, inbound shipments and their status events, reorder points. The services validate with
these models; the OpenAPI document shows them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints, field_validator, model_validator

from app.schemas.catalog import Sku
from app.schemas.common import SPACE, Code, Name, StrictModel, decimal, partial_model

Money = decimal(10, 2)
Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
Reference = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)]
Url = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000,
                                       pattern=rf"^https?://[^{SPACE}]+$")]
ReceiptKey = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
MAX_QUANTITY = 1_000_000  # units on one line: far below the Integer column's 2,147,483,647
Quantity = Annotated[int, Field(ge=1, le=MAX_QUANTITY)]
EARLIEST_YEAR, LATEST_YEAR = 2000, 2100


def _utc(value: datetime | None) -> datetime | None:
    """A naive UTC time (what the database stores) from an aware or naive (taken as UTC) one,
    between the years 2000 and 2100 like every date the reports take (1900-01-01 or 9999-12-31
    typed into an expected date is a slip, not a plan)."""
    if value is None:
        return value
    if value.tzinfo is not None:
        try:
            value = value.astimezone(UTC).replace(tzinfo=None)
        except OverflowError:
            raise ValueError(f"Choose a date between {EARLIEST_YEAR} and {LATEST_YEAR}.") from None
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValueError(f"Choose a date between {EARLIEST_YEAR} and {LATEST_YEAR}.")
    return value


# --- suppliers -----------------------------------------------------------------------------------

class SupplierIn(StrictModel):
    code: Code
    name: Name
    contact: Note | None = Field(None, description="Who to call or write to, in plain words.")
    lead_time_days: int = Field(0, ge=0, le=3650, description="Usual days from order to arrival.")
    active: bool = True


SupplierPatch = partial_model(SupplierIn, "SupplierPatch", exclude=("code",))


class SupplierOut(SupplierIn):
    pass


# --- purchase orders -----------------------------------------------------------------------------

class PurchaseOrderLineIn(StrictModel):
    sku: Sku
    quantity: Quantity = Field(description="Units ordered.")
    unit_cost: Money | None = Field(None, description="Price per unit, e.g. \"12.50\".")


class PurchaseOrderIn(StrictModel):
    number: Code = Field(description="The purchase order number; unique.")
    supplier: Code = Field(description="Supplier code.")
    destination: Code = Field(description="Code of the location the goods go to.")
    expected_at: datetime | None = Field(None, description="When the goods are expected (ISO 8601).")
    note: Note | None = None
    lines: list[PurchaseOrderLineIn] = Field(min_length=1, max_length=1000)

    @field_validator("expected_at")
    @classmethod
    def _expected_utc(cls, value: datetime | None) -> datetime | None:
        return _utc(value)

    @model_validator(mode="after")
    def _one_line_per_sku(self) -> PurchaseOrderIn:
        seen: set[str] = set()
        for line in self.lines:
            if line.sku in seen:
                raise ValueError(f"SKU {line.sku} is on two lines: put it on one line.")
            seen.add(line.sku)
        return self


class PurchaseOrderLineOut(BaseModel):
    id: int
    sku: str
    quantity: int
    received: int = Field(description="Every unit that arrived, damaged ones too.")
    damaged: int = Field(description="Units that arrived unusable: recorded, not stocked.")
    unit_cost: str | None


class PurchaseOrderOut(BaseModel):
    id: int
    number: str
    supplier: str
    destination: str
    expected_at: str | None
    state: str
    close_reason: str | None
    note: str | None
    lines: list[PurchaseOrderLineOut]
    allowed_commands: list[str]
    version: int
    created_at: str
    updated_at: str


class ReceiveLineIn(StrictModel):
    sku: Sku
    quantity: Quantity = Field(description="Every unit of this SKU that arrived now, damaged ones too.")
    damaged: int = Field(0, ge=0, le=1_000_000, description="How many of them are unusable (recorded, not stocked).")
    reason: Reason | None = Field(None, description="Required when more arrives than was ordered (an over-receipt); "
                                                    "otherwise an optional note, e.g. why units are damaged.")

    @model_validator(mode="after")
    def _damaged_within_quantity(self) -> ReceiveLineIn:
        if self.damaged > self.quantity:
            raise ValueError("Damaged units cannot be more than the units that arrived.")
        return self


class ReceiveParams(StrictModel):
    lines: list[ReceiveLineIn] = Field(min_length=1, max_length=1000)
    receipt_key: ReceiptKey | None = Field(
        None, description="Names this count (a receiving session): sending the same key again changes nothing "
                          "and answers the purchase order as it is.")



class CloseShortParams(StrictModel):
    reason: Reason


class CancelPurchaseOrderParams(StrictModel):
    reason: Reason | None = None


class ConfirmParams(StrictModel):
    expected_at: datetime | None = Field(None, description="The date the supplier confirmed.")

    @field_validator("expected_at")
    @classmethod
    def _expected_utc(cls, value: datetime | None) -> datetime | None:
        return _utc(value)


class NoParams(StrictModel):
    """This command takes no parameters."""


# --- inbound shipments ---------------------------------------------------------------------------

class Document(StrictModel):
    name: Name
    url: Url


class InboundShipmentLineIn(StrictModel):
    purchase_order: Code = Field(description="Purchase order number.")
    sku: Sku
    quantity: Quantity = Field(description="Units of that purchase order line in this shipment.")


class InboundShipmentIn(StrictModel):
    number: Code = Field(description="Your reference for the shipment (ASN number); unique.")
    carrier: Note | None = None
    container_number: Reference | None = None
    tracking_number: Reference | None = None
    eta: datetime | None = Field(None, description="Expected arrival (ISO 8601).")
    documents: list[Document] = Field(default_factory=list, max_length=50,
                                      description="References to documents (bill of lading, packing list).")
    lines: list[InboundShipmentLineIn] = Field(min_length=1, max_length=1000)

    @field_validator("eta")
    @classmethod
    def _eta_utc(cls, value: datetime | None) -> datetime | None:
        return _utc(value)


class ShipmentEventParams(StrictModel):
    occurred_at: datetime | None = Field(None, description="When it happened (default: now).")
    eta: datetime | None = Field(None, description="A new expected arrival.")
    note: Note | None = None

    @field_validator("occurred_at", "eta")
    @classmethod
    def _utc_times(cls, value: datetime | None) -> datetime | None:
        return _utc(value)


class InboundShipmentLineOut(BaseModel):
    id: int
    purchase_order: str
    purchase_order_id: int
    sku: str
    quantity: int


class InboundShipmentOut(BaseModel):
    id: int
    number: str
    destination: str
    carrier: str | None
    container_number: str | None
    tracking_number: str | None
    eta: str | None
    status: str
    documents: list[dict[str, Any]]
    lines: list[InboundShipmentLineOut]
    allowed_commands: list[str]
    version: int
    created_at: str
    updated_at: str


# --- reorder points and requisitions -------------------------------------------------------------

class ReorderPointIn(StrictModel):
    location: Code
    sku: Sku
    reorder_point: int = Field(ge=0, le=1_000_000)
    reorder_quantity: int = Field(ge=1, le=1_000_000)
    supplier: Code | None = None


class QuoteLineIn(StrictModel):
    sku: Sku
    quantity: Quantity
    unit_price: Money | None = None


class QuoteIn(StrictModel):
    supplier: Code
    lead_time_days: int = Field(0, ge=0, le=3650)
    lines: list[QuoteLineIn] = Field(min_length=1, max_length=1000)
