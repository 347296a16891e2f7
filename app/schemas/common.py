"""Shared request/response models of the API, and validation of any JSON body into a 422.

The same models validate requests (in the services) and describe them in the OpenAPI document.
"""

from __future__ import annotations

import re
from decimal import Decimal
from types import NoneType, UnionType
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    JsonValue,
    StringConstraints,
    ValidationError,
    WithJsonSchema,
    create_model,
)
from pydantic.json_schema import GenerateJsonSchema, JsonSchemaValue
from pydantic_core import core_schema

from app.schemas import error_details, is_strict_json_input, validated_input
from app.services.errors import ValidationFailed

M = TypeVar("M", bound=BaseModel)

# Unicode White_Space, spelled out: what trimming removes, and the same set in every regex dialect
# that reads the OpenAPI document (`\s` differs between ECMAScript, Python and Rust).
SPACE = r"\t-\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
NOT_BLANK = f"[^{SPACE}]"  # somewhere in the text: not only spaces

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


def partial_model(model: type[BaseModel], name: str, exclude: tuple[str, ...] = (),
                  nullable: tuple[str, ...] = ()) -> type[BaseModel]:
    """The same fields, all optional (for PATCH); constraints still apply to values that are sent,
    and `null` is a value only where `model` takes it (or the field is in `nullable`)."""
    fields: dict[str, Any] = {}
    for field_name, info in model.model_fields.items():
        if field_name in exclude:
            continue
        annotation = Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation
        if field_name in nullable or _takes_null(info.annotation):
            annotation = annotation | None
        fields[field_name] = (annotation, Field(default=None, description=info.description))
    return create_model(name, __base__=StrictModel, **fields)


def _takes_null(annotation: Any) -> bool:
    return annotation is None or (get_origin(annotation) in (Union, UnionType) and NoneType in get_args(annotation))


def decimal(whole_digits: int, places: int, *, positive: bool = False) -> Any:
    """A decimal quantity, as a JSON number or a decimal string ("12.50"): at most `whole_digits`
    digits before the point and `places` after it, at least 0 (above 0 when `positive`). A string
    must be written plainly (no sign, exponent or spaces), exactly as the document's pattern says;
    people's input (screens, imports) is read leniently."""
    step = Decimal(1).scaleb(-places)
    top = Decimal(10) ** whole_digits - step
    pattern = rf"^[0-9]{{1,{whole_digits}}}(\.[0-9]{{1,{places}}})?$"
    number: dict[str, Any] = {"type": "number", "multipleOf": float(step), "maximum": float(top),
                              "exclusiveMinimum" if positive else "minimum": 0}
    text: dict[str, Any] = {"type": "string", "pattern": pattern}
    if positive:
        text["not"] = {"pattern": r"^[0.]*$"}

    def plain(value: Any) -> Any:
        if not is_strict_json_input():
            return value
        if isinstance(value, bool):
            raise ValueError("Must be a number or a decimal string.")
        if isinstance(value, str):
            if not re.fullmatch(pattern, value):
                raise ValueError(f"Write the number plainly with at most {places} decimals, e.g. \"{top}\".")
            return Decimal(value)
        if isinstance(value, int | float):
            return Decimal(repr(value))  # the JSON number as written: 0.07 is 0.07
        return value

    bound = {"gt": 0} if positive else {"ge": 0}
    return Annotated[Decimal, BeforeValidator(plain),
                     Field(le=top, max_digits=whole_digits + places, decimal_places=places, **bound),
                     WithJsonSchema({"anyOf": [number, text]}, mode="validation")]


class DocumentedSchema(GenerateJsonSchema):
    """JSON Schema for the OpenAPI document that says what validation really does: a trimmed text
    that must not be empty must hold something besides spaces, and an optional field that may not
    be null shows no `default: null` (leaving it out is not the same as sending null)."""

    def default_schema(self, schema: core_schema.WithDefaultSchema) -> JsonSchemaValue:
        json_schema = super().default_schema(schema)
        if json_schema.get("default", ...) is None and schema["schema"]["type"] != "nullable":
            del json_schema["default"]
        return json_schema

    def str_schema(self, schema: core_schema.StringSchema) -> JsonSchemaValue:
        json_schema = super().str_schema(schema)
        trimmed = schema.get("strip_whitespace") or self._config.str_strip_whitespace
        if trimmed and json_schema.get("minLength", 0) >= 1 and "pattern" not in json_schema:
            json_schema["pattern"] = NOT_BLANK
        return json_schema


# --- shared shapes -------------------------------------------------------------------------------

class ErrorBody(BaseModel):
    code: str
    message: str
    details: dict[str, Any] = {}


class ErrorResponse(BaseModel):
    error: ErrorBody


class MeOut(BaseModel):
    username: str
    role: str
    locations: list[str] | None = Field(description="Location codes this token sees; null: every location.")


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
