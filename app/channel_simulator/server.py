"""The simulator's HTTP server: in-memory shops for Shopify, WooCommerce and Trendyol.

Paths, field names, signatures, pagination and error bodies follow each channel's public
documentation for the calls Packline makes (docs/channels.md). Anything else answers 404 in the
channel's own error shape. `/_sim/...` is the control API tests and the demo use.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import itertools
import json
import re
import threading
import time
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

SHOPIFY_API = re.compile(r"^/admin/api/(?P<version>\d{4}-\d{2})/(?P<rest>.+)$")
WOO_API = "/wp-json/wc/v3/"
TRENDYOL_ORDERS = re.compile(r"^/integration/order/sellers/(?P<seller>\d+)/orders$")
TRENDYOL_PACKAGE = re.compile(
    r"^/integration/order/sellers/(?P<seller>\d+)/shipment-packages/(?P<package>\d+)(?P<action>/[a-z/-]+)?$")
TRENDYOL_INVENTORY = re.compile(r"^/integration/inventory/sellers/(?P<seller>\d+)/products/price-and-inventory$")
TRENDYOL_BATCH = re.compile(r"^/integration/product/sellers/(?P<seller>\d+)/products/batch-requests/(?P<batch>[\w-]+)$")
TRENDYOL_CLAIMS = re.compile(r"^/integration/order/sellers/(?P<seller>\d+)/claims$")
TRENDYOL_CLAIM_APPROVE = re.compile(
    r"^/integration/order/sellers/(?P<seller>\d+)/claims/(?P<claim>[\w-]+)/items/approve$")
TRENDYOL_LABEL = re.compile(r"^/integration/sellers/(?P<seller>\d+)/common-label/(?P<tracking>[\w-]+)$")
MAX_RECORDED = 20000


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def sign(secret: str, body: bytes) -> str:
    """Shopify's and WooCommerce's webhook signature: base64 of HMAC-SHA256 of the raw body."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


