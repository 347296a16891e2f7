"""The channel connector contract: what the intake, status and stock jobs hand a connector and
what they get back. Like the carrier adapters, connectors know nothing about the database:
they turn a channel's payloads into `ChannelOrder`s and make the channel's own HTTP calls (all
through `http_client.request`). A failed call is one `ChannelError`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from abc import ABC
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar, Literal

from flask_babel import gettext as _
from pydantic import BaseModel

from app.services import http_client
from app.services.said import N_, Message, recall

MAX_ERROR_LENGTH = 500
MAX_ANSWER_BYTES = 8 * 1024 * 1024


class ChannelError(Exception):
    """A call to a channel failed. `transient` errors (timeouts, 5xx, 429, garbage answers) are
    retried; `retry_after` is the channel's own `Retry-After` in seconds when it sent one.
    `said` is the same sentence as a catalogue message (services/said.py), for screens that show
    it later in the reader's language: given, or recalled from a `_()` said while listening."""

    def __init__(self, message: str, *, transient: bool, retry_after: float | None = None,
                 status: int | None = None, said: Message | None = None) -> None:
        self.said: Message | str = said if said is not None else recall(message)
        message = " ".join(str(message).split())
        if len(message) > MAX_ERROR_LENGTH:
            message = message[: MAX_ERROR_LENGTH - 1] + "…"
        super().__init__(message)
        self.message = message
        self.transient = transient
        self.retry_after = retry_after
        self.status = status


class MappingProblem(Exception):
    """A payload that cannot become an order as it is (no address, no lines): `needs_attention`."""


@dataclass(frozen=True)
class ChannelLine:
    channel_sku: str
    quantity: int
    price: Decimal | None = None
    line_id: str | None = None  # the channel's own line id, needed to report on that line


@dataclass(frozen=True)
class ChannelOrder:
    """An order in the channel's terms, before mappings turn its codes into ours."""

    channel_order_id: str
    number: str
    placed_at: datetime
    status: str | None
    cancelled: bool
    lines: tuple[ChannelLine, ...]
    customer: Mapping[str, str | None] = field(default_factory=dict)
    address: Mapping[str, Any] | None = None
    payment: str | None = None
    delivery: str | None = None
    cargo: str | None = None


@dataclass(frozen=True)
class StatusNews:
    """What happened to one package, to tell the channel: the order as the channel knows it
    (its raw payload from the inbox) and our shipment details."""

    kind: Literal["shipped", "delivered", "refused", "cancelled"]
    channel_order_id: str
    order_payload: Mapping[str, Any]
    package_number: str
    lines: tuple[ChannelLine, ...]  # the package's units, with the channel's line ids when known
    tracking_number: str | None = None
    tracking_url: str | None = None
    carrier: str | None = None


@dataclass(frozen=True)
class ReturnLine:
    """One returned line in the channel's terms: its SKU, units, the customer's reason, and the
    channel's ids needed to answer about it (a Shopify line item id, Trendyol claim item ids)."""

    channel_sku: str
    quantity: int
    reason: str | None = None
    line_id: str | None = None
    item_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class ChannelReturn:
    """A return or refund the channel told us about: its own id, the order it belongs to (by
    the channel's order id, or by order number when the channel names only that)."""

    channel_return_id: str
    lines: tuple[ReturnLine, ...]
    channel_order_id: str | None = None
    order_number: str | None = None
    reason: str | None = None


# How Packline names the refunds it asks a channel for (Shopify's note, WooCommerce's reason):
# "Packline return <number>", optionally followed by ": <the customer's reason>".
PACKLINE_REFUND = "Packline return "


def packline_refund_text(return_number: str) -> str:
    return f"{PACKLINE_REFUND}{return_number}"


def names_packline_return(text: Any, return_number: str) -> bool:
    """Whether a refund's note/reason is the one Packline wrote for this return — exactly, not
    as a prefix of another's ("... 1001-R1" is not "... 1001-R10")."""
    text, ours = str(text or ""), packline_refund_text(return_number)
    return text == ours or text.startswith(ours + ":")


