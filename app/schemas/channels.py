"""Channels with their connection (SPEC §9.1, §13): `adapter` and a `config` each connector
validates itself (services.channels.config); mappings between the channel's values and ours."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints, WithJsonSchema

from app.schemas.common import Code, Name, StrictModel, partial_model
from app.services.channels.config import ApiConfig, ShopifyConfig, TrendyolConfig, WooCommerceConfig

Adapter = Literal["api", "shopify", "woocommerce", "trendyol"]
MappingKind = Literal["sku", "location", "payment", "delivery", "cargo", "status"]
# Validated by the channel's adapter (services.channels.config_problems, answering config.<field>
# errors); the document shows each adapter's shape.
ConnectorConfig = Annotated[dict[str, Any], WithJsonSchema({"anyOf": [
    {**model.model_json_schema(), "title": model.__name__}
    for model in (ApiConfig, ShopifyConfig, WooCommerceConfig, TrendyolConfig)]})]
Value = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class ChannelIn(StrictModel):
    code: Code
    name: Name
    provides_shipping_label: bool = Field(default=False, description="The marketplace prints the label itself.")
    adapter: Adapter = Field(default="api", description="How orders arrive: `api` (pushed to /api/v1/orders), "
                                                        "`shopify`, `woocommerce` or `trendyol`.")
    config: ConnectorConfig = Field(default_factory=dict, description=(
        "The connector's settings: at least `base_url`, plus `webhook_secret` for Shopify and WooCommerce, "
        "credentials, `locations`, `safety_stock`, `sync_interval_seconds` (docs/channels.md). Secrets are "
        "write-only: answers show them as \"********\"; sending the mask or leaving one out keeps it."))


ChannelPatch = partial_model(ChannelIn, "ChannelPatch", exclude=("code",))


class ChannelOut(BaseModel):
    code: str
    name: str
    provides_shipping_label: bool
    adapter: Adapter
    config: dict[str, Any] = Field(description="Secrets masked.")
    webhook_url: str | None = Field(description="Paste into the channel's webhook settings (push channels).")


class MappingIn(StrictModel):
    kind: MappingKind
    channel_value: Value = Field(description="The channel's SKU, location, payment/delivery/cargo code or status.")
    our_value: Value = Field(description="Our SKU, location code, payment type, delivery type, cargo company "
                                         "code or source status.")


class MappingOut(MappingIn):
    id: int
