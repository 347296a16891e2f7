"""Objects as the API returns them (SPEC §9.1); webhook event `data` uses the same shapes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

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
from app.services import config_cache
from app.services.transitions import allowed_package_commands, allowed_transfer_commands


def location_dict(loc: StockLocation) -> dict[str, Any]:
    return {
        "code": loc.code, "name": loc.name, "type": loc.type, "address": loc.address, "city": loc.city,
        "district": loc.district, "latitude": loc.latitude, "longitude": loc.longitude, "priority": loc.priority,
        "is_packaging_center": loc.is_packaging_center, "is_transfer_source": loc.is_transfer_source,
        "is_pickup_location": loc.is_pickup_location, "max_quota": loc.max_quota,
        "target_packaging_minutes": loc.target_packaging_minutes, "active": loc.active, "tags": list(loc.tags or []),
        "time_zone": loc.time_zone,
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


# --- work orders and orders ------------------------------------------------------------------
# Each shape is built by one `*_data` function from plain values; the `*_dict` functions feed it
# from ORM objects, batch planning from the rows it holds, so the API, per-order events and batch
# events can never disagree.

def package_ref(id: int | None, number: str, state: str, location: str | None) -> dict[str, Any]:
    """A package as an order lists it (id and location are None when the viewer may not see it)."""
    return {"id": id, "number": number, "state": state, "location": location}


def transfer_ref(id: int, number: str, state: str, source: str, destination: str) -> dict[str, Any]:
    """A transfer as an order or a package lists it."""
    return {"id": id, "number": number, "state": state, "source": source, "destination": destination}


def package_item_data(id: int, sku: str, name: str, barcodes: list[str], quantity: int, picked_quantity: int,
                      state: str) -> dict[str, Any]:
    return {"id": id, "sku": sku, "name": name, "barcodes": list(barcodes), "quantity": quantity,
            "picked_quantity": picked_quantity, "state": state}


def package_data(*, id: int, number: str, state: str, previous_state: str | None, order_id: int,
                 order_number: str, location: str, items: list[dict[str, Any]], transfers: list[dict[str, Any]],
                 shipment: dict[str, Any] | None, invoice: dict[str, Any] | None, allowed_commands: list[str],
                 created_at: datetime, updated_at: datetime) -> dict[str, Any]:
    return {
        "id": id, "number": number, "state": state, "previous_state": previous_state,
        "order": {"id": order_id, "number": order_number}, "location": location, "items": items,
        "transfers": transfers, "shipment": shipment, "invoice": invoice, "allowed_commands": allowed_commands,
        "created_at": iso(created_at), "updated_at": iso(updated_at),
    }


def package_dict(p: Package, manager: bool = True) -> dict[str, Any]:
    return package_data(
        id=p.id, number=p.number, state=p.state, previous_state=p.previous_state, order_id=p.order.id,
        order_number=p.order.number, location=p.location.code,
        items=[package_item_data(i.id, i.product.sku, i.product.name, i.product.barcode_values, i.quantity,
                                 i.picked_quantity, i.state) for i in p.items],
        transfers=[transfer_ref(t.id, t.number, t.state, t.source.code, t.destination.code) for t in p.transfers],
        shipment=shipment_dict(p.shipment), invoice=invoice_dict(p.invoice),
        allowed_commands=allowed_package_commands(p, manager=manager),
        created_at=p.created_at, updated_at=p.updated_at)


def transfer_item_data(id: int, sku: str, quantity: int, state: str) -> dict[str, Any]:
    return {"id": id, "sku": sku, "quantity": quantity, "state": state}


def transfer_data(*, ref: dict[str, Any], package_id: int, package_number: str, cargo_company: str | None,
                  tracking_number: str | None, items: list[dict[str, Any]], allowed_commands: list[str],
                  created_at: datetime, updated_at: datetime) -> dict[str, Any]:
    """A transfer as the API returns it; `ref` is its `transfer_ref`."""
    return {
        "id": ref["id"], "number": ref["number"], "state": ref["state"],
        "package": {"id": package_id, "number": package_number}, "source": ref["source"],
        "destination": ref["destination"], "cargo_company": cargo_company, "tracking_number": tracking_number,
        "items": items, "allowed_commands": allowed_commands,
        "created_at": iso(created_at), "updated_at": iso(updated_at),
    }


def transfer_dict(t: Transfer, manager: bool = True) -> dict[str, Any]:
    return transfer_data(
        ref=transfer_ref(t.id, t.number, t.state, t.source.code, t.destination.code),
        package_id=t.package.id, package_number=t.package.number,
        cargo_company=t.cargo_company.code if t.cargo_company else None, tracking_number=t.tracking_number,
        items=[transfer_item_data(i.id, i.product.sku, i.quantity, i.state) for i in t.items],
        allowed_commands=allowed_transfer_commands(t.state, manager=manager),
        created_at=t.created_at, updated_at=t.updated_at)


class OrderColumns(Protocol):
    """The order's own columns, as the Order model and batch planning's order rows both have them."""

    id: int
    number: str
    source_status: str | None
    placed_at: datetime
    delivery_type: str
    payment_type: str | None
    customer_name: str | None
    customer_email: str | None
    customer_phone: str | None
    ship_line: str | None
    ship_city: str | None
    ship_district: str | None
    ship_postcode: str | None
    ship_country: str | None
    ship_latitude: float | None
    ship_longitude: float | None
    created_at: datetime
    updated_at: datetime


def order_item_data(id: int, sku: str, quantity: int, cancelled_quantity: int, price: Any,
                    status: str) -> dict[str, Any]:
    return {"id": id, "sku": sku, "quantity": quantity, "cancelled_quantity": cancelled_quantity,
            "price": str(price) if price is not None else None, "status": status}


def order_data(o: OrderColumns, *, status: str, channel: str | None, pickup_location: str | None,
               cargo_company: str | None, items: list[dict[str, Any]], packages: list[dict[str, Any]],
               transfers: list[dict[str, Any]]) -> dict[str, Any]:
    """An order as the API returns it: its columns, codes of what it refers to, its items and
    every package and transfer it ever had (`package_ref`/`transfer_ref`)."""
    return {
        "id": o.id, "number": o.number, "channel": channel, "status": status,
        "source_status": o.source_status, "placed_at": iso(o.placed_at), "delivery_type": o.delivery_type,
        "pickup_location": pickup_location, "payment_type": o.payment_type, "cargo_company": cargo_company,
        "customer": {"name": o.customer_name, "email": o.customer_email, "phone": o.customer_phone},
        "shipping_address": {"line": o.ship_line, "city": o.ship_city, "district": o.ship_district,
                             "postcode": o.ship_postcode, "country": o.ship_country,
                             "latitude": o.ship_latitude, "longitude": o.ship_longitude},
        "items": items, "packages": packages, "transfers": transfers,
        "created_at": iso(o.created_at), "updated_at": iso(o.updated_at),
    }


_CODES = {"location": "location_code", "source": "location_code", "destination": "location_code",
          "pickup_location": "location_code", "channel": "channel_code", "cargo_company": "cargo_code"}


def _code(obj: Any, relation: str, key: int | None) -> str | None:
    """The code of the location, channel or cargo company `obj.<relation>` refers to: the loaded
    object's, else the configuration snapshot's when this transaction has checked it (a command
    has), so describing an order in a command's event loads no configuration row; else loaded."""
    if key is None:
        return None
    loaded = obj.__dict__.get(relation)
    if loaded is None:
        snapshot = config_cache.checked()
        code = getattr(snapshot, _CODES[relation]).get(key) if snapshot is not None else None
        if code is not None:
            return code
        loaded = getattr(obj, relation)
    return loaded.code if loaded is not None else None


def order_dict(o: Order, sees: Callable[[int], bool] | None = None) -> dict[str, Any]:
    """The order as the API returns it. `sees(location_id)` limits it to a viewer's locations (staff,
    a supervisor of some stores): another location's package shows only its number and state, and
    transfers that touch none of the viewer's locations are left out."""
    packages, transfers = [], []
    for p in o.packages:
        if sees is None or sees(p.location_id):
            packages.append(package_ref(p.id, p.number, p.state, _code(p, "location", p.location_id)))
        else:
            packages.append(package_ref(None, p.number, p.state, None))
    for t in o.transfers:
        if sees is None or sees(t.source_id) or sees(t.destination_id):
            transfers.append(transfer_ref(t.id, t.number, t.state, _code(t, "source", t.source_id),
                                          _code(t, "destination", t.destination_id)))
    return order_data(
        o, status=o.status, channel=_code(o, "channel", o.channel_id),
        pickup_location=_code(o, "pickup_location", o.pickup_location_id),
        cargo_company=_code(o, "cargo_company", o.cargo_company_id),
        items=[order_item_data(i.id, i.product.sku, i.quantity, i.cancelled_quantity, i.price, i.status)
               for i in o.items],
        packages=packages, transfers=transfers)