def made_by_packline(text: Any) -> bool:
    """A refund Packline asked for itself (its refund-ready push): the channel tells of it again
    (Shopify's refunds/create, WooCommerce's refunded action) but it is no new return."""
    return str(text or "").startswith(PACKLINE_REFUND)


@dataclass(frozen=True)
class RefundNews:
    """A return reached refund-ready (`return.refund_ready`): what to tell the channel. Returns
    that came from the channel carry its return (`channel_return`); others (a store counter, the
    API) carry the order as the channel knows it, to name its lines."""

    channel_order_id: str
    order_payload: Mapping[str, Any]
    return_number: str
    lines: tuple[ReturnLine, ...]  # received units per channel SKU, with the channel's line ids
    channel_return: ChannelReturn | None = None
    reason: str | None = None


@dataclass
class StockPushResult:
    """Which SKUs the channel acknowledged, and why the others failed."""

    acknowledged: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    reference: str | None = None  # e.g. Trendyol's batchRequestId
    retry_after: float | None = None  # the channel throttled us part-way


class ChannelConnector(ABC):
    """One channel's API. Subclasses set `name`, `config_model`, `secret_fields` and override
    what their channel supports."""

    name: ClassVar[str]
    title: ClassVar[str]
    config_model: ClassVar[type[BaseModel]]
    secret_fields: ClassVar[tuple[str, ...]] = ()
    receives_webhooks: ClassVar[bool] = False
    pulls_orders: ClassVar[bool] = False
    pushes_stock: ClassVar[bool] = False
    webhook_help: ClassVar[str] = ""

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = self.config_model.model_validate(dict(config or {}))

    # --- intake ---------------------------------------------------------------------------------

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> bool:
        return False

    def delivery_id(self, headers: Mapping[str, str]) -> str | None:
        return None

    def topic_kind(self, topic: str) -> Literal["order", "cancel", "return"] | None:
        """What a webhook topic means: an order to create or update, a cancellation, a customer
        return or refund, or None."""
        return None

    def return_order_id(self, payload: Any) -> str | None:
        """The channel's order id a return/refund payload belongs to, when it names one."""
        return None

    def parse_return(self, payload: Any) -> ChannelReturn:
        raise MappingProblem(_("%(title)s returns cannot be read.", title=self.title))

    def return_payloads(self, payload: Any) -> list[Any]:
        """The channel returns one inbox payload stands for: itself, unless the notification only
        names them and the connector must fetch them (WooCommerce's refunded-order action)."""
        return [payload]

    def pull_returns(self, since_ms: int, until_ms: int) -> list[dict[str, Any]]:
        """Returns (claims) changed in [since_ms, until_ms], for channels that serve a list."""
        return []

    def order_id_of(self, payload: Any) -> str | None:
        if isinstance(payload, dict) and payload.get("id") is not None:
            return str(payload["id"])[:100]
        return None

    def parse_order(self, payload: Any) -> ChannelOrder:
        raise MappingProblem(_("%(title)s orders cannot be read.", title=self.title))

    def pull_orders(self, since_ms: int, until_ms: int) -> list[dict[str, Any]]:
        raise ChannelError(_('%(title)s does not serve an order list.', title=self.title), transient=False)

    # --- back to the channel --------------------------------------------------------------------

    def push_status(self, news: StatusNews) -> str:
        """Tell the channel; returns a short note for the log. Idempotent on the channel's side
        where the channel allows it (an already fulfilled order is not an error)."""
        return _("nothing to tell")

    def push_refund(self, news: RefundNews) -> str:
        """Tell the channel a return is ready to refund (received and inspected); returns a note."""
        return _("%(title)s takes no refunds from Packline", title=self.title)

    def topic_of(self, headers: Mapping[str, str], url_topic: str | None) -> str:
        return url_topic or ""

    def catalog(self) -> dict[str, Any]:
        """What the channel needs to address a SKU in stock calls (its ids), when it needs any."""
        return {}

    def fetch_label(self, tracking_number: str) -> tuple[str, str]:
        raise ChannelError(_('%(title)s does not print labels.', title=self.title), transient=False)

    def push_stock(self, quantities: Mapping[str, int], catalog: Mapping[str, Any] | None = None) -> StockPushResult:
        raise ChannelError(_('%(title)s does not take stock updates.', title=self.title), transient=False)

    # --- HTTP -------------------------------------------------------------------------------------

    def base_url(self) -> str:
        return str(getattr(self.config, "base_url", "")).rstrip("/")

    def call(self, method: str, path: str, *, headers: Mapping[str, str] | None = None, json_body: Any = None,
             max_bytes: int = MAX_ANSWER_BYTES) -> http_client.HttpResponse:
        """One HTTP call to the channel; any failure becomes a ChannelError. The channel's URL is
        set by an admin (often a private address in tests and on-premise shops), as for carriers."""
        url = path if path.startswith("http") else self.base_url() + path
        try:
            return http_client.request(method, url, headers=headers, json=json_body,
                                       timeout=float(getattr(self.config, "timeout_seconds", 10)),
                                       max_bytes=max_bytes, allow_private=True)
        except http_client.HttpError as exc:
            excerpt = ""
            where = {"channel": self.title, "method": method, "path": path, "problem": exc.said}
            message = http_client.capped_said(N_("%(channel)s %(method)s %(path)s: %(problem)s"), **where)
            if exc.response is not None and exc.response.body:
                excerpt = ": " + exc.response.body[:300].decode("utf-8", "replace")
                message = http_client.capped_said(N_("%(channel)s %(method)s %(path)s: %(problem)s: %(answer)s"),
                                                  **where, answer=excerpt[2:])  # the channel's own words, cut
            raise ChannelError(f"{self.title} {method} {path}: {exc.message}{excerpt}", transient=exc.transient,
                               retry_after=exc.retry_after, status=exc.status, said=message) from None

    def call_json(self, method: str, path: str, **kwargs: Any) -> tuple[Any, http_client.HttpResponse]:
        response = self.call(method, path, **kwargs)
        if not response.body:
            return None, response
        try:
            return json.loads(response.body), response
        except ValueError:
            raise ChannelError(_('%(title)s %(method)s %(path)s answered something that is not JSON: %(value)s', title=self.title, method=method, path=path, value=response.body[:120].decode('utf-8', 'replace')), transient=True) from None


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A header by name, whatever its case."""
    lowered = name.lower()
    for key, value in headers.items():
        if key.lower() == lowered:
            return value
    return None


def hmac_base64(secret: str, body: bytes) -> str:
    """Base64 of the HMAC-SHA256 of the raw body: how Shopify and WooCommerce sign webhooks."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


