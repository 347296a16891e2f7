"""WooCommerce (REST API v3): signed order webhooks in; order status and tracking meta back;
product stock out through the products batch endpoint.

Webhooks carry `X-WC-Webhook-Signature`, the base64 HMAC-SHA256 of the raw body keyed with the
webhook's secret, `X-WC-Webhook-Topic` (`order.created`, `order.updated`) and
`X-WC-Webhook-Delivery-ID`. Calls authenticate with HTTP Basic (consumer key and secret, over
HTTPS); lists paginate with `page`/`per_page` and the `X-WP-TotalPages` header; errors are
`{"code", "message", "data": {"status"}}`.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
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
from app.services.channels.config import WooCommerceConfig
from app.services.channels.shopify import money, quantity
from app.services.said import N_

ORDER_TOPICS = frozenset({"order.created", "order.updated", "order.restored"})
CANCEL_TOPICS = frozenset({"order.deleted"})
# An "Action" webhook on the `woocommerce_order_refunded` hook: its body names the order
# (`{"action": ..., "arg": <order id>}`); the refunds themselves are read from the REST API.
RETURN_TOPICS = frozenset({"action.woocommerce_order_refunded"})
CANCELLED_STATUSES = {"cancelled", "refunded", "failed", "trash"}
BATCH_SIZE = 100  # WooCommerce accepts at most 100 objects per batch request
API = "/wp-json/wc/v3"


class WooCommerceConnector(SignedWebhookConnector):
    name = "woocommerce"
    title = "WooCommerce"
    config_model = WooCommerceConfig
    secret_fields = ("consumer_key", "consumer_secret", "webhook_secret")
    signature_header = "X-WC-Webhook-Signature"
    delivery_header = "X-WC-Webhook-Delivery-ID"
    topic_header = "X-WC-Webhook-Topic"
    order_topics = ORDER_TOPICS
    cancel_topics = CANCEL_TOPICS
    return_topics = RETURN_TOPICS
    pushes_stock = True
    webhook_help = _l("In WordPress: WooCommerce → Settings → Advanced → Webhooks → Add webhook, three times: topics "
                    "Order created, Order updated and Action woocommerce_order_refunded, API version WP REST API "
                    "Integration v3, this URL as the Delivery URL and the webhook secret below as the Secret.")
    config: WooCommerceConfig

    def parse_order(self, payload: Any) -> ChannelOrder:
        if not isinstance(payload, dict) or payload.get("id") is None:
            raise MappingProblem(_("The body is not a WooCommerce order (no id)."))
        items = payload.get("line_items")
        if not isinstance(items, list) or not items:
            raise MappingProblem(_("The order has no line items."))
        lines = []
        for n, item in enumerate(items):
            if not isinstance(item, dict):
                raise MappingProblem(_("Line %(number)s is not an object.", number=n + 1))
            sku = str(item.get("sku") or "").strip()
            if not sku:
                raise MappingProblem(_("Line %(number)s (%(name)s) has no SKU.", number=n + 1, name=item.get("name") or "-"))
            lines.append(ChannelLine(sku, quantity(item.get("quantity"), _("Line %(number)s", number=n + 1)), money(item.get("price")),
                                     str(item.get("id")) if item.get("id") is not None else None))
        billing = payload.get("billing") if isinstance(payload.get("billing"), dict) else {}
        ship = payload.get("shipping") if isinstance(payload.get("shipping"), dict) else {}
        if not (ship.get("city") or ship.get("address_1")):
            ship = billing
        address = None
        if ship.get("city") or ship.get("address_1"):
            address = {"line": ", ".join(filter(None, [ship.get("address_1"), ship.get("address_2")])) or None,
                       "city": ship.get("city") or None, "district": ship.get("state") or None,
                       "postcode": ship.get("postcode") or None, "country": ship.get("country") or None}
        created = payload.get("date_created_gmt") or payload.get("date_created")
        try:
            placed = datetime.fromisoformat(str(created)).replace(tzinfo=UTC)
        except ValueError:
            raise MappingProblem(_("The order's creation time %(value)s is not a date.", value=repr(created))) from None
        status = payload.get("status")
        shipping_lines = payload.get("shipping_lines") or []
        name = " ".join(filter(None, [billing.get("first_name") or ship.get("first_name"),
                                      billing.get("last_name") or ship.get("last_name")]))
        return ChannelOrder(
            channel_order_id=str(payload["id"]), number=str(payload.get("number") or payload["id"]),
            placed_at=placed, status=status, cancelled=status in CANCELLED_STATUSES, lines=tuple(lines),
            customer={"name": name or None, "email": billing.get("email"),
                      "phone": billing.get("phone") or ship.get("phone")},
            address=address, payment=payload.get("payment_method") or None,
            delivery=(shipping_lines[0].get("method_id") if shipping_lines and isinstance(shipping_lines[0], dict)
                      else None),
        )

    # --- returns (order refunds) ----------------------------------------------------------------

    def return_order_id(self, payload: Any) -> str | None:
        arg = str(payload.get("arg") or "") if isinstance(payload, dict) else ""
        # ASCII digits only, of an id's length: "²" passes isdigit() but not int()
        return arg if arg.isascii() and arg.isdigit() and len(arg) <= 20 else None

    def return_payloads(self, payload: Any) -> list[Any]:
        """The order's refunds (`GET /orders/{id}/refunds`), each with the order id added."""
        order_id = self.return_order_id(payload)
        if order_id is None:
            raise MappingProblem(_("The body names no WooCommerce order (no numeric arg)."))
        data, _unused = self.call_json("GET", f"{API}/orders/{order_id}/refunds?per_page=100",
                                       headers=self._headers())
        if not isinstance(data, list):
            raise ChannelError(_("WooCommerce's refund list is not a list."), transient=True)
        # Refunds Packline asked for (a return's refund-ready push, the reason naming the return)
        # are listed too, but their units are on that return already.
        return [{**refund, "order_id": int(order_id)} for refund in data
                if isinstance(refund, dict) and not made_by_packline(refund.get("reason"))]

    def parse_return(self, payload: Any) -> ChannelReturn:
        """One order refund: its line items (negative quantities, the refunded order line in the
        `_refunded_item_id` meta) are what comes back; the refund's reason is the customer's."""
        if not isinstance(payload, dict) or payload.get("id") is None or payload.get("order_id") is None:
            raise MappingProblem(_("The body is not a WooCommerce order refund (no id or order_id)."))
        reason = str(payload.get("reason") or "").strip()[:500] or None
        by_sku: dict[str, list] = {}
        for n, item in enumerate(payload.get("line_items") or []):
            if not isinstance(item, dict):
                raise MappingProblem(_("Refund line %(number)s is not an object.", number=n + 1))
            sku = str(item.get("sku") or "").strip()
            if not sku:
                raise MappingProblem(_("Refund line %(number)s (%(name)s) has no SKU.", number=n + 1, name=item.get("name") or "-"))
            try:
                units = abs(int(item.get("quantity") or 0))
            except (TypeError, ValueError):
                raise MappingProblem(_("Refund line %(number)s: the quantity is not a number.", number=n + 1)) from None
            if not units:
                continue
            refunded = next((str(m.get("value")) for m in item.get("meta_data") or []
                             if isinstance(m, dict) and m.get("key") == "_refunded_item_id"), None)
            line = by_sku.setdefault(sku, [0, refunded])
            line[0] += units
        return ChannelReturn(channel_return_id=f"refund:{payload['id']}"[:100], channel_order_id=str(payload["order_id"]),
                             reason=reason, lines=tuple(ReturnLine(sku, units, reason, line_id)
                                                        for sku, (units, line_id) in by_sku.items()))

    def _headers(self) -> dict[str, str]:
        token = base64.b64encode(f"{self.config.consumer_key}:{self.config.consumer_secret}".encode()).decode()
        return {"Authorization": f"Basic {token}", "Content-Type": "application/json", "Accept": "application/json"}

    def push_refund(self, news: RefundNews) -> str:
        """An order refund for the returned line items (`POST /orders/{id}/refunds`), amounts
        from the order's line prices; `api_refund` asks the payment gateway to pay it back. A
        refund whose reason names the return already is not made twice."""
        if news.channel_return is not None:
            return _("the refund was made in WooCommerce: nothing to tell")
        path = f"{API}/orders/{news.channel_order_id}/refunds"
        prices = {str(item.get("id")): item.get("price") for item in news.order_payload.get("line_items") or []
                  if isinstance(item, dict)}
        lines, total = [], Decimal(0)
        for line in news.lines:
            if not line.line_id or not line.line_id.isdigit() or line.quantity <= 0:
                continue
            amount = (money(prices.get(line.line_id)) or Decimal(0)) * line.quantity
            total += amount
            lines.append({"id": int(line.line_id), "quantity": line.quantity, "refund_total": f"{amount:.2f}"})
        if not lines:
            raise ChannelError(_("Packline cannot name the returned items as WooCommerce order lines."), transient=False)
        reason = packline_refund_text(news.return_number)
        known, _unused = self.call_json("GET", path, headers=self._headers())
        for refund in known or []:
            if isinstance(refund, dict) and names_packline_return(refund.get("reason"), news.return_number):
                return _("refund %(id)s already in WooCommerce", id=refund.get("id"))
        answer, _unused = self.call_json("POST", path, headers=self._headers(), json_body={
            "amount": f"{total:.2f}", "reason": reason + (f": {news.reason}" if news.reason else ""),
            "api_refund": True, "line_items": lines})
        return _("refund %(id)s created in WooCommerce", id=(answer or {}).get("id"))

    def push_status(self, news: StatusNews) -> str:
        path = f"{API}/orders/{news.channel_order_id}"
        if news.kind == "shipped":
            meta = [{"key": "_packline_package", "value": news.package_number},
                    {"key": "_tracking_number", "value": news.tracking_number or ""},
                    {"key": "_tracking_url", "value": news.tracking_url or ""},
                    {"key": "_tracking_provider", "value": news.carrier or ""}]
            self.call_json("PUT", path, headers=self._headers(), json_body={"status": "completed", "meta_data": meta})
            return _("order completed in WooCommerce with tracking")
        if news.kind == "delivered":
            stamp = datetime.now(UTC).isoformat(timespec="seconds")
            self.call_json("PUT", path, headers=self._headers(),
                           json_body={"meta_data": [{"key": "_packline_delivered_at", "value": stamp}]})
            return _("delivery noted on the WooCommerce order")
        if news.kind == "cancelled":
            self.call_json("PUT", path, headers=self._headers(), json_body={"status": "cancelled"})
            return _("order cancelled in WooCommerce")
        return _("nothing to tell WooCommerce: refused items are planned again")

    def catalog(self) -> dict[str, int]:
        """SKU -> product id, walking /products page by page (X-WP-TotalPages)."""
        found: dict[str, int] = {}
        page, pages = 1, 1
        while page <= pages and page <= 10_000:
            data, response = self.call_json("GET", f"{API}/products?per_page=100&page={page}", headers=self._headers())
            for product in data or []:
                if isinstance(product, dict) and product.get("sku"):
                    found[str(product["sku"])] = int(product["id"])
            try:
                pages = int(response.headers.get("X-WP-TotalPages") or 1)
            except ValueError:
                pages = 1
            page += 1
        return found

    def push_stock(self, quantities: Mapping[str, int], catalog: Mapping[str, Any] | None = None) -> StockPushResult:
        from app.services.channels.base import ChannelError

        result = StockPushResult()
        ids = catalog if catalog is not None else self.catalog()
        known = []
        for sku, qty in quantities.items():
            if sku in ids:
                known.append((sku, int(ids[sku]), int(qty)))
            else:
                result.failed[sku] = N_("WooCommerce has no product with this SKU.")  # kept English; said on screen
        for start in range(0, len(known), BATCH_SIZE):
            chunk = known[start:start + BATCH_SIZE]
            try:
                data, _response = self.call_json("POST", f"{API}/products/batch", headers=self._headers(), json_body={
                    "update": [{"id": pid, "manage_stock": True, "stock_quantity": qty} for _, pid, qty in chunk]})
            except ChannelError as exc:
                for sku, _, _ in known[start:]:
                    result.failed[sku] = exc.message
                result.retry_after = exc.retry_after
                if exc.transient:
                    break
                continue
            errors = {int(row["id"]): row["error"].get("message", "refused")
                      for row in (data or {}).get("update", []) if isinstance(row, dict) and row.get("error")}
            for sku, pid, _ in chunk:
                if pid in errors:
                    result.failed[sku] = f"WooCommerce: {errors[pid]}"
                else:
                    result.acknowledged.append(sku)
        return result
