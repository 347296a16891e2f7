"""Small builders for inbound tests: a supplier, a purchase order in a given state, actors."""

from __future__ import annotations

import itertools

from app.extensions import db
from app.models import Product, PurchaseOrder, PurchaseOrderLine, StockLocation, Supplier
from app.services.actors import Actor
from tests import factories

_numbers = itertools.count(1)

SUPERVISOR = Actor(label="user:boss", role="supervisor")
SYSTEM = Actor.system("test")


def staff_of(location: StockLocation, name: str = "clerk") -> Actor:
    return Actor(label=f"user:{name}", role="staff", location_ids=frozenset({location.id}))


def supplier(code: str = "ACME", lead_time_days: int = 7) -> Supplier:
    found = db.session.query(Supplier).filter_by(code=code).one_or_none()
    if found:
        return found
    s = Supplier(code=code, name=f"{code} Ltd", lead_time_days=lead_time_days)
    db.session.add(s)
    db.session.flush()
    return s


def purchase_order(destination: StockLocation, lines: list[tuple], state: str = "confirmed",
                   number: str | None = None) -> PurchaseOrder:
    """A purchase order with [(product, quantity)] lines, put straight into `state` (commits)."""
    po = PurchaseOrder(number=number or f"PO-{next(_numbers)}", supplier=supplier(), destination=destination,
                       state=state)
    po.lines = [PurchaseOrderLine(product=p, quantity=q, unit_cost=None) for p, q in lines]
    db.session.add(po)
    db.session.commit()
    return po


def warehouse(code: str = "WH-01") -> StockLocation:
    return factories.location(code, type="warehouse")


def warehouse_tea_mug() -> tuple[StockLocation, Product, Product]:
    """Warehouse WH-01, products TEA and MUG, supplier ACME (committed)."""
    wh = warehouse()
    tea, mug = factories.product("TEA"), factories.product("MUG")
    supplier()
    db.session.commit()
    return wh, tea, mug