class SignedWebhookConnector(ChannelConnector):
    """A channel that pushes orders as webhooks signed with `hmac_base64` of the raw body: the
    subclass names its headers and topics."""

    receives_webhooks = True
    signature_header: ClassVar[str]
    delivery_header: ClassVar[str]
    topic_header: ClassVar[str]
    order_topics: ClassVar[frozenset[str]]
    cancel_topics: ClassVar[frozenset[str]]
    return_topics: ClassVar[frozenset[str]] = frozenset()

    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> bool:
        given = header(headers, self.signature_header)
        secret = self.config.webhook_secret  # type: ignore[attr-defined]
        return bool(given) and hmac.compare_digest(hmac_base64(secret, body), given.strip())

    def delivery_id(self, headers: Mapping[str, str]) -> str | None:
        return header(headers, self.delivery_header)

    def push_refund(self, news: RefundNews) -> str:
        """Tell the channel a return is ready to refund (received and inspected); returns a note."""
        return _("%(title)s takes no refunds from Packline", title=self.title)

    def topic_of(self, headers: Mapping[str, str], url_topic: str | None) -> str:
        return header(headers, self.topic_header) or url_topic or ""

    def topic_kind(self, topic: str) -> Literal["order", "cancel", "return"] | None:
        if topic in self.return_topics:
            return "return"
        return "order" if topic in self.order_topics else "cancel" if topic in self.cancel_topics else None
