"""Each connector's configuration, validated with pydantic; secrets are write-only.

`base_url` is where the channel's API lives (the simulator's URL in tests). `locations` are the
location codes whose stock feeds the channel (empty: every active location), `safety_stock` is
held back from every SKU, `sync_interval_seconds` is how often a channel without webhooks is
polled for orders.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

MASK = "********"

Url = Annotated[str, StringConstraints(strip_whitespace=True, min_length=8, max_length=500,
                                       pattern=r"^https?://[^\s/$.?#][^\s]*$")]
Secret = Annotated[str, StringConstraints(min_length=1, max_length=500)]
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]


class BaseChannelConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    base_url: Url = Field(description="Where the channel's API lives.")
    locations: list[Code] = Field(default_factory=list, max_length=500,
                                  description="Location codes whose stock feeds this channel; empty = every active one.")
    safety_stock: int = Field(default=0, ge=0, le=1_000_000, description="Units held back from every SKU.")
    sync_interval_seconds: int = Field(default=60, ge=10, le=86_400, description="Order pull interval.")
    default_cargo_company: Code | None = Field(default=None, description="Cargo company for orders that name none.")
    timeout_seconds: float = Field(default=10, gt=0, le=60)
    stock_sync: bool = Field(default=True, description="Push available-to-promise quantities to the channel.")


class ApiConfig(BaseModel):
    """The `api` adapter: orders are pushed to /api/v1/orders; nothing to configure."""

    model_config = ConfigDict(extra="forbid")


class ShopifyConfig(BaseChannelConfig):
    access_token: Secret = Field(description="Admin API access token (X-Shopify-Access-Token).")
    webhook_secret: Secret = Field(description="The app's client secret that signs webhooks.")
    location_id: int = Field(ge=1, description="Shopify location whose inventory Packline sets.")
    api_version: Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}$")] = "2024-01"


class WooCommerceConfig(BaseChannelConfig):
    consumer_key: Secret
    consumer_secret: Secret
    webhook_secret: Secret = Field(description="The secret typed into the WooCommerce webhook.")


class TrendyolConfig(BaseChannelConfig):
    seller_id: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\d{1,20}$")]
    api_key: Secret
    api_secret: Secret
    store_front_code: Annotated[str, StringConstraints(max_length=8)] = "TR"
    statuses: list[Annotated[str, StringConstraints(max_length=40)]] = Field(
        default_factory=lambda: ["Created"], description="Package statuses pulled as new orders.")
    lookback_minutes: int = Field(default=60 * 24, ge=1, le=60 * 24 * 14,
                                  description="How far back the first pull looks.")


def masked(config: dict[str, Any] | None, secret_fields: tuple[str, ...]) -> dict[str, Any]:
    """The config with every secret replaced by the mask (or null when it was never set)."""
    shown = dict(config or {})
    for name in secret_fields:
        if name in shown:
            shown[name] = MASK if shown[name] else None
    return shown


def keep_secrets(stored: dict[str, Any] | None, incoming: Any, secret_fields: tuple[str, ...]) -> Any:
    """A config from a form or a PATCH: a secret left out, empty or still the mask keeps its
    stored value, so an admin can change the URL without typing every credential again."""
    if not isinstance(incoming, dict):
        return incoming
    merged = dict(incoming)
    for name in secret_fields:
        if merged.get(name) in (None, "", MASK) and (stored or {}).get(name):
            merged[name] = stored[name]
    return merged
