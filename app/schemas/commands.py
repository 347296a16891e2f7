"""Parameters of every package and transfer command (SPEC §5), one model per command.

The service layer validates with these models and the API generates its OpenAPI document from
them, so descriptions and constraints here are what integrators read.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from app.schemas.common import MAX_INT, SPACE, decimal

MAX_INVOICE_BYTES = 10 * 1024 * 1024

Text = Annotated[str, Field(min_length=1, max_length=100)]
Reason = Annotated[str, Field(min_length=1, max_length=500, description="Why, in plain words.")]
CargoCode = Annotated[str, Field(min_length=1, max_length=64, description="Cargo company code, e.g. `demo`.")]
ParcelKilograms = decimal(4, 3, positive=True)  # up to 9,999.999 kg
Url = Annotated[str, Field(min_length=1, max_length=1000, pattern=rf"^https?://[^{SPACE}]+$",
                           description="An http(s) URL.")]


class CommandParams(BaseModel):
    """Base of all command parameter models: unknown fields are an error, strings are trimmed."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class NoParams(CommandParams):
    """This command takes no parameters."""


# --- package commands ----------------------------------------------------------------------

class PickParams(CommandParams):
    barcode: Text = Field(description="The scanned barcode of a product in this package.")
    quantity: int = Field(1, ge=1, le=10_000, description="Units counted by this scan.")


class MissingItem(CommandParams):
    item_id: int = Field(ge=1, le=MAX_INT, description="Package item id.")
    quantity: int = Field(ge=1, le=100_000, description="Units that could not be found (at most the item's quantity).")
    reason: Literal["not_found", "wrong_product", "defective"] = Field(description="Why the units are missing.")


class ReportMissingParams(CommandParams):
    items: list[MissingItem] = Field(default_factory=list, max_length=500,
                                     description="Items with missing units; they are re-planned elsewhere.")
    whole_package: bool = Field(False, description="Give up the whole package: it is cancelled and every item "
                                                   "is re-planned excluding this location.")

    @model_validator(mode="after")
    def _something_missing(self) -> ReportMissingParams:
        if not self.items and not self.whole_package:
            raise ValueError("List the missing items or set whole_package.")
        ids = [i.item_id for i in self.items]
        if len(ids) != len(set(ids)):
            raise ValueError("List each item once.")
        return self


class CompletePackingParams(CommandParams):
    boxes: int = Field(1, ge=1, le=999, description="Number of boxes (parcels).")
    weight_kg: ParcelKilograms | None = Field(None, description="Total weight in kilograms.")
    cargo_company: CargoCode | None = Field(None, description="Overrides the order's cargo company.")


class CompletePackingChannelParams(CommandParams):
    tracking_number: Text | None = Field(None, description=(
        "Tracking number printed by the channel (the store scans the label's barcode). Required unless "
        "the channel's connector fetches labels itself."))
    label_url: Url | None = Field(None, description="Where the channel's label can be downloaded (optional).")


class CreateShipmentParams(CommandParams):
    cargo_company: CargoCode | None = Field(None, description="Defaults to the order's cargo company.")


class UpdateShipmentInfoParams(CommandParams):
    cargo_company: CargoCode | None = None
    tracking_number: Text | None = None
    tracking_url: Url | None = None

    @model_validator(mode="after")
    def _something(self) -> UpdateShipmentInfoParams:
        if self.cargo_company is None and self.tracking_number is None and self.tracking_url is None:
            raise ValueError("Give at least one of cargo_company, tracking_number, tracking_url.")
        return self


class ShipAdvancedParams(CommandParams):
    cargo_company: CargoCode
    tracking_number: Text | None = Field(None, description="Tracking number, when already known.")
    boxes: int = Field(1, ge=1, le=999)
    weight_kg: ParcelKilograms | None = None


class ShipWithoutIntegrationParams(CommandParams):
    cargo_company: CargoCode
    tracking_number: Text
    tracking_url: Url | None = None


class UpdateShipmentStatusParams(CommandParams):
    status: Literal["attempted_delivery", "delivery_failed", "delivered"] = Field(
        description="Latest carrier news.")


class DeliverToCustomerParams(CommandParams):
    otp: Annotated[str, Field(max_length=16)] | None = Field(
        None, description="The customer's one-time code (required when IS_OTP_ENABLED).")


class RefuseParams(CommandParams):
    reason: CargoCode = Field(description="An active denial reason code.")


class BlockParams(CommandParams):
    reason: Reason


class CancelParams(CommandParams):
    reason: Reason | None = None


