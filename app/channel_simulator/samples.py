"""Orders as each channel sends them (the fields Packline reads, named as the channels name
them), for tests, the benchmark and the demo shop."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def shopify_order(order_id: int, lines: list[tuple[str, int]], *, name: str | None = None, city: str = "Istanbul",
                  address: bool = True, cancelled: bool = False, financial_status: str = "paid") -> dict[str, Any]:
    """A Shopify `orders/create` (or `orders/updated`, `orders/cancelled`) webhook body."""
    shipping = {"first_name": "Ayse", "last_name": "Yilmaz", "name": "Ayse Yilmaz", "address1": "Moda Cd. 1",
                "address2": "", "city": city, "province": "Kadikoy", "zip": "34710", "country": "Turkey",
                "country_code": "TR", "phone": "+905551112233", "latitude": 40.98, "longitude": 29.02}
    return {
        "id": order_id, "admin_graphql_api_id": f"gid://shopify/Order/{order_id}",
        "name": name or f"#{order_id}", "order_number": order_id, "email": "ayse@example.com",
        "phone": "+905551112233", "created_at": _now(), "updated_at": _now(), "currency": "TRY",
        "financial_status": financial_status, "fulfillment_status": None,
        "cancelled_at": _now() if cancelled else None, "cancel_reason": "customer" if cancelled else None,
        "payment_gateway_names": ["shopify_payments"],
        "customer": {"id": order_id + 7, "first_name": "Ayse", "last_name": "Yilmaz", "email": "ayse@example.com",
                     "phone": "+905551112233"},
        "shipping_address": shipping if address else None,
        "shipping_lines": [{"code": "Standard", "title": "Standard", "source": "shopify"}],
        "line_items": [{"id": order_id * 100 + n, "variant_id": order_id * 1000 + n, "sku": sku, "quantity": qty,
                        "price": "199.90", "title": sku, "fulfillable_quantity": qty}
                       for n, (sku, qty) in enumerate(lines)],
    }


def woocommerce_order(order_id: int, lines: list[tuple[str, int]], *, status: str = "processing",
                      city: str = "Istanbul", address: bool = True) -> dict[str, Any]:
    """A WooCommerce `order.created` / `order.updated` webhook body (REST v3 order shape)."""
    shipping = {"first_name": "Mehmet", "last_name": "Demir", "company": "", "address_1": "Bagdat Cd. 5",
                "address_2": "", "city": city if address else "", "state": "Kadikoy", "postcode": "34728",
                "country": "TR", "phone": "+905551234567"}
    return {
        "id": order_id, "number": str(order_id), "status": status, "currency": "TRY",
        "date_created_gmt": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
        "date_modified_gmt": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
        "payment_method": "cod", "payment_method_title": "Cash on delivery",
        "billing": {**shipping, "email": "mehmet@example.com"},
        "shipping": shipping,
        "shipping_lines": [{"id": 1, "method_id": "flat_rate", "method_title": "Flat rate"}],
        "line_items": [{"id": order_id * 100 + n, "product_id": 500 + n, "variation_id": 0, "sku": sku,
                        "quantity": qty, "price": 149.5, "name": sku} for n, (sku, qty) in enumerate(lines)],
        "meta_data": [],
    }


def trendyol_package(package_id: int, order_number: str, lines: list[tuple[str, int]], *,
                     status: str = "Created", modified_ms: int | None = None,
                     city: str = "Istanbul") -> dict[str, Any]:
    """One shipment package as Trendyol's order list returns it (getShipmentPackages `content`)."""
    stamp = modified_ms if modified_ms is not None else int(time.time() * 1000)
    address = {"firstName": "Zeynep", "lastName": "Kaya", "fullName": "Zeynep Kaya", "address1": "Istiklal Cd. 10",
               "address2": "", "city": city, "district": "Beyoglu", "postalCode": "34430", "countryCode": "TR",
               "phone": None, "fullAddress": f"Istiklal Cd. 10 Beyoglu/{city}"}
    return {
        "id": package_id, "orderNumber": order_number, "shipmentPackageStatus": status, "status": status,
        "orderDate": stamp, "lastModifiedDate": stamp, "customerFirstName": "Zeynep",
        "customerLastName": "Kaya", "customerEmail": "pf+abc@trendyolmail.com", "customerId": 99,
        "cargoTrackingNumber": 7330000000000 + package_id, "cargoProviderName": "Trendyol Express Marketplace",
        "cargoTrackingLink": f"https://kargotakip.trendyol.com/?token={package_id}",
        "shipmentAddress": address, "invoiceAddress": address, "grossAmount": 299.8, "totalPrice": 299.8,
        "currencyCode": "TRY", "deliveryType": "normal",
        "lines": [{"id": package_id * 10 + n, "quantity": qty, "merchantSku": sku, "barcode": sku,
                   "productName": sku, "price": 149.9, "amount": 149.9 * qty, "orderLineItemStatusName": status}
                  for n, (sku, qty) in enumerate(lines)],
        "packageHistories": [{"createdDate": stamp, "status": status}],
    }


