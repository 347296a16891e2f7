"""Order input as channels send it (SPEC §9.1 `POST /api/v1/orders`) and order cancellation."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.schemas.common import MAX_INT, NOT_BLANK, decimal

Code = Annotated[str, Field(min_length=1, max_length=64)]
Price = decimal(10, 2)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class CustomerIn(_In):
    name: Annotated[str, Field(max_length=200)] | None = None
    email: Annotated[str, Field(max_length=200)] | None = None
    phone: Annotated[str, Field(max_length=64)] | None = None


class AddressIn(_In):
    line: Annotated[str, Field(max_length=500)] | None = None
    city: Annotated[str, Field(max_length=100)] | None = None
    district: Annotated[str, Field(max_length=100)] | None = None
    postcode: Annotated[str, Field(max_length=32)] | None = None
    country: Annotated[str, Field(min_length=2, max_length=2, description="ISO 3166-1 alpha-2.")] | None = None
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)


class OrderItemIn(_In):
    sku: Annotated[str, Field(min_length=1, max_length=100)]
    quantity: int = Field(ge=1, le=100_000, description="Units ordered (at least 1).")
    price: Price | None = Field(None, description="Unit price.")


class OrderIn(_In):
    """An order as a channel sends it. `POST /orders` is idempotent on (channel, number)."""

    # Cargo orders need a shipping city, click & collect orders a pickup location (checked by
    # services.orders.create_order, so the errors name the field); the document says so too.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, json_schema_extra={
        "if": {"properties": {"delivery_type": {"const": "click_and_collect"}}, "required": ["delivery_type"]},
        "then": {"required": ["pickup_location"], "properties": {"pickup_location": {"type": "string"}}},
        "else": {"required": ["shipping_address"], "properties": {"shipping_address": {
            "type": "object", "required": ["city"], "properties": {"city": {"type": "string", "pattern": NOT_BLANK}}}}},
    })

    number: Annotated[str, Field(min_length=1, max_length=100, description="Order number, unique per channel.")]
    channel: Code = Field(description="Channel code.")
    placed_at: datetime = Field(description="When the customer placed the order (ISO 8601).")
    status: Annotated[str, Field(max_length=64)] | None = Field(
        None, description="The channel's own status, checked against ORDER_FILTERING before planning.")
    delivery_type: Literal["cargo", "click_and_collect"] = "cargo"
    pickup_location: Code | None = Field(None, description="Location code for click & collect.")
    payment_type: Annotated[str, Field(max_length=64)] | None = None
    cargo_company: Code | None = Field(None, description="Cargo company code.")
    customer: CustomerIn = Field(default_factory=CustomerIn)
    shipping_address: AddressIn | None = None
    items: list[OrderItemIn] = Field(min_length=1, max_length=1000)

    @field_validator("placed_at")
    @classmethod
    def _utc_representable(cls, value: datetime) -> datetime:
        if value.tzinfo is not None:
            try:
                value.astimezone(UTC)
            except OverflowError:
                raise ValueError("The date-time is out of range.") from None
        return value



class CancelItemIn(_In):
    item_id: int = Field(ge=1, le=MAX_INT, description="Order item id.")
    quantity: int = Field(ge=1, le=100_000, description="Units to cancel.")


class OrderCancelIn(_In):
    """Cancel the whole order (no `items`) or some units of some items."""

    items: list[CancelItemIn] | None = Field(None, min_length=1, max_length=1000)
    reason: Annotated[str, Field(max_length=500)] | None = None
