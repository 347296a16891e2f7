"""Suppliers: a master-data record kind kept by code, like cargo companies."""

from __future__ import annotations

from typing import Any

from app.models import Supplier
from app.schemas.inbound import SupplierIn, SupplierPatch
from app.services.records import Kind


def supplier_dict(s: Supplier) -> dict[str, Any]:
    return {"code": s.code, "name": s.name, "contact": s.contact, "lead_time_days": s.lead_time_days,
            "active": s.active}


SUPPLIERS = Kind(Supplier, "code", SupplierIn, SupplierPatch, "supplier", supplier_dict)
