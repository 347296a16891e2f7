"""A return as the API answers it and as every `return.*` webhook carries it in `data`."""

from __future__ import annotations

from typing import Any

from app.models.base import iso
from app.models.returns import Return
from app.services.returns.states import allowed_return_commands


def return_dict(ret: Return, manager: bool = True) -> dict[str, Any]:
    package = ret.package
    return {
        "id": ret.id,
        "number": ret.number,
        "state": ret.state,
        "source": ret.source,
        "order": {"id": ret.order_id, "number": ret.order.number, "channel": ret.order.channel.code},
        "location": ret.location.code,
        "package": {"id": package.id, "number": package.number} if package is not None else None,
        "reason": ret.reason,
        "items": [{
            "id": item.id, "sku": item.product.sku, "name": item.product.name,
            "barcodes": item.product.barcode_values, "quantity": item.quantity, "reason": item.reason,
            "received": item.received, "resellable": item.resellable, "damaged": item.damaged, "note": item.note,
        } for item in ret.items],
        "allowed_commands": allowed_return_commands(ret.state, manager),
        "received_at": iso(ret.received_at),
        "inspected_at": iso(ret.inspected_at),
        "created_at": iso(ret.created_at),
        "updated_at": iso(ret.updated_at),
    }