class State:
    """Everything the simulated shops know, behind one lock."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        self.ids = itertools.count(1001)
        self.requests: list[dict[str, Any]] = []
        self.faults: list[dict[str, Any]] = []
        # Shopify
        self.shopify_products: list[dict[str, Any]] = []
        self.shopify_levels: dict[str, int] = {}  # "<location_id>:<inventory_item_id>" -> available
        self.shopify_fulfillments: list[dict[str, Any]] = []
        self.shopify_fulfilled_orders: set[int] = set()
        self.shopify_cancelled: dict[int, dict[str, Any]] = {}
        self.shopify_refunds: list[dict[str, Any]] = []
        self.demo_orders: list[list[tuple[str, int]]] = []  # the lines of each order the demo shop chose
        # WooCommerce
        self.woo_products: dict[int, dict[str, Any]] = {}
        self.woo_order_updates: list[dict[str, Any]] = []
        self.woo_refunds: list[dict[str, Any]] = []
        # Trendyol
        self.trendyol_packages: list[dict[str, Any]] = []
        self.trendyol_stock: dict[str, int] = {}
        self.trendyol_batches: dict[str, dict[str, Any]] = {}
        self.trendyol_package_updates: list[dict[str, Any]] = []
        self.trendyol_claims: list[dict[str, Any]] = []
        self.trendyol_claim_approvals: list[dict[str, Any]] = []

    def next_id(self) -> int:
        return next(self.ids)

    def add_catalog(self, skus: list[str]) -> None:
        for sku in skus:
            if any(v["sku"] == sku for p in self.shopify_products for v in p["variants"]):
                continue
            product_id, variant_id, item_id = self.next_id(), self.next_id(), self.next_id()
            self.shopify_products.append({"id": product_id, "title": sku, "variants": [
                {"id": variant_id, "product_id": product_id, "sku": sku, "inventory_item_id": item_id,
                 "inventory_quantity": 0}]})
            woo_id = self.next_id()
            self.woo_products[woo_id] = {"id": woo_id, "name": sku, "sku": sku, "type": "simple",
                                         "manage_stock": True, "stock_quantity": 0, "stock_status": "outofstock"}
            self.trendyol_stock.setdefault(sku, 0)

    def shopify_available(self, sku: str) -> int | None:
        """What the Shopify shop believes it can sell of `sku`: the sum of the levels last pushed
        for its inventory item, or None when none was ever pushed (a shop before its first sync)."""
        items = {v["inventory_item_id"] for p in self.shopify_products for v in p["variants"] if v["sku"] == sku}
        levels = [available for key, available in self.shopify_levels.items() if int(key.split(":")[1]) in items]
        return sum(levels) if levels else None

    def take_demo_order(self, skus: list[str], rng: Any) -> list[tuple[str, int]]:
        """One to three lines of the SKUs the shop has in stock, their quantities taken off its
        levels as a real shop does when it sells; [] when it has none of them."""
        lines: list[tuple[str, int]] = []
        levels = {sku: self.shopify_available(sku) for sku in skus}
        in_stock = [sku for sku, available in levels.items() if available is None or available >= 1]
        for sku in rng.sample(in_stock, k=min(len(in_stock), rng.randint(1, 3))):
            available = levels[sku]
            quantity = rng.randint(1, 2 if available is None else min(2, available))
            lines.append((sku, quantity))
            if available is not None:
                self._take_level(sku, quantity)
        if lines:
            self.demo_orders.append(lines)
        return lines

    def _take_level(self, sku: str, quantity: int) -> None:
        items = {v["inventory_item_id"] for p in self.shopify_products for v in p["variants"] if v["sku"] == sku}
        for key in sorted(self.shopify_levels):
            if int(key.split(":")[1]) in items and quantity > 0:
                taken = min(quantity, max(0, self.shopify_levels[key]))
                self.shopify_levels[key] -= taken
                quantity -= taken

    def snapshot(self) -> dict[str, Any]:
        by_item = {v["inventory_item_id"]: v["sku"] for p in self.shopify_products for v in p["variants"]}
        shopify_stock: dict[str, int] = {}
        for key, available in self.shopify_levels.items():
            sku = by_item.get(int(key.split(":")[1]))
            if sku is not None:
                shopify_stock[sku] = available
        return {
            "shopify": {"stock": shopify_stock, "levels": self.shopify_levels,
                        "fulfillments": self.shopify_fulfillments,
                        "cancelled": sorted(self.shopify_cancelled), "refunds": self.shopify_refunds,
                        "demo_orders": self.demo_orders},
            "woocommerce": {"stock": {p["sku"]: p["stock_quantity"] for p in self.woo_products.values()},
                            "order_updates": self.woo_order_updates, "refunds": self.woo_refunds},
            "trendyol": {"stock": self.trendyol_stock, "package_updates": self.trendyol_package_updates,
                         "claim_approvals": self.trendyol_claim_approvals,
                         "batches": list(self.trendyol_batches.values()),
                         "packages": len(self.trendyol_packages)},
        }


STATE = State()


class Handler(BaseHTTPRequestHandler):
    server_version = "ChannelSimulator/1.0"
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet by default
        if getattr(self.server, "verbose", False):
            super().log_message(format, *args)

    # --- plumbing ------------------------------------------------------------------------------

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, payload: Any = None, headers: dict[str, str] | None = None,
              raw: bytes | None = None) -> None:
        body = raw if raw is not None else (b"" if payload is None else json.dumps(payload).encode())
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802
        self._dispatch("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch("POST")

    def do_PUT(self) -> None:  # noqa: N802
        self._dispatch("PUT")

    def _dispatch(self, method: str) -> None:
        parts = urlsplit(self.path)
        path, query = parts.path, parse_qs(parts.query)
        raw = self._body()
        try:
            data = json.loads(raw) if raw else None
        except ValueError:
            data = None
        if path.startswith("/_sim/"):
            return self._control(method, path, query, data)
        with STATE.lock:
            STATE.requests.append({"id": len(STATE.requests) + 1, "at": time.time(), "method": method,
                                   "path": path, "query": query, "headers": dict(self.headers.items()),
                                   "body": raw.decode("utf-8", "replace"), "json": data})
            del STATE.requests[:-MAX_RECORDED]
            fault = self._take_fault(path)
        if fault is not None:
            return self._fail(fault, path)
        try:
            if SHOPIFY_API.match(path):
                return self._shopify(method, path, query, data)
            if path.startswith(WOO_API):
                return self._woo(method, path, query, data)
            if path.startswith("/integration/"):
                return self._trendyol(method, path, query, data)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            return self._send(400, {"errors": f"bad request: {exc}"})
        return self._send(404, {"errors": "Not Found"})

    def _take_fault(self, path: str) -> dict[str, Any] | None:
        for fault in STATE.faults:
            if path.startswith(fault.get("path_prefix", "")) and fault["remaining"] > 0:
                fault["remaining"] -= 1
                return dict(fault)
        return None

    def _fail(self, fault: dict[str, Any], path: str) -> None:
        mode = fault["mode"]
        if mode == "timeout":
            time.sleep(float(fault.get("delay", 30)))
            return self._send(504, {"errors": "Gateway Timeout"})
        if mode == "429":
            retry_after = str(fault.get("retry_after", 1))
            if path.startswith("/integration/"):
                return self._send(429, _trendyol_error(429, "TooManyRequestsException", "Too many requests"),
                                  {"Retry-After": retry_after})
            if path.startswith(WOO_API):
                return self._send(429, _woo_error("woocommerce_rest_too_many_requests", "Too many requests.", 429),
                                  {"Retry-After": retry_after})
            return self._send(429, {"errors": "Exceeded 2 calls per second for api client. Reduce request rates "
                                              "to resume uninterrupted service."}, {"Retry-After": retry_after})
        if mode == "garbage":
            return self._send(200, raw=b"<html><body>Bad gateway, please try later</body></html>",
                              headers={"X-Garbage": "1"})
        return self._send(int(fault.get("status", 500)), {"errors": "Internal Server Error"})

    # --- control -------------------------------------------------------------------------------

    def _control(self, method: str, path: str, query: dict[str, list[str]], data: Any) -> None:
        data = data or {}
        if path == "/_sim/health":
            return self._send(200, {"ok": True})
        if path == "/_sim/reset" and method == "POST":
            with STATE.lock:
                STATE.reset()
            return self._send(200, {"ok": True})
        if path == "/_sim/requests":
            prefix = (query.get("path_prefix") or [""])[0]
            method_filter = (query.get("method") or [""])[0]
            with STATE.lock:
                rows = [r for r in STATE.requests if r["path"].startswith(prefix)
                        and (not method_filter or r["method"] == method_filter)]
            return self._send(200, {"requests": rows})
        if path == "/_sim/faults" and method == "POST":
            fault = {"path_prefix": data.get("path_prefix", ""), "mode": str(data.get("mode", "500")),
                     "remaining": int(data.get("count", 1)), "retry_after": data.get("retry_after", 1),
                     "delay": data.get("delay", 30), "status": data.get("status", 500)}
            with STATE.lock:
                STATE.faults.append(fault)
            return self._send(200, fault)
        if path == "/_sim/catalog" and method == "POST":
            with STATE.lock:
                STATE.add_catalog([str(s) for s in data.get("skus", [])])
            return self._send(200, {"ok": True})
        if path == "/_sim/state":
            with STATE.lock:
                return self._send(200, json.loads(json.dumps(STATE.snapshot())))
        if path == "/_sim/trendyol/packages" and method == "POST":
            with STATE.lock:
                STATE.trendyol_packages.extend(data.get("packages", []))
            return self._send(200, {"ok": True})
        if path == "/_sim/woocommerce/refunds" and method == "POST":
            # Refunds the shop made itself (in WordPress), listed by GET /orders/{id}/refunds.
            with STATE.lock:
                for refund in data.get("refunds", []):
                    STATE.woo_refunds.append({"order_id": int(data["order_id"]), **refund})
            return self._send(200, {"ok": True})
        if path == "/_sim/trendyol/claims" and method == "POST":
            with STATE.lock:
                STATE.trendyol_claims.extend(data.get("claims", []))
            return self._send(200, {"ok": True})
        if path == "/_sim/webhooks/send" and method == "POST":
            return self._send(200, send_webhook(data))
        return self._send(404, {"errors": "unknown control path"})

    # --- Shopify Admin REST --------------------------------------------------------------------

    def _shopify(self, method: str, path: str, query: dict[str, list[str]], data: Any) -> None:
        match = SHOPIFY_API.match(path)
        assert match is not None
        version, rest = match["version"], match["rest"]
        if not self.headers.get("X-Shopify-Access-Token"):
            return self._send(401, {"errors": "[API] Invalid API key or access token (unrecognized login or wrong "
                                              "password)"})
        if rest == "products.json" and method == "GET":
            return self._shopify_products(version, query)
        if rest == "inventory_levels/set.json" and method == "POST":
            location_id, item_id = int(data["location_id"]), int(data["inventory_item_id"])
            available = int(data["available"])
            with STATE.lock:
                known = any(v["inventory_item_id"] == item_id for p in STATE.shopify_products for v in p["variants"])
                if not known:
                    return self._send(422, {"errors": {"inventory_item_id": ["is invalid"]}})
                STATE.shopify_levels[f"{location_id}:{item_id}"] = available
            return self._send(200, {"inventory_level": {"inventory_item_id": item_id, "location_id": location_id,
                                                        "available": available, "updated_at": now_iso()}})
        m = re.fullmatch(r"orders/(\d+)/fulfillment_orders\.json", rest)
        if m and method == "GET":
            order_id = int(m[1])
            with STATE.lock:
                closed = order_id in STATE.shopify_fulfilled_orders
            return self._send(200, {"fulfillment_orders": [{
                "id": order_id * 10 + 1, "order_id": order_id, "status": "closed" if closed else "open",
                "supported_actions": [] if closed else ["create_fulfillment"], "line_items": []}]})
        if rest == "fulfillments.json" and method == "POST":
            fulfillment = data["fulfillment"]
            groups = fulfillment["line_items_by_fulfillment_order"]
            order_id = int(groups[0]["fulfillment_order_id"]) // 10
            tracking = fulfillment.get("tracking_info") or {}
            with STATE.lock:
                if order_id in STATE.shopify_fulfilled_orders:
                    return self._send(422, {"errors": ["Fulfillment order has an unfulfillable status= closed."]})
                STATE.shopify_fulfilled_orders.add(order_id)
                record = {"id": STATE.next_id(), "order_id": order_id, "status": "success",
                          "tracking_company": tracking.get("company"), "tracking_number": tracking.get("number"),
                          "tracking_numbers": [tracking.get("number")] if tracking.get("number") else [],
                          "tracking_url": tracking.get("url"), "created_at": now_iso(), "events": []}
                STATE.shopify_fulfillments.append(record)
            return self._send(201, {"fulfillment": record})
        m = re.fullmatch(r"orders/(\d+)/fulfillments\.json", rest)
        if m and method == "GET":
            with STATE.lock:
                rows = [f for f in STATE.shopify_fulfillments if f["order_id"] == int(m[1])]
            return self._send(200, {"fulfillments": rows})
        m = re.fullmatch(r"orders/(\d+)/fulfillments/(\d+)/events\.json", rest)
        if m and method == "POST":
            with STATE.lock:
                record = next((f for f in STATE.shopify_fulfillments if f["id"] == int(m[2])), None)
                if record is None:
                    return self._send(404, {"errors": "Not Found"})
                event = {"id": STATE.next_id(), "fulfillment_id": record["id"], "status": data["event"]["status"],
                         "created_at": now_iso()}
                record["events"].append(event)
            return self._send(201, {"fulfillment_event": event})
        m = re.fullmatch(r"orders/(\d+)/refunds(/calculate)?\.json", rest)
        if m:
            return self._shopify_refunds(int(m[1]), bool(m[2]), method, data)
        m = re.fullmatch(r"orders/(\d+)/cancel\.json", rest)
        if m and method == "POST":
            order_id = int(m[1])
            with STATE.lock:
                STATE.shopify_cancelled[order_id] = data or {}
            return self._send(200, {"order": {"id": order_id, "cancelled_at": now_iso()}})
        return self._send(404, {"errors": "Not Found"})

    def _shopify_refunds(self, order_id: int, calculate: bool, method: str, data: Any) -> None:
        """The Refund resource: list, calculate (suggested transactions), create."""
        if method == "GET" and not calculate:
            with STATE.lock:
                rows = [r for r in STATE.shopify_refunds if r["order_id"] == order_id]
            return self._send(200, {"refunds": rows})
        if method != "POST":
            return self._send(404, {"errors": "Not Found"})
        refund = (data or {}).get("refund") or {}
        lines = refund.get("refund_line_items") or []
        if not lines or any(int(line.get("quantity", 0)) <= 0 or not line.get("line_item_id") for line in lines):
            return self._send(422, {"errors": {"refund_line_items": ["are invalid"]}})
        amount = f"{sum(int(line['quantity']) for line in lines) * 199.90:.2f}"
        if calculate:
            return self._send(200, {"refund": {"refund_line_items": lines, "transactions": [
                {"order_id": order_id, "kind": "suggested_refund", "gateway": "shopify_payments",
                 "parent_id": order_id * 10 + 5, "amount": amount, "maximum_refundable": amount}]}})
        transactions = refund.get("transactions") or []
        if not transactions or any(t.get("kind") != "refund" or not t.get("parent_id") for t in transactions):
            return self._send(422, {"errors": {"transactions": ["must be refunds of a parent transaction"]}})
        with STATE.lock:
            record = {"id": STATE.next_id(), "order_id": order_id, "note": refund.get("note"),
                      "notify": refund.get("notify"), "refund_line_items": lines, "transactions": transactions,
                      "created_at": now_iso()}
            STATE.shopify_refunds.append(record)
        return self._send(201, {"refund": record})

    def _shopify_products(self, version: str, query: dict[str, list[str]]) -> None:
        limit = min(int((query.get("limit") or ["50"])[0]), 250)
        page_info = (query.get("page_info") or [""])[0]
        offset = int(base64.urlsafe_b64decode(page_info.encode()).decode()) if page_info else 0
        with STATE.lock:
            products = STATE.shopify_products[offset:offset + limit]
            total = len(STATE.shopify_products)
        host = self.headers.get("Host", "127.0.0.1")
        base = f"http://{host}/admin/api/{version}/products.json"
        links = []
        if offset + limit < total:
            token = base64.urlsafe_b64encode(str(offset + limit).encode()).decode()
            links.append(f'<{base}?{urlencode({"limit": limit, "page_info": token})}>; rel="next"')
        if offset > 0:
            token = base64.urlsafe_b64encode(str(max(0, offset - limit)).encode()).decode()
            links.append(f'<{base}?{urlencode({"limit": limit, "page_info": token})}>; rel="previous"')
        headers = {"Link": ", ".join(links)} if links else {}
        return self._send(200, {"products": products}, headers)

    # --- WooCommerce REST v3 -------------------------------------------------------------------

    def _woo(self, method: str, path: str, query: dict[str, list[str]], data: Any) -> None:
        if not (self.headers.get("Authorization") or "").startswith("Basic "):
            return self._send(401, _woo_error("woocommerce_rest_cannot_view", "Sorry, you cannot list resources.",
                                              401))
        rest = path[len(WOO_API):]
        if rest == "products" and method == "GET":
            per_page = min(int((query.get("per_page") or ["10"])[0]), 100)
            page = max(1, int((query.get("page") or ["1"])[0]))
            sku = (query.get("sku") or [""])[0]
            with STATE.lock:
                rows = [p for p in STATE.woo_products.values() if not sku or p["sku"] == sku]
            total = len(rows)
            pages = max(1, -(-total // per_page))
            return self._send(200, rows[(page - 1) * per_page: page * per_page],
                              {"X-WP-Total": str(total), "X-WP-TotalPages": str(pages)})
        if rest == "products/batch" and method == "POST":
            updated = []
            with STATE.lock:
                for change in (data or {}).get("update", []):
                    product = STATE.woo_products.get(int(change["id"]))
                    if product is None:
                        updated.append({"id": change["id"], "error": {
                            "code": "woocommerce_rest_product_invalid_id", "message": "Invalid ID.",
                            "data": {"status": 400}}})
                        continue
                    if "stock_quantity" in change:
                        product["stock_quantity"] = int(change["stock_quantity"])
                        product["stock_status"] = "instock" if product["stock_quantity"] > 0 else "outofstock"
                    if "manage_stock" in change:
                        product["manage_stock"] = bool(change["manage_stock"])
                    updated.append(dict(product))
            return self._send(200, {"update": updated})
        m = re.fullmatch(r"orders/(\d+)/refunds", rest)
        if m and method == "GET":
            with STATE.lock:
                rows = [{k: v for k, v in r.items() if k != "order_id"} for r in STATE.woo_refunds
                        if r["order_id"] == int(m[1])]
            return self._send(200, rows, {"X-WP-Total": str(len(rows)), "X-WP-TotalPages": "1"})
        if m and method == "POST":
            body = data or {}
            lines = body.get("line_items") or []
            if float(body.get("amount") or 0) <= 0 and not lines:
                return self._send(400, _woo_error("woocommerce_rest_invalid_order_refund",
                                                  "Refund amount must be greater than zero.", 400))
            with STATE.lock:
                record = {"id": STATE.next_id(), "order_id": int(m[1]), "amount": body.get("amount"),
                          "reason": body.get("reason") or "", "api_refund": body.get("api_refund", True),
                          "line_items": lines, "date_created_gmt": now_iso()}
                STATE.woo_refunds.append(record)
            return self._send(201, record)
        m = re.fullmatch(r"orders/(\d+)", rest)
        if m and method in ("PUT", "POST"):
            with STATE.lock:
                STATE.woo_order_updates.append({"id": int(m[1]), **(data or {})})
            return self._send(200, {"id": int(m[1]), "status": (data or {}).get("status"),
                                    "meta_data": (data or {}).get("meta_data", [])})
        return self._send(404, _woo_error("rest_no_route", "No route was found matching the URL and request method.",
                                          404))

    # --- Trendyol Marketplace ------------------------------------------------------------------

    def _trendyol(self, method: str, path: str, query: dict[str, list[str]], data: Any) -> None:
        if not (self.headers.get("Authorization") or "").startswith("Basic "):
            return self._send(401, _trendyol_error(401, "ClientApiAuthenticationException",
                                                   "Unauthorized: authentication is required"))
        if (m := TRENDYOL_ORDERS.match(path)) and method == "GET":
            return self._trendyol_orders(query)
        if (m := TRENDYOL_CLAIMS.match(path)) and method == "GET":
            return self._trendyol_claims(query)
        if (m := TRENDYOL_CLAIM_APPROVE.match(path)) and method == "PUT":
            return self._trendyol_approve(m["claim"], data or {})
        if (m := TRENDYOL_PACKAGE.match(path)) and method == "PUT":
            with STATE.lock:
                STATE.trendyol_package_updates.append({"package_id": int(m["package"]),
                                                       "action": (m["action"] or "").strip("/") or "status",
                                                       **(data or {})})
            return self._send(200)
        if (m := TRENDYOL_INVENTORY.match(path)) and method == "POST":
            items = (data or {}).get("items") or []
            if len(items) > 1000:
                return self._send(400, _trendyol_error(400, "ClientApiValidationException",
                                                       "items: at most 1000 items per request"))
            batch_id = str(uuid.uuid4())
            results = []
            with STATE.lock:
                for item in items:
                    quantity = int(item["quantity"])
                    if quantity < 0 or item.get("barcode") not in STATE.trendyol_stock:
                        results.append({"requestItem": item, "status": "FAILED",
                                        "failureReasons": ["Ürün bulunamadı" if quantity >= 0 else "Invalid quantity"]})
                        continue
                    STATE.trendyol_stock[item["barcode"]] = quantity
                    results.append({"requestItem": item, "status": "SUCCESS", "failureReasons": []})
                STATE.trendyol_batches[batch_id] = {"batchRequestId": batch_id, "items": results,
                                                    "status": "COMPLETED", "creationDate": int(time.time() * 1000)}
            return self._send(200, {"batchRequestId": batch_id})
        if (m := TRENDYOL_BATCH.match(path)) and method == "GET":
            with STATE.lock:
                batch = STATE.trendyol_batches.get(m["batch"])
            if batch is None:
                return self._send(404, _trendyol_error(404, "ClientApiNotFoundException", "Batch request not found"))
            return self._send(200, batch)
        if (m := TRENDYOL_LABEL.match(path)) and method == "GET":
            tracking = m["tracking"]
            zpl = f"^XA^FO50,50^A0N,40,40^FDTrendyol Express^FS^FO50,120^BCN,100,Y,N,N^FD{tracking}^FS^XZ"
            return self._send(200, {"data": [{"label": zpl, "format": "ZPL"}]})
        return self._send(404, _trendyol_error(404, "ClientApiNotFoundException", "Not found"))

    def _trendyol_claims(self, query: dict[str, list[str]]) -> None:
        """getClaims: claims created in [startDate, endDate] (claimDate), page from 0."""
        def number(name: str, default: int) -> int:
            return int((query.get(name) or [str(default)])[0])

        page, size = number("page", 0), min(number("size", 50), 200)
        start, end = number("startDate", 0), number("endDate", 2**62)
        with STATE.lock:
            rows = sorted((c for c in STATE.trendyol_claims if start <= int(c.get("claimDate", 0)) <= end),
                          key=lambda c: (int(c.get("claimDate", 0)), str(c["id"])))
        total = len(rows)
        return self._send(200, {"page": page, "size": size, "totalPages": -(-total // size) if total else 0,
                                "totalElements": total, "content": rows[page * size:(page + 1) * size]})

    def _trendyol_approve(self, claim_id: str, data: dict[str, Any]) -> None:
        """approveClaimLineItems: only items of this claim in WaitingInAction; they become Accepted."""
        ids = data.get("claimLineItemIdList")
        if not isinstance(ids, list) or not ids:
            return self._send(400, _trendyol_error(400, "ClientApiValidationException",
                                                   "claimLineItemIdList must not be empty"))
        with STATE.lock:
            claim = next((c for c in STATE.trendyol_claims if str(c["id"]) == claim_id), None)
            if claim is None:
                return self._send(404, _trendyol_error(404, "ClientApiNotFoundException", "Claim not found"))
            items = {str(item["id"]): item for row in claim.get("items", []) for item in row.get("claimItems", [])}
            wrong = [i for i in ids if str(i) not in items
                     or (items[str(i)].get("claimItemStatus") or {}).get("name") != "WaitingInAction"]
            if wrong:
                return self._send(400, _trendyol_error(400, "ClientApiValidationException",
                                                       f"claim items not waiting in action: {', '.join(map(str, wrong))}"))
            for i in ids:
                items[str(i)]["claimItemStatus"] = {"name": "Accepted"}
            STATE.trendyol_claim_approvals.append({"claim_id": claim_id, "claimLineItemIdList": ids,
                                                   "params": data.get("params", {}), "at": now_iso()})
        return self._send(200)

    def _trendyol_orders(self, query: dict[str, list[str]]) -> None:
        def number(name: str, default: int) -> int:
            return int((query.get(name) or [str(default)])[0])

        page, size = number("page", 0), min(number("size", 50), 200)
        start, end = number("startDate", 0), number("endDate", 2**62)
        status = (query.get("status") or [""])[0]
        by_field = (query.get("orderByField") or ["PackageLastModifiedDate"])[0]
        date_key = "lastModifiedDate" if by_field == "PackageLastModifiedDate" else "orderDate"
        with STATE.lock:
            rows = [p for p in STATE.trendyol_packages
                    if start <= int(p.get(date_key, 0)) <= end and (not status or p.get("status") == status)]
        rows.sort(key=lambda p: (int(p.get(date_key, 0)), int(p["id"])),
                  reverse=(query.get("orderByDirection") or ["ASC"])[0] == "DESC")
        total = len(rows)
        return self._send(200, {"page": page, "size": size, "totalPages": -(-total // size) if total else 0,
                                "totalElements": total, "content": rows[page * size:(page + 1) * size]})


def _woo_error(code: str, message: str, status: int) -> dict[str, Any]:
    return {"code": code, "message": message, "data": {"status": status}}


def _trendyol_error(status: int, exception: str, message: str) -> dict[str, Any]:
    return {"timestamp": int(time.time() * 1000), "exception": exception,
            "errors": [{"key": exception, "message": message, "errorParams": []}], "status": status}


def webhook_headers(channel: str, topic: str, body: bytes, secret: str, delivery_id: str | None) -> dict[str, str]:
    """The headers Shopify or WooCommerce put on an order webhook."""
    if channel == "shopify":
        return {"Content-Type": "application/json", "User-Agent": "Shopify-Captain-Hook",
                "X-Shopify-Topic": topic, "X-Shopify-Hmac-Sha256": sign(secret, body),
                "X-Shopify-Shop-Domain": "packline-demo.myshopify.com", "X-Shopify-API-Version": "2024-01",
                "X-Shopify-Webhook-Id": delivery_id or str(uuid.uuid4()),
                "X-Shopify-Event-Id": str(uuid.uuid4()), "X-Shopify-Triggered-At": now_iso()}
    resource, _, event = topic.partition(".")
    return {"Content-Type": "application/json", "User-Agent": "WooCommerce/8.5.2 Hookshot (WordPress/6.4.3)",
            "X-WC-Webhook-Source": "https://shop.example.com/", "X-WC-Webhook-Topic": topic,
            "X-WC-Webhook-Resource": resource, "X-WC-Webhook-Event": event,
            "X-WC-Webhook-Signature": sign(secret, body), "X-WC-Webhook-ID": "12",
            "X-WC-Webhook-Delivery-ID": delivery_id or str(uuid.uuid4().int % 10**8)}


def send_webhook(command: dict[str, Any]) -> dict[str, Any]:
    """POST one signed order webhook to `url` and report the answer."""
    body = command.get("raw_body")
    body = body.encode() if isinstance(body, str) else json.dumps(command.get("payload", {})).encode()
    headers = webhook_headers(command.get("channel", "shopify"), command.get("topic", "orders/create"), body,
                              command.get("secret", ""), command.get("delivery_id"))
    if command.get("signature") is not None:  # tests send wrong signatures on purpose
        for name in ("X-Shopify-Hmac-Sha256", "X-WC-Webhook-Signature"):
            if name in headers:
                headers[name] = command["signature"]
    request = urllib.request.Request(command["url"], data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=float(command.get("timeout", 10))) as response:
            return {"status": response.status, "body": response.read(4096).decode("utf-8", "replace"),
                    "headers": dict(headers)}
    except urllib.error.HTTPError as exc:
        return {"status": exc.code, "body": exc.read(4096).decode("utf-8", "replace"), "headers": dict(headers)}
    except OSError as exc:
        return {"status": None, "error": str(exc), "headers": dict(headers)}


def serve(host: str, port: int, verbose: bool = False) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    server.verbose = verbose  # type: ignore[attr-defined]
    return server


def place_orders(url: str, secret: str, every: float, skus: list[str], stop: threading.Event) -> None:
    """The demo shop: a signed Shopify `orders/create` webhook to `url` every `every` seconds,
    one to three lines of the given SKUs that the stock levels Packline pushed say are available
    (SKUs never pushed count as available); no order in a round when none is."""
    import random

    from app.channel_simulator.samples import shopify_order

    number = int(time.time()) % 1_000_000 * 10
    with STATE.lock:
        STATE.add_catalog(skus)
    while not stop.wait(every):
        with STATE.lock:
            lines = STATE.take_demo_order(skus, random)
        if not lines:
            print("demo shop: no order this time, the shop has none of its SKUs in stock", flush=True)
            continue
        number += 1
        answer = send_webhook({"url": url, "channel": "shopify", "topic": "orders/create", "secret": secret,
                               "payload": shopify_order(number, lines)})
        print(f"demo shop: order {number} -> {answer.get('status') or answer.get('error')}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description="Simulated Shopify, WooCommerce and Trendyol APIs")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8089)
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--place-orders", metavar="WEBHOOK_URL",
                        help="act as a Shopify shop placing orders to this Packline webhook address")
    parser.add_argument("--secret", default="demo-webhook-secret", help="the shop's webhook secret")
    parser.add_argument("--every", type=float, default=20.0, help="seconds between demo orders")
    parser.add_argument("--skus", default="", help="comma-separated SKUs the demo orders use")
    args = parser.parse_args()
    server = serve(args.host, args.port, args.verbose)
    print(f"channel simulator listening on http://{args.host}:{server.server_address[1]}", flush=True)
    if args.place_orders and args.skus:
        skus = [s.strip() for s in args.skus.split(",") if s.strip()]
        threading.Thread(target=place_orders, args=(args.place_orders, args.secret, args.every, skus,
                                                    threading.Event()), daemon=True).start()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
