"""Objects as the API returns them (SPEC §9.1); webhook event `data` uses the same shapes."""

from __future__ import annotations

from typing import Any

from app.models import (
    CargoCompany,
    Channel,
    DenialReason,
    Invoice,
    Order,
    Package,
    Product,
    Shipment,
    Stock,
    StockLocation,
    Transfer,
)
from app.models.base import iso
from app.services.transitions import allowed_package_commands, allowed_transfer_commands


def location_dict(loc: StockLocation) -> dict[str, Any]:
    return {
        "code": loc.code, "name": loc.name, "type": loc.type, "address": loc.address, "city": loc.city,
        "district": loc.district, "latitude": loc.latitude, "longitude": loc.longitude, "priority": loc.priority,
        "is_packaging_center": loc.is_packaging_center, "is_transfer_source": loc.is_transfer_source,
        "is_pickup_location": loc.is_pickup_location, "max_quota": loc.max_quota,
        "target_packaging_minutes": loc.target_packaging_minutes, "active": loc.active, "tags": list(loc.tags or []),
    }


def channel_dict(ch: Channel) -> dict[str, Any]:
    return {"code": ch.code, "name": ch.name, "provides_shipping_label": ch.provides_shipping_label}


def product_dict(p: Product) -> dict[str, Any]:
    return {"sku": p.sku, "name": p.name, "barcodes": p.barcode_values,
            "weight_kg": float(p.weight_kg) if p.weight_kg is not None else None, "image_url": p.image_url}


def stock_dict(s: Stock) -> dict[str, Any]:
    return {"location": s.location.code, "sku": s.product.sku, "on_hand": s.on_hand, "reserved": s.reserved,
            "available": s.available}


def cargo_company_dict(c: CargoCompany) -> dict[str, Any]:
    # Config may hold credentials: only its keys are shown.
    return {"code": c.code, "name": c.name, "adapter": c.adapter, "active": c.active,
            "config_keys": sorted((c.config or {}).keys())}


def denial_reason_dict(d: DenialReason) -> dict[str, Any]:
    return {"code": d.code, "title": d.title, "active": d.active, "priority": d.priority}


def shipment_dict(s: Shipment | None) -> dict[str, Any] | None:
    if s is None:
        return None
    return {"id": s.id, "cargo_company": s.cargo_company.code if s.cargo_company else None,
            "tracking_number": s.tracking_number, "tracking_url": s.tracking_url, "status": s.status,
            "error": s.last_error, "boxes": s.boxes, "weight_kg": float(s.weight_kg) if s.weight_kg is not None else None,
            "attempts": s.attempts, "has_label": bool(s.label_pdf or s.label_zpl or s.label_url),
            "label_url": s.label_url}


def invoice_dict(inv: Invoice | None) -> dict[str, Any] | None:
    if inv is None:
        return None
    return {"number": inv.number, "date": inv.date.isoformat() if inv.date else None, "url": inv.url,
            "has_document": inv.document is not None, "content_type": inv.content_type}


def package_dict(p: Package, manager: bool = True) -> dict[str, Any]:
    return {
        "id": p.id, "number": p.number, "state": p.state, "previous_state": p.previous_state,
        "order": {"id": p.order.id, "number": p.order.number}, "location": p.location.code,
        "items": [{"id": i.id, "sku": i.product.sku, "name": i.product.name, "barcodes": i.product.barcode_values,
                   "quantity": i.quantity, "picked_quantity": i.picked_quantity, "state": i.state}
                  for i in p.items],
        "transfers": [{"id": t.id, "number": t.number, "state": t.state, "source": t.source.code,
                       "destination": t.destination.code} for t in p.transfers],
        "shipment": shipment_dict(p.shipment), "invoice": invoice_dict(p.invoice),
        "allowed_commands": allowed_package_commands(p, manager=manager),
        "created_at": iso(p.created_at), "updated_at": iso(p.updated_at),
    }


def transfer_dict(t: Transfer, manager: bool = True) -> dict[str, Any]:
    return {
        "id": t.id, "number": t.number, "state": t.state, "package": {"id": t.package.id, "number": t.package.number},
        "source": t.source.code, "destination": t.destination.code,
        "cargo_company": t.cargo_company.code if t.cargo_company else None, "tracking_number": t.tracking_number,
        "items": [{"id": i.id, "sku": i.product.sku, "quantity": i.quantity, "state": i.state} for i in t.items],
        "allowed_commands": allowed_transfer_commands(t, manager=manager),
        "created_at": iso(t.created_at), "updated_at": iso(t.updated_at),
    }


def order_dict(o: Order, manager: bool = True) -> dict[str, Any]:
    return {
        "id": o.id, "number": o.number, "channel": o.channel.code, "status": o.status,
        "source_status": o.source_status, "placed_at": iso(o.placed_at), "delivery_type": o.delivery_type,
        "pickup_location": o.pickup_location.code if o.pickup_location else None, "payment_type": o.payment_type,
        "cargo_company": o.cargo_company.code if o.cargo_company else None,
        "customer": {"name": o.customer_name, "email": o.customer_email, "phone": o.customer_phone},
        "shipping_address": {"line": o.ship_line, "city": o.ship_city, "district": o.ship_district,
                             "postcode": o.ship_postcode, "country": o.ship_country,
                             "latitude": o.ship_latitude, "longitude": o.ship_longitude},
        "items": [{"id": i.id, "sku": i.product.sku, "quantity": i.quantity, "cancelled_quantity": i.cancelled_quantity,
                   "price": str(i.price) if i.price is not None else None, "status": i.status} for i in o.items],
        "packages": [{"id": p.id, "number": p.number, "state": p.state, "location": p.location.code}
                     for p in o.packages],
        "transfers": [{"id": t.id, "number": t.number, "state": t.state, "source": t.source.code,
                       "destination": t.destination.code} for t in o.transfers],
        "created_at": iso(o.created_at), "updated_at": iso(o.updated_at),
    }
