"""Inbound look-ups by code (with the field to blame when one is unknown) and the one shape of
each inbound object that the API returns and webhooks carry as `data`."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.models import (
    InboundShipment,
    Product,
    PurchaseOrder,
    PurchaseOrderReceipt,
    StockLocation,
    Supplier,
)
from app.models.base import iso
from app.services.actors import Actor
from app.services.errors import NotFound, ValidationFailed
from app.services.transitions import allowed_inbound_shipment_commands, allowed_purchase_order_commands


def location_by_code(code: str, field: str, actor: Actor | None = None) -> StockLocation:
    """The location `code`; 422 naming `field` when unknown or outside the actor's locations."""
    location = db.session.scalar(select(StockLocation).where(StockLocation.code == code))
    if location is None or (actor is not None and not actor.can_see(location.id)):
        raise ValidationFailed(_('Some fields are not valid.'), {field: _('There is no location %(code)s.', code=code)})
    return location


def supplier_by_code(code: str, field: str = "supplier") -> Supplier:
    supplier = db.session.scalar(select(Supplier).where(Supplier.code == code))
    if supplier is None or not supplier.active:
        raise ValidationFailed(_('Some fields are not valid.'), {field: _('There is no active supplier %(code)s.', code=code)})
    return supplier


def products_by_sku(skus: list[tuple[str, str]]) -> dict[str, Product]:
    """SKU -> product for [(field, sku)]; one 422 naming every unknown SKU's field."""
    wanted = {sku for _unused, sku in skus}
    found = {p.sku: p for p in db.session.scalars(select(Product).where(Product.sku.in_(wanted)))} if wanted else {}
    unknown = {field: _("There is no product with SKU %(sku)s.", sku=sku) for field, sku in skus if sku not in found}
    if unknown:
        raise ValidationFailed(_('Some SKUs are unknown; nothing was saved.'), unknown)
    return found


def visible_purchase_order(purchase_order_id: int, actor: Actor) -> PurchaseOrder:
    po = db.session.get(PurchaseOrder, purchase_order_id)
    if po is None or not actor.can_see(po.destination_id):
        raise NotFound(_('There is no purchase order %(purchase_order_id)s.', purchase_order_id=purchase_order_id))
    return po


def visible_inbound_shipment(shipment_id: int, actor: Actor) -> InboundShipment:
    shipment = db.session.get(InboundShipment, shipment_id)
    if shipment is None or not actor.can_see(shipment.destination_id):
        raise NotFound(_('There is no inbound shipment %(shipment_id)s.', shipment_id=shipment_id))
    return shipment


def money(value) -> str | None:
    return None if value is None else f"{value:.2f}"


def purchase_order_dict(po: PurchaseOrder, manager: bool = True) -> dict[str, Any]:
    return {
        "id": po.id, "number": po.number, "supplier": po.supplier.code, "destination": po.destination.code,
        "expected_at": iso(po.expected_at), "state": po.state, "close_reason": po.close_reason, "note": po.note,
        "lines": [{"id": line.id, "sku": line.product.sku, "quantity": line.quantity, "received": line.received,
                   "damaged": line.damaged, "unit_cost": money(line.unit_cost)} for line in po.lines],
        "allowed_commands": allowed_purchase_order_commands(po.state, manager=manager),
        "version": po.version, "created_at": iso(po.created_at), "updated_at": iso(po.updated_at),
    }


def receipt_dict(receipt: PurchaseOrderReceipt) -> dict[str, Any]:
    return {"id": receipt.id, "receipt_key": receipt.receipt_key, "lines": receipt.lines, "actor": receipt.actor,
            "inbound_shipment_id": receipt.inbound_shipment_id, "created_at": iso(receipt.created_at)}


def inbound_shipment_dict(shipment: InboundShipment, manager: bool = True) -> dict[str, Any]:
    return {
        "id": shipment.id, "number": shipment.number, "destination": shipment.destination.code,
        "carrier": shipment.carrier, "container_number": shipment.container_number,
        "tracking_number": shipment.tracking_number, "eta": iso(shipment.eta), "status": shipment.status,
        "documents": list(shipment.documents or []),
        "lines": [{"id": line.id, "purchase_order": line.purchase_order_line.purchase_order.number,
                   "purchase_order_id": line.purchase_order_line.purchase_order_id,
                   "sku": line.purchase_order_line.product.sku, "quantity": line.quantity}
                  for line in shipment.lines],
        "allowed_commands": allowed_inbound_shipment_commands(shipment.status, manager=manager),
        "version": shipment.version, "created_at": iso(shipment.created_at), "updated_at": iso(shipment.updated_at),
    }
