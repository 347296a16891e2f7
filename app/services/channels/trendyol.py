"""Trendyol (Marketplace integration API): orders pulled from the shipment package list;
package status and unsupplied items back; stock out through price-and-inventory batches; the
common label for packages Trendyol's carrier takes.

Calls authenticate with HTTP Basic (API key and secret) and send `User-Agent: <sellerId> -
SelfIntegration` and `storeFrontCode`. The order list is
`GET /integration/order/sellers/{sellerId}/orders` with `startDate`/`endDate` (ms), `status`,
`page` (from 0), `size` (≤ 200), ordered by `PackageLastModifiedDate`, answering
`{"page", "size", "totalPages", "totalElements", "content": [...]}`. Stock goes to
`POST /integration/inventory/sellers/{sellerId}/products/price-and-inventory` (≤ 1,000 items),
which answers a `batchRequestId` whose result is read from `.../products/batch-requests/{id}`.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import urlencode

from flask_babel import gettext as _

from app.services.channels.base import (
    ChannelConnector,
    ChannelError,
    ChannelLine,
    ChannelOrder,
    ChannelReturn,
    MappingProblem,
    RefundNews,
    ReturnLine,
    StatusNews,
    StockPushResult,
)
from app.services.channels.config import TrendyolConfig
from app.services.channels.shopify import money, quantity

PAGE_SIZE = 200
BATCH_SIZE = 1000
MAX_PAGES = 50  # Trendyol serves at most 10,000 packages per query window
CANCELLED_STATUSES = {"Cancelled", "UnSupplied"}
UNSUPPLIED_REASON = 500  # "stock out" in Trendyol's list of unsupplied reasons
CLAIM_TOPIC = "claim"
# Claim items no longer coming back: nothing to receive or approve.
CLOSED_CLAIM_ITEM_STATUSES = {"Rejected", "Cancelled", "Unresolved"}


class TrendyolConnector(ChannelConnector):
    name = "trendyol"
    title = "Trendyol"
    config_model = TrendyolConfig
    secret_fields = ("api_key", "api_secret")
    pulls_orders = True
    pushes_stock = True
    # One customer order (orderNumber) may come as several shipment packages, each with its own
    # id and lines: each becomes its own Packline order (see intake._package_order).
    orders_split_into_packages = True
    config: TrendyolConfig

    def _headers(self) -> dict[str, str]:
        token = base64.b64encode(f"{self.config.api_key}:{self.config.api_secret}".encode()).decode()
        return {"Authorization": f"Basic {token}", "User-Agent": f"{self.config.seller_id} - SelfIntegration",
                "storeFrontCode": self.config.store_front_code, "Content-Type": "application/json",
                "Accept": "application/json"}

    def topic_kind(self, topic: str) -> Literal["order", "cancel", "return"] | None:
        return "order" if topic == "shipment_package" else "return" if topic == CLAIM_TOPIC else None

    # --- returns (claims) -----------------------------------------------------------------------

    def pull_returns(self, since_ms: int, until_ms: int) -> list[dict[str, Any]]:
        """Every claim created in [since_ms, until_ms] (`getClaims`: `startDate`/`endDate` by claim
        date, `page` from 0, `size` ≤ 200), oldest first."""
        claims: dict[str, dict[str, Any]] = {}
        page = 0
        while page < MAX_PAGES:
            query = urlencode({"startDate": since_ms, "endDate": until_ms, "page": page, "size": PAGE_SIZE})
            data, _unused = self.call_json("GET", f"/integration/order/sellers/{self.config.seller_id}/claims?{query}",
                                           headers=self._headers())
            if not isinstance(data, dict) or not isinstance(data.get("content"), list):
                raise ChannelError(_("Trendyol's claim list answer has no content list."), transient=True)
            for claim in data["content"]:
                if isinstance(claim, dict) and claim.get("id") is not None:
                    claims[str(claim["id"])] = claim
            page += 1
            if page >= int(data.get("totalPages") or 0):
                break
        return sorted(claims.values(), key=lambda c: (int(c.get("lastModifiedDate") or c.get("claimDate") or 0),
                                                      str(c["id"])))

    def parse_return(self, payload: Any) -> ChannelReturn:
        """A claim: per order line, its claim items (one unit each) still open; the customer's
        reason is the claim item's `customerClaimItemReason`."""
        if not isinstance(payload, dict) or payload.get("id") is None or not payload.get("orderNumber"):
            raise MappingProblem(_("The body is not a Trendyol claim (no id or orderNumber)."))
        lines = []
        for n, row in enumerate(payload.get("items") or []):
            if not isinstance(row, dict) or not isinstance(row.get("orderLine"), dict):
                raise MappingProblem(_("Claim line %(number)s has no orderLine.", number=n + 1))
            order_line = row["orderLine"]
            sku = str(order_line.get("merchantSku") or order_line.get("barcode") or "").strip()
            if not sku:
                raise MappingProblem(_("Claim line %(number)s names no merchantSku.", number=n + 1))
            items = [item for item in row.get("claimItems") or [] if isinstance(item, dict) and item.get("id")
                     and ((item.get("claimItemStatus") or {}).get("name") not in CLOSED_CLAIM_ITEM_STATUSES)]
            if not items:
                continue
            reasons = [str((item.get("customerClaimItemReason") or {}).get("name") or "").strip() for item in items]
            reason = "; ".join(dict.fromkeys(r for r in reasons if r))[:500] or None
            lines.append(ReturnLine(sku, len(items), reason, str(order_line.get("id") or "") or None,
                                    tuple(str(item["id"]) for item in items)))
        return ChannelReturn(channel_return_id=str(payload["id"])[:100], order_number=str(payload["orderNumber"]),
                             lines=tuple(lines), reason=lines[0].reason if lines else None)

    def push_refund(self, news: RefundNews) -> str:
        """Approve the claim items of the units that came back (`approveClaimLineItems`)."""
        if news.channel_return is None:
            return _("Trendyol refunds only through its claims; this return has none: nothing to tell")
        ids = [item_id for line in news.lines for item_id in line.item_ids[:line.quantity]]
        if not ids:
            return _("no claim items came back: nothing to approve")
        self.call_json("PUT", f"/integration/order/sellers/{self.config.seller_id}/claims/"
                              f"{news.channel_return.channel_return_id}/items/approve",
                       headers=self._headers(), json_body={"claimLineItemIdList": ids, "params": {}})
        return _("%(count)s claim item(s) approved in Trendyol", count=len(ids))

    def pull_orders(self, since_ms: int, until_ms: int) -> list[dict[str, Any]]:
        """Every package modified in [since_ms, until_ms] in a status we take, oldest change
        first, walking the pages."""
        packages: dict[int, dict[str, Any]] = {}
        for status in dict.fromkeys([*self.config.statuses, *sorted(CANCELLED_STATUSES)]):
            page = 0
            while page < MAX_PAGES:
                query = urlencode({"status": status, "startDate": since_ms, "endDate": until_ms, "page": page,
                                   "size": PAGE_SIZE, "orderByField": "PackageLastModifiedDate",
                                   "orderByDirection": "ASC"})
                data, _unused = self.call_json("GET", f"/integration/order/sellers/{self.config.seller_id}/orders?{query}",
                                         headers=self._headers())
                if not isinstance(data, dict) or not isinstance(data.get("content"), list):
                    raise ChannelError(_("Trendyol's order list answer has no content list."), transient=True)
                for package in data["content"]:
                    if isinstance(package, dict) and package.get("id") is not None:
                        packages[int(package["id"])] = package
                page += 1
                if page >= int(data.get("totalPages") or 0):
                    break
        return sorted(packages.values(), key=lambda p: (int(p.get("lastModifiedDate") or 0), int(p["id"])))

    def parse_order(self, payload: Any) -> ChannelOrder:
        if not isinstance(payload, dict) or payload.get("id") is None or not payload.get("orderNumber"):
            raise MappingProblem(_("The package is not a Trendyol shipment package (no id or orderNumber)."))
        items = payload.get("lines")
        if not isinstance(items, list) or not items:
            raise MappingProblem(_("The package has no lines."))
        lines = []
        for n, item in enumerate(items):
            if not isinstance(item, dict):
                raise MappingProblem(_("Line %(number)s is not an object.", number=n + 1))
            sku = str(item.get("merchantSku") or item.get("barcode") or "").strip()
            if not sku:
                raise MappingProblem(_("Line %(number)s (%(name)s) has no merchantSku.", number=n + 1, name=item.get("productName") or "-"))
            lines.append(ChannelLine(sku, quantity(item.get("quantity"), _("Line %(number)s", number=n + 1)), money(item.get("price")),
                                     str(item.get("id")) if item.get("id") is not None else None))
        ship = payload.get("shipmentAddress") if isinstance(payload.get("shipmentAddress"), dict) else {}
        address = None
        if ship:
            address = {"line": ", ".join(filter(None, [ship.get("address1"), ship.get("address2")])) or None,
                       "city": ship.get("city"), "district": ship.get("district"),
                       "postcode": ship.get("postalCode"), "country": ship.get("countryCode")}
        try:
            placed = datetime.fromtimestamp(int(payload.get("orderDate")) / 1000, UTC)
        except (TypeError, ValueError):
            raise MappingProblem(_("The package has no orderDate.")) from None
        status = payload.get("shipmentPackageStatus") or payload.get("status")
        name = " ".join(filter(None, [payload.get("customerFirstName"), payload.get("customerLastName")]))
        return ChannelOrder(
            channel_order_id=str(payload["id"]), number=str(payload["orderNumber"]), placed_at=placed,
            status=status, cancelled=status in CANCELLED_STATUSES, lines=tuple(lines),
            customer={"name": name or ship.get("fullName"), "email": payload.get("customerEmail"), "phone": None},
            address=address, payment="trendyol", delivery=payload.get("deliveryType"),
            cargo=payload.get("cargoProviderName"),
        )

    def _package_path(self, package_id: str, action: str = "") -> str:
        return f"/integration/order/sellers/{self.config.seller_id}/shipment-packages/{package_id}{action}"

    def push_status(self, news: StatusNews) -> str:
        lines = [{"lineId": int(line.line_id), "quantity": line.quantity} for line in news.lines
                 if line.line_id and line.line_id.isdigit()]
        if news.kind == "shipped":
            self.call_json("PUT", self._package_path(news.channel_order_id), headers=self._headers(), json_body={
                "lines": lines, "params": {"invoiceNumber": news.package_number}, "status": "Invoiced"})
            return _("package marked Invoiced in Trendyol (its carrier reports the handover)")
        if news.kind == "cancelled":
            if not lines:
                return _("no Trendyol lines to report unsupplied")
            self.call_json("PUT", self._package_path(news.channel_order_id, "/items/unsupplied"),
                           headers=self._headers(), json_body={"lines": lines, "reasonId": UNSUPPLIED_REASON})
            return _("lines reported unsupplied to Trendyol")
        return _("nothing to tell Trendyol about %(kind)s: its carrier reports deliveries", kind=news.kind)

    def fetch_label(self, tracking_number: str) -> tuple[str, str]:
        """Trendyol's common label (ZPL) for a package its carrier takes: (format, content)."""
        data, _unused = self.call_json("GET", f"/integration/sellers/{self.config.seller_id}/common-label/{tracking_number}",
                                 headers=self._headers())
        labels = (data or {}).get("data") if isinstance(data, dict) else None
        if not labels or not isinstance(labels[0], dict) or not labels[0].get("label"):
            raise ChannelError(_('Trendyol has no label for this tracking number yet.'), transient=True)
        return str(labels[0].get("format") or "ZPL"), str(labels[0]["label"])

    def push_stock(self, quantities: Mapping[str, int], catalog: Mapping[str, Any] | None = None) -> StockPushResult:
        result = StockPushResult()
        pending = [(sku, int(qty)) for sku, qty in quantities.items()]
        seller = self.config.seller_id
        for start in range(0, len(pending), BATCH_SIZE):
            chunk = pending[start:start + BATCH_SIZE]
            try:
                data, _unused = self.call_json(
                    "POST", f"/integration/inventory/sellers/{seller}/products/price-and-inventory",
                    headers=self._headers(), json_body={"items": [{"barcode": s, "quantity": q} for s, q in chunk]})
                batch_id = (data or {}).get("batchRequestId") if isinstance(data, dict) else None
                if not batch_id:
                    raise ChannelError(_('Trendyol did not answer a batchRequestId.'), transient=True)
                report, _unused = self.call_json("GET", f"/integration/product/sellers/{seller}/products/batch-requests/"
                                                  f"{batch_id}", headers=self._headers())
            except ChannelError as exc:
                for sku, _unused in pending[start:]:
                    result.failed[sku] = exc.message
                result.retry_after = exc.retry_after
                break
            result.reference = str(batch_id)
            failures = {}
            for row in (report or {}).get("items") or []:
                if isinstance(row, dict) and row.get("status") == "FAILED":
                    barcode = (row.get("requestItem") or {}).get("barcode")
                    failures[barcode] = "Trendyol: " + "; ".join(map(str, row.get("failureReasons") or ["refused"]))
            for sku, _unused in chunk:
                if sku in failures:
                    result.failed[sku] = failures[sku]
                else:
                    result.acknowledged.append(sku)
        return result
