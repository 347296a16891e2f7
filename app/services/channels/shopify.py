"""Shopify (Admin REST API): signed order webhooks in; fulfillments, fulfillment events and
cancellations back; inventory levels out.

Webhooks carry `X-Shopify-Hmac-Sha256`, the base64 HMAC-SHA256 of the raw body keyed with the
app's client secret, and `X-Shopify-Webhook-Id`, the same on every retry of one delivery.
Calls authenticate with `X-Shopify-Access-Token`; lists paginate with the `Link` header
(`rel="next"`, cursor in `page_info`); a throttled call answers 429 with `Retry-After`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.services.channels.base import (
    ChannelError,
    ChannelLine,
    ChannelOrder,
    ChannelReturn,
    MappingProblem,
    RefundNews,
    ReturnLine,
    SignedWebhookConnector,
    StatusNews,
    StockPushResult,
    made_by_packline,
    names_packline_return,
    packline_refund_text,
)
from app.services.channels.config import ShopifyConfig
from app.services.said import N_

ORDER_TOPICS = frozenset({"orders/create", "orders/updated", "orders/paid", "orders/edited", "orders/fulfilled"})
CANCEL_TOPICS = frozenset({"orders/cancelled", "orders/delete"})
RETURN_TOPICS = frozenset({"refunds/create"})
_NEXT_LINK = re.compile(r'<([^>]+)>;\s*rel="next"')


def parse_time(value: Any) -> datetime:
    if not isinstance(value, str) or not value:
        raise MappingProblem(_("The order has no creation time."))
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise MappingProblem(_("The order's creation time %(value)s is not a date.", value=repr(value))) from None


def money(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)) if value not in (None, "") else None
    except InvalidOperation:
        return None


def quantity(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise MappingProblem(_("%(where)s: the quantity is missing.", where=where))
    try:
        number = int(value)
    except ValueError:
        raise MappingProblem(_("%(where)s: the quantity %(value)s is not a number.", where=where, value=repr(value))) from None
    if number <= 0:
        raise MappingProblem(_("%(where)s: the quantity %(value)s is not positive.", where=where, value=number))
    return number


class ShopifyConnector(SignedWebhookConnector):
    name = "shopify"
    title = "Shopify"
    config_model = ShopifyConfig
    secret_fields = ("access_token", "webhook_secret")
    signature_header = "X-Shopify-Hmac-Sha256"
    delivery_header = "X-Shopify-Webhook-Id"
    topic_header = "X-Shopify-Topic"
    order_topics = ORDER_TOPICS
    cancel_topics = CANCEL_TOPICS
    return_topics = RETURN_TOPICS
    pushes_stock = True
    webhook_help = _l("In Shopify: Settings → Notifications → Webhooks (or your app's webhook subscriptions): "
                    "add Order creation, Order update, Order cancellation and Refund create, format JSON, "
                    "with this URL.")
    config: ShopifyConfig

    # --- intake ---------------------------------------------------------------------------------

    def parse_order(self, payload: Any) -> ChannelOrder:
        if not isinstance(payload, dict) or payload.get("id") is None:
            raise MappingProblem(_("The body is not a Shopify order (no id)."))
        items = payload.get("line_items")
        if not isinstance(items, list) or not items:
            raise MappingProblem(_("The order has no line items."))
        lines = []
        for n, item in enumerate(items):
            if not isinstance(item, dict):
                raise MappingProblem(_("Line %(number)s is not an object.", number=n + 1))
            sku = str(item.get("sku") or "").strip() or (f"variant:{item['variant_id']}" if item.get("variant_id")
                                                         else "")
            if not sku:
                raise MappingProblem(_("Line %(number)s (%(name)s) has no SKU.", number=n + 1, name=item.get("title") or "-"))
            lines.append(ChannelLine(sku, quantity(item.get("quantity"), _("Line %(number)s", number=n + 1)), money(item.get("price")),
                                     str(item.get("id")) if item.get("id") is not None else None))
        customer = payload.get("customer") if isinstance(payload.get("customer"), dict) else {}
        ship = payload.get("shipping_address") if isinstance(payload.get("shipping_address"), dict) else None
        name = " ".join(filter(None, [str(customer.get("first_name") or ""), str(customer.get("last_name") or "")]))
        address = None
        if ship:
            address = {"line": ", ".join(filter(None, [ship.get("address1"), ship.get("address2")])) or None,
                       "city": ship.get("city"), "district": ship.get("province"), "postcode": ship.get("zip"),
                       "country": ship.get("country_code"), "latitude": ship.get("latitude"),
                       "longitude": ship.get("longitude")}
            name = name or str(ship.get("name") or "")
        gateways = payload.get("payment_gateway_names") or []
        shipping_lines = payload.get("shipping_lines") or []
        return ChannelOrder(
            channel_order_id=str(payload["id"]),
            number=str(payload.get("order_number") or str(payload.get("name") or payload["id"]).lstrip("#")),
            placed_at=parse_time(payload.get("created_at")),
            status=payload.get("financial_status"),
            cancelled=bool(payload.get("cancelled_at")),
            lines=tuple(lines),
            customer={"name": name or None, "email": payload.get("email") or customer.get("email"),
                      "phone": payload.get("phone") or customer.get("phone")},
            address=address,
            payment=(gateways[0] if gateways and isinstance(gateways[0], str) else payload.get("gateway")),
            delivery=(shipping_lines[0].get("code") if shipping_lines and isinstance(shipping_lines[0], dict)
                      else None),
        )

    def return_order_id(self, payload: Any) -> str | None:
        if isinstance(payload, dict) and payload.get("order_id") is not None:
            return str(payload["order_id"])[:100]
        return None

    def return_payloads(self, payload: Any) -> list[Any]:
        """The refund itself — unless Packline asked for it (a return's refund-ready push, whose
        note names the return): Shopify tells of it too, but those units are on that return."""
        if isinstance(payload, dict) and made_by_packline(payload.get("note")):
            return []
        return [payload]

    def parse_return(self, payload: Any) -> ChannelReturn:
        """A `refunds/create` body (the Refund resource): the refunded line items are what the
        customer sends back; a refund of money only returns no lines."""
        if not isinstance(payload, dict) or payload.get("id") is None or payload.get("order_id") is None:
            raise MappingProblem(_("The body is not a Shopify refund (no id or order_id)."))
        by_sku: dict[str, dict[str, Any]] = {}
        for n, row in enumerate(payload.get("refund_line_items") or []):
            if not isinstance(row, dict):
                raise MappingProblem(_("Refund line %(number)s is not an object.", number=n + 1))
            item = row.get("line_item") if isinstance(row.get("line_item"), dict) else {}
            sku = str(item.get("sku") or "").strip() or (f"variant:{item['variant_id']}" if item.get("variant_id")
                                                         else "")
            if not sku:
                raise MappingProblem(_("Refund line %(number)s names no SKU.", number=n + 1))
            line = by_sku.setdefault(sku, {"quantity": 0, "line_id": row.get("line_item_id")})
            line["quantity"] += quantity(row.get("quantity"), _("Refund line %(number)s", number=n + 1))
        note = str(payload.get("note") or "").strip()[:500] or None
        return ChannelReturn(
            channel_return_id=str(payload["id"])[:100], channel_order_id=str(payload["order_id"])[:100],
            reason=note, lines=tuple(ReturnLine(sku, line["quantity"], note,
                                                str(line["line_id"]) if line["line_id"] is not None else None)
                                     for sku, line in by_sku.items()))

    # --- back to Shopify ------------------------------------------------------------------------

    def push_refund(self, news: RefundNews) -> str:
        """A refund for the returned line items: calculated first (Shopify's own amounts and
        transactions), then created with those transactions. A refund whose note names the return
        already is not made twice (a retry after a timeout)."""
        if news.channel_return is not None:
            return _("the refund was made in Shopify: nothing to tell")
        order_id = news.channel_order_id
        lines = [{"line_item_id": int(line.line_id), "quantity": line.quantity, "restock_type": "no_restock"}
                 for line in news.lines if line.line_id and line.line_id.isdigit() and line.quantity > 0]
        if not lines:
            raise ChannelError(_("Packline cannot name the returned items as Shopify line items."), transient=False)
        note = packline_refund_text(news.return_number)
        known, _response = self.call_json("GET", self._path(f"orders/{order_id}/refunds.json"), headers=self._headers())
        for refund in (known or {}).get("refunds") or []:
            if isinstance(refund, dict) and names_packline_return(refund.get("note"), news.return_number):
                return _("refund %(id)s already in Shopify", id=refund.get("id"))
        calculated, _response = self.call_json("POST", self._path(f"orders/{order_id}/refunds/calculate.json"),
                                       headers=self._headers(), json_body={"refund": {"refund_line_items": lines}})
        transactions = [{"parent_id": t.get("parent_id"), "amount": t.get("amount"), "kind": "refund",
                         "gateway": t.get("gateway")}
                        for t in ((calculated or {}).get("refund") or {}).get("transactions") or []
                        if isinstance(t, dict)]
        answer, _response = self.call_json("POST", self._path(f"orders/{order_id}/refunds.json"), headers=self._headers(),
                                   json_body={"refund": {"notify": True, "note": note, "refund_line_items": lines,
                                                         "transactions": transactions}})
        return _("refund %(id)s created in Shopify", id=((answer or {}).get("refund") or {}).get("id"))

    def _headers(self) -> dict[str, str]:
        return {"X-Shopify-Access-Token": self.config.access_token, "Content-Type": "application/json",
                "Accept": "application/json"}

    def _path(self, rest: str) -> str:
        return f"/admin/api/{self.config.api_version}/{rest}"

    def push_status(self, news: StatusNews) -> str:
        order_id = news.channel_order_id
        if news.kind == "shipped":
            data, _response = self.call_json("GET", self._path(f"orders/{order_id}/fulfillment_orders.json"),
                                     headers=self._headers())
            open_orders = [fo for fo in (data or {}).get("fulfillment_orders", [])
                           if fo.get("status") in ("open", "in_progress", "scheduled")]
            if not open_orders:
                return _("already fulfilled in Shopify")
            body = {"fulfillment": {
                "line_items_by_fulfillment_order": [{"fulfillment_order_id": fo["id"]} for fo in open_orders],
                "tracking_info": {"number": news.tracking_number, "url": news.tracking_url, "company": news.carrier},
                "notify_customer": True}}
            answer, _response = self.call_json("POST", self._path("fulfillments.json"), headers=self._headers(),
                                       json_body=body)
            return _("fulfillment %(id)s created", id=((answer or {}).get("fulfillment") or {}).get("id"))
        if news.kind == "delivered":
            data, _response = self.call_json("GET", self._path(f"orders/{order_id}/fulfillments.json"), headers=self._headers())
            fulfillments = (data or {}).get("fulfillments") or []
            match = [f for f in fulfillments if not news.tracking_number
                     or f.get("tracking_number") == news.tracking_number] or fulfillments
            if not match:
                return _("no fulfillment in Shopify to mark delivered")
            if any(e.get("status") == "delivered" for e in match[0].get("events") or []):
                return _("already delivered in Shopify")
            self.call_json("POST", self._path(f"orders/{order_id}/fulfillments/{match[0]['id']}/events.json"),
                           headers=self._headers(), json_body={"event": {"status": "delivered"}})
            return _("fulfillment %(id)s marked delivered", id=match[0]["id"])
        if news.kind == "cancelled":
            self.call_json("POST", self._path(f"orders/{order_id}/cancel.json"), headers=self._headers(),
                           json_body={"reason": "other", "email": False})
            return _("order cancelled in Shopify")
        return _("nothing to tell Shopify: refused items are planned again")

    def catalog(self) -> dict[str, int]:
        """SKU -> inventory_item_id of every variant, walking products.json by its Link header."""
        found: dict[str, int] = {}
        url = self._path("products.json?limit=250&fields=id,variants")
        for _page in range(10_000):
            data, response = self.call_json("GET", url, headers=self._headers())
            for product in (data or {}).get("products", []):
                for variant in product.get("variants") or []:
                    if variant.get("sku") and variant.get("inventory_item_id"):
                        found[str(variant["sku"])] = int(variant["inventory_item_id"])
            match = _NEXT_LINK.search(response.headers.get("Link", ""))
            if not match:
                break
            url = match[1]
        return found

    def push_stock(self, quantities: Mapping[str, int], catalog: Mapping[str, Any] | None = None) -> StockPushResult:
        result = StockPushResult()
        items = catalog if catalog is not None else self.catalog()
        pending = list(quantities.items())
        for n, (sku, qty) in enumerate(pending):
            item_id = items.get(sku)
            if item_id is None:
                result.failed[sku] = N_("Shopify has no variant with this SKU.")  # kept English; said on screen
                continue
            try:
                self.call_json("POST", self._path("inventory_levels/set.json"), headers=self._headers(),
                               json_body={"location_id": self.config.location_id, "inventory_item_id": item_id,
                                          "available": int(qty)})
            except ChannelError as exc:
                if not exc.transient:
                    result.failed[sku] = exc.message
                    continue
                for rest_sku, _ in pending[n:]:  # throttled or down: the rest waits for the next run
                    result.failed[rest_sku] = exc.message
                result.retry_after = exc.retry_after
                break
            result.acknowledged.append(sku)
        return result
