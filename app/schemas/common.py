"""Shared request/response models of the API, and validation of any JSON body into a 422.

The same models validate requests (in the services) and describe them in the OpenAPI document.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, JsonValue, StringConstraints, ValidationError, create_model

from app.schemas import error_details, validated_input
from app.services.errors import ValidationFailed

M = TypeVar("M", bound=BaseModel)

# Codes appear in URLs, filters and CSV imports: no spaces, no slashes.
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64,
                                        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
# The largest value an Integer column (and so any id) holds on PostgreSQL; bigger ids cannot exist.
MAX_INT = 2_147_483_647


class StrictModel(BaseModel):
    """Request bodies: unknown fields are an error, so typos never pass silently."""

    model_config = ConfigDict(extra="forbid")


def validate(model: type[M], data: Any, message: str = "Some fields are not valid.") -> M:
    """Validate `data` (an object or a list) with `model` or raise ValidationFailed (HTTP 422)."""
    try:
        return validated_input(model, data)
    except ValidationError as exc:
        raise ValidationFailed(message, error_details(exc)) from None


def partial_model(model: type[BaseModel], name: str, exclude: tuple[str, ...] = ()) -> type[BaseModel]:
    """The same fields, all optional (for PATCH); constraints still apply to values that are sent."""
    fields: dict[str, Any] = {}
    for field_name, info in model.model_fields.items():
        if field_name in exclude:
            continue
        annotation = Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation
        fields[field_name] = (annotation | None, Field(default=None, description=info.description))
    return create_model(name, __base__=StrictModel, **fields)


# --- shared shapes -------------------------------------------------------------------------------

class ErrorBody(BaseModel):
    code: str
    message: str
    details: dict[str, Any] = {}


class ErrorResponse(BaseModel):
    error: ErrorBody


class SettingIn(StrictModel):
    value: JsonValue = Field(description="Any JSON value; known keys are checked.")


class SettingOut(BaseModel):
    key: str
    value: JsonValue


class JobProgress(BaseModel):
    done: int
    total: int


class JobOut(BaseModel):
    id: str
    status: Literal["queued", "started", "finished", "failed"]
    progress: JobProgress | None
    result: JsonValue
    error: str | None


class TransitionOut(BaseModel):
    id: int
    from_state: str | None
    to_state: str
    command: str
    params: dict[str, Any]
    actor: str
    at: str


class Ref(BaseModel):
    id: int
    number: str


class PackageItemOut(BaseModel):
    id: int
    sku: str
    name: str
    barcodes: list[str]
    quantity: int
    picked_quantity: int
    state: str


class TransferRef(BaseModel):
    id: int
    number: str
    state: str
    source: str
    destination: str


class PackageOut(BaseModel):
    id: int
    number: str
    state: str
    previous_state: str | None
    order: Ref
    location: str
    items: list[PackageItemOut]
    transfers: list[TransferRef]
    shipment: dict[str, Any] | None
    invoice: dict[str, Any] | None
    allowed_commands: list[str]
    created_at: str
    updated_at: str


class TransferItemOut(BaseModel):
    id: int
    sku: str
    quantity: int
    state: str


class TransferOut(BaseModel):
    id: int
    number: str
    state: str
    package: Ref
    source: str
    destination: str
    cargo_company: str | None
    tracking_number: str | None
    items: list[TransferItemOut]
    allowed_commands: list[str]
    created_at: str
    updated_at: str


class OrderItemOut(BaseModel):
    id: int
    sku: str
    quantity: int
    cancelled_quantity: int
    price: str | None
    status: str


class OrderPackageRef(BaseModel):
    id: int | None = Field(description="Null for a package at a location the caller may not see.")
    number: str
    state: str
    location: str | None = Field(description="Null for a package at a location the caller may not see.")


class OrderOut(BaseModel):
    id: int
    number: str
    channel: str
    status: str
    source_status: str | None
    placed_at: str | None
    delivery_type: str
    pickup_location: str | None
    payment_type: str | None
    cargo_company: str | None
    customer: dict[str, Any]
    shipping_address: dict[str, Any]
    items: list[OrderItemOut]
    packages: list[OrderPackageRef]
    transfers: list[TransferRef]
    created_at: str
    updated_at: str