def shopify_refund(refund_id: int, order_id: int, lines: list[tuple[str, int]], *, note: str | None = "Too small",
                   line_ids: list[int] | None = None) -> dict[str, Any]:
    """A Shopify `refunds/create` webhook body (the Refund resource) refunding these lines of an
    order made by `shopify_order(order_id, ...)` (whose line item ids are order_id * 100 + n)."""
    return {
        "id": refund_id, "order_id": order_id, "created_at": _now(), "processed_at": _now(), "note": note,
        "restock": False, "user_id": 42, "admin_graphql_api_id": f"gid://shopify/Refund/{refund_id}",
        "refund_line_items": [{
            "id": refund_id * 10 + n, "line_item_id": (line_ids[n] if line_ids else order_id * 100 + n),
            "quantity": qty, "restock_type": "return", "location_id": None, "subtotal": 199.9 * qty,
            "total_tax": 0.0, "line_item": {"id": (line_ids[n] if line_ids else order_id * 100 + n), "sku": sku,
                                            "quantity": qty, "price": "199.90", "title": sku}}
            for n, (sku, qty) in enumerate(lines)],
        "transactions": [{"id": refund_id * 7, "order_id": order_id, "kind": "refund", "status": "success",
                          "amount": f"{199.9 * sum(q for _s, q in lines):.2f}", "gateway": "shopify_payments"}],
        "order_adjustments": [],
    }


def trendyol_claim(claim_id: str, order_number: str, lines: list[tuple[str, int]], *,
                   status: str = "WaitingInAction", reason: str = "Beden küçük geldi", package_id: int | None = None,
                   claim_ms: int | None = None) -> dict[str, Any]:
    """One claim as Trendyol's getClaims returns it (`content`): per order line its claim items,
    one per unit, with the customer's reason and the item status."""
    stamp = claim_ms if claim_ms is not None else int(time.time() * 1000)
    return {
        "id": claim_id, "orderNumber": order_number, "orderDate": stamp - 86_400_000, "claimDate": stamp,
        "lastModifiedDate": stamp, "customerFirstName": "Zeynep", "customerLastName": "Kaya",
        "cargoTrackingNumber": 7340000000000 + (package_id or 0), "cargoProviderName": "Trendyol Express Marketplace",
        "orderShipmentPackageId": package_id, "orderOutboundPackageId": package_id,
        "items": [{
            "orderLine": {"id": (package_id or 0) * 10 + n, "productName": sku, "barcode": sku, "merchantSku": sku,
                          "productColor": None, "productSize": None, "price": 149.9, "vatBaseAmount": 20},
            "claimItems": [{"id": f"{claim_id}-{n}-{u}", "orderLineItemId": (package_id or 0) * 1000 + n * 10 + u,
                            "customerClaimItemReason": {"id": 401, "name": reason, "externalReasonId": 401,
                                                        "code": "SMALL_SIZE"},
                            "trendyolClaimItemReason": {"id": 401, "name": reason, "externalReasonId": 401,
                                                        "code": "SMALL_SIZE"},
                            "claimItemStatus": {"name": status}, "note": "", "customerNote": "",
                            "resolved": False, "autoAccepted": False, "acceptedBySeller": False}
                           for u in range(qty)]}
            for n, (sku, qty) in enumerate(lines)],
    }


def woocommerce_refund(refund_id: int, order_id: int, lines: list[tuple[str, int]], *,
                       reason: str = "Wrong colour") -> dict[str, Any]:
    """One order refund as WooCommerce's `GET /orders/{id}/refunds` lists it, refunding lines of
    `woocommerce_order(order_id, ...)` (line ids order_id * 100 + n; refunded quantities negative)."""
    return {
        "id": refund_id, "date_created_gmt": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
        "amount": f"{149.5 * sum(q for _s, q in lines):.2f}", "reason": reason, "refunded_by": 1,
        "refunded_payment": False, "meta_data": [],
        "line_items": [{"id": refund_id * 10 + n, "name": sku, "product_id": 500 + n, "variation_id": 0,
                        "quantity": -qty, "subtotal": f"{-149.5 * qty:.2f}", "total": f"{-149.5 * qty:.2f}",
                        "sku": sku, "price": -149.5,
                        "meta_data": [{"id": refund_id * 100 + n, "key": "_refunded_item_id",
                                       "value": str(order_id * 100 + n)}]}
                       for n, (sku, qty) in enumerate(lines)],
    }


def woocommerce_refunded_action(order_id: int) -> dict[str, Any]:
    """The body of an Action webhook on `woocommerce_order_refunded`: it names the order."""
    return {"action": "woocommerce_order_refunded", "arg": order_id}
