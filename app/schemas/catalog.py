"""Master data as integrators send it (SPEC §9.1): locations, channels, products, stock, cargo
companies and denial reasons. The services validate with these models; OpenAPI shows them."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field, RootModel, StringConstraints, WithJsonSchema, field_validator

from app.schemas.common import SPACE, Code, Name, StrictModel, decimal, partial_model

Sku = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100,
                                       pattern=rf"^[^{SPACE}/]+$")]
Barcode = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100,
                                           pattern=rf"^[^{SPACE}]+$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]
Place = Annotated[str, StringConstraints(strip_whitespace=True, max_length=100)]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]


def _known_zone(value: Any) -> Any:
    """An IANA zone name exactly (forms and CSV cells are trimmed and blanks left out before)."""
    if isinstance(value, str):
        from app.services.local_times import zone_problem

        problem = zone_problem(value)
        if problem:
            raise ValueError(problem)
    return value


def _zone_names() -> list[str]:
    from app.services.local_times import zone_names

    return zone_names()


# In an Annotated type (not a field_validator) so the PATCH model built by partial_model keeps it;
# the OpenAPI document lists the names it takes.
TimeZone = Annotated[str | None, BeforeValidator(_known_zone), WithJsonSchema(
    {"anyOf": [{"type": "string", "enum": _zone_names()}, {"type": "null"}]})]
Kilograms = decimal(7, 3)


class LocationIn(StrictModel):
    code: Code = Field(description="The brand's ERP code; unique, used in URLs.")
    name: Name
    type: Literal["store", "warehouse"] = "store"
    address: Text | None = None
    city: Place | None = None
    district: Place | None = None
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    priority: int = Field(default=100, ge=0, le=1_000_000, description="Lower is preferred.")
    is_packaging_center: bool = True
    is_transfer_source: bool = True
    is_pickup_location: bool = False
    max_quota: int | None = Field(default=None, ge=0, le=1_000_000, description="Open packages it may hold; null = unlimited.")
    target_packaging_minutes: int | None = Field(default=None, gt=0, le=100_000)
    active: bool = True
    tags: list[Tag] = Field(default_factory=list, max_length=50)
    time_zone: TimeZone = Field(default=None, description=(
        'IANA time zone of the times shown for this location ("Europe/Istanbul"); null = the brand\'s '
        "TIME_ZONE setting."))


LocationPatch = partial_model(LocationIn, "LocationPatch", exclude=("code",))


class LocationOut(LocationIn):
    model_config = {"extra": "ignore"}


class ChannelIn(StrictModel):
    code: Code
    name: Name
    provides_shipping_label: bool = Field(default=False, description="The marketplace prints the label itself.")


ChannelPatch = partial_model(ChannelIn, "ChannelPatch", exclude=("code",))


class ProductIn(StrictModel):
    sku: Sku
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
    barcodes: list[Barcode] = Field(default_factory=list, max_length=20)
    weight_kg: Kilograms | None = None
    image_url: Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000),
                         Field(json_schema_extra={"pattern": "^(https?://|/|$)"})] | None = Field(
        None, description="An http(s) address or a path on this server.")

    @field_validator("barcodes")
    @classmethod
    def _unique_barcodes(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("Each barcode may appear only once.")
        return value


ProductPatch = partial_model(ProductIn, "ProductPatch", exclude=("sku",), nullable=("barcodes",))


class ProductOut(BaseModel):
    sku: str
    name: str
    barcodes: list[str]
    weight_kg: float | None
    image_url: str | None


class ProductBulkIn(RootModel[list[ProductIn]]):
    """Create or update up to 1,000 products by SKU in one all-or-nothing request."""

    root: list[ProductIn] = Field(min_length=1, max_length=1000)


class BulkResult(BaseModel):
    created: int
    updated: int


class StockRowIn(StrictModel):
    location: Code
    sku: Sku
    quantity: int = Field(ge=0, le=10_000_000, description="Absolute on-hand quantity.")


class StockPut(RootModel[list[StockRowIn]]):
    """Absolute on-hand figures; all rows are written or none."""

    root: list[StockRowIn] = Field(min_length=1, max_length=5000)


class StockOut(BaseModel):
    location: str
    sku: str
    on_hand: int
    reserved: int
    available: int


class StockPutResult(BaseModel):
    updated: int
    unchanged: int


class CargoCompanyIn(StrictModel):
    code: Code
    name: Name
    adapter: Literal["demo", "http"] = "demo"
    config: dict[str, Any] = Field(default_factory=dict, description="URLs and credentials for the adapter.")
    active: bool = True


CargoCompanyPatch = partial_model(CargoCompanyIn, "CargoCompanyPatch", exclude=("code",))


class CargoCompanyOut(BaseModel):
    code: str
    name: str
    adapter: str
    active: bool
    config_keys: list[str] = Field(description="Config may hold credentials: only its keys are shown.")


class DenialReasonIn(StrictModel):
    code: Code
    title: Name
    active: bool = True
    priority: int = Field(default=100, ge=0, le=1_000_000)


DenialReasonPatch = partial_model(DenialReasonIn, "DenialReasonPatch", exclude=("code",))