class UpdateInvoiceParams(CommandParams):
    number: Text = Field(description="Invoice number.")
    date: dt.date = Field(description="Invoice date, YYYY-MM-DD.")
    url: Url | None = None
    document_base64: str | None = Field(None, description="The invoice document (PDF), base64, at most 10 MB.")

    @field_validator("document_base64")
    @classmethod
    def _valid_base64(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if len(value) > (MAX_INVOICE_BYTES * 4) // 3 + 4:
            raise ValueError("The document is larger than 10 MB.")
        try:
            raw = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("Not valid base64.") from None
        if not raw:
            raise ValueError("The document is empty.")
        return value

    @model_validator(mode="after")
    def _url_or_document(self) -> UpdateInvoiceParams:
        if self.url is None and self.document_base64 is None:
            raise ValueError("Give url or document_base64.")
        return self


class AssignedUnits(CommandParams):
    item_id: int = Field(ge=1, le=MAX_INT, description="Package item id.")
    quantity: int = Field(ge=1, le=100_000, description="Units of that item packed at this location.")


class Assignment(CommandParams):
    item_ids: list[Annotated[int, Field(ge=1, le=MAX_INT)]] = Field(
        default_factory=list, max_length=1000, description="Package item ids packed at this location, all their units.")
    items: list[AssignedUnits] = Field(
        default_factory=list, max_length=1000,
        description="Some units of an item packed at this location: name the item in several assignments to split "
                    "it over locations.")
    location: CargoCode = Field(description="Stock location code.")

    @model_validator(mode="after")
    def _assigns_something(self) -> Assignment:
        if not self.item_ids and not self.items:
            raise ValueError("Give item_ids or items.")
        return self


class ManualPlanParams(CommandParams):
    assignments: list[Assignment] = Field(min_length=1, max_length=100,
                                          description="Every unit of every open item exactly once.")


PACKAGE_COMMAND_PARAMS: dict[str, type[CommandParams]] = {
    "prepare": NoParams,
    "pick": PickParams,
    "report_missing": ReportMissingParams,
    "complete_packing": CompletePackingParams,
    "complete_packing_without_shipment": NoParams,
    "complete_packing_channel": CompletePackingChannelParams,
    "create_shipment": CreateShipmentParams,
    "refresh_label": NoParams,
    "update_shipment_info": UpdateShipmentInfoParams,
    "ship": NoParams,
    "ship_advanced": ShipAdvancedParams,
    "ship_without_integration": ShipWithoutIntegrationParams,
    "update_shipment_status": UpdateShipmentStatusParams,
    "ready_for_pickup": NoParams,
    "deliver_to_customer": DeliverToCustomerParams,
    "refuse": RefuseParams,
    "deallocate": NoParams,
    "packed_for_refund": NoParams,
    "block": BlockParams,
    "unblock": NoParams,
    "update_invoice": UpdateInvoiceParams,
    "manual_plan": ManualPlanParams,
    "cancel": CancelParams,
}


# --- transfer commands ---------------------------------------------------------------------

class ReadyForDispatchParams(CommandParams):
    cargo_company: CargoCode | None = None
    tracking_number: Text | None = None


class TransferMissingItem(CommandParams):
    item_id: int = Field(ge=1, le=MAX_INT, description="Transfer item id.")
    quantity: int = Field(ge=1, le=100_000, description="Units the source could not find (at most the item's quantity).")
    reason: Literal["not_found", "wrong_product", "defective"] = "not_found"


class TransferReportMissingParams(CommandParams):
    items: list[TransferMissingItem] = Field(min_length=1, max_length=500)

    @model_validator(mode="after")
    def _unique(self) -> TransferReportMissingParams:
        ids = [i.item_id for i in self.items]
        if len(ids) != len(set(ids)):
            raise ValueError("List each item once.")
        return self


class TransferReceivedLine(CommandParams):
    sku: str = Field(min_length=1, max_length=64, description="The product's SKU.")
    received: int = Field(ge=0, le=100_000, description="Every unit of this SKU that arrived (damaged ones too).")
    damaged: int = Field(0, ge=0, le=100_000, description="How many of those are unusable: written off here.")
    note: str | None = Field(None, min_length=1, max_length=500,
                             description="Why: required when more or fewer units arrived than were sent, or some "
                                         "are damaged.")

    @model_validator(mode="after")
    def _damaged_within_received(self) -> TransferReceivedLine:
        if self.damaged > self.received:
            raise ValueError("Damaged units cannot be more than the units that arrived.")
        return self


class TransferReceiveParams(CommandParams):
    lines: list[TransferReceivedLine] | None = Field(
        None, max_length=500,
        description="What arrived per SKU. Leave out to receive everything as sent; when given, list every SKU on "
                    "the transfer (0 for one that did not arrive): an unlisted SKU is refused.")

    @model_validator(mode="after")
    def _unique(self) -> TransferReceiveParams:
        skus = [line.sku for line in self.lines or []]
        if len(skus) != len(set(skus)):
            raise ValueError("List each SKU once.")
        return self


TRANSFER_COMMAND_PARAMS: dict[str, type[CommandParams]] = {
    "ready_for_dispatch": ReadyForDispatchParams,
    "dispatch": NoParams,
    "receive": TransferReceiveParams,
    "report_missing": TransferReportMissingParams,
    "out_of_stock": NoParams,
    "cancel": CancelParams,
}
