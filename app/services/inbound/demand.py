"""What is on the way, by ETA, against the parked out-of-stock demand it will serve: the
supervisor's inbound page (SPEC §14). Read only."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    InboundShipment,
    InboundShipmentLine,
    Package,
    PackageItem,
    Product,
    PurchaseOrder,
    PurchaseOrderLine,
    Stock,
    StockLocation,
)
from app.models.inbound import FINISHED_PURCHASE_ORDER_STATES
from app.services.actors import Actor


@dataclass
class Arrival:
    """Units of one purchase order line still to come, and how: a shipment (with its ETA) or the
    purchase order's expected date."""

    purchase_order_id: int
    purchase_order_number: str
    units: int
    eta: datetime | None
    shipment_id: int | None = None
    shipment_number: str | None = None
    shipment_status: str | None = None


@dataclass
class Need:
    """One (location, SKU): parked demand, stock available now, and what arrives when."""

    location: StockLocation
    product: Product
    parked_units: int = 0
    parked_packages: int = 0
    available: int = 0
    arrivals: list[Arrival] = field(default_factory=list)

    @property
    def inbound(self) -> int:
        return sum(a.units for a in self.arrivals)

    @property
    def uncovered(self) -> int:
        """Parked units that neither stock nor anything on the way will serve."""
        return max(0, self.parked_units - max(0, self.available) - self.inbound)

    @property
    def first_eta(self) -> datetime | None:
        return min((a.eta for a in self.arrivals if a.eta is not None), default=None)


def on_the_way(actor: Actor, location_id: int | None = None) -> list[Need]:
    """Every (location, SKU) with open inbound or parked out-of-stock demand at the actor's
    locations: soonest arrival first, then what nothing is coming for, then the rest."""
    def scoped(column):
        conditions = []
        if actor.location_ids is not None:
            conditions.append(column.in_(actor.location_ids))
        if location_id is not None:
            conditions.append(column == location_id)
        return conditions

    needs: dict[tuple[int, int], Need] = {}
    locations: dict[int, StockLocation] = {}
    products: dict[int, Product] = {}

    def need(loc: int, product: int) -> Need:
        if (loc, product) not in needs:
            needs[(loc, product)] = Need(location=locations.setdefault(loc, db.session.get(StockLocation, loc)),
                                         product=products.setdefault(product, db.session.get(Product, product)))
        return needs[(loc, product)]

    parked = db.session.execute(
        select(Package.location_id, PackageItem.product_id, func.sum(PackageItem.quantity),
               func.count(func.distinct(Package.id)))
        .join(PackageItem.package).where(Package.state == "out_of_stock", Package.location_id.is_not(None),
                                         *scoped(Package.location_id))
        .group_by(Package.location_id, PackageItem.product_id))
    for loc, product, units, count in parked:
        row = need(loc, product)
        row.parked_units, row.parked_packages = int(units), int(count)

    open_lines = db.session.execute(
        select(PurchaseOrderLine, PurchaseOrder)
        .join(PurchaseOrderLine.purchase_order)
        .where(PurchaseOrder.state.not_in((*FINISHED_PURCHASE_ORDER_STATES, "draft")),
               PurchaseOrderLine.quantity > PurchaseOrderLine.received, *scoped(PurchaseOrder.destination_id))
        .order_by(PurchaseOrder.id, PurchaseOrderLine.id)).all()
    carried: dict[int, list[tuple[InboundShipmentLine, InboundShipment]]] = {}
    if open_lines:
        rows = db.session.execute(
            select(InboundShipmentLine, InboundShipment).join(InboundShipmentLine.shipment)
            .where(InboundShipment.status.in_(("booked", "departed", "arrived")),
                   InboundShipmentLine.purchase_order_line_id.in_([line.id for line, _ in open_lines])))
        for shipment_line, shipment in rows:
            carried.setdefault(shipment_line.purchase_order_line_id, []).append((shipment_line, shipment))
    for line, po in open_lines:
        row = need(po.destination_id, line.product_id)
        left = line.quantity - line.received
        for shipment_line, shipment in carried.get(line.id, []):
            units = min(left, shipment_line.quantity)
            if units > 0:
                row.arrivals.append(Arrival(po.id, po.number, units, shipment.eta or po.expected_at, shipment.id,
                                            shipment.number, shipment.status))
                left -= units
        if left > 0:
            row.arrivals.append(Arrival(po.id, po.number, left, po.expected_at))

    if needs:
        pairs = set(needs)
        stock = db.session.execute(select(Stock.location_id, Stock.product_id, Stock.on_hand - Stock.reserved)
                                   .where(Stock.location_id.in_({loc for loc, _ in pairs}),
                                          Stock.product_id.in_({p for _, p in pairs})))
        for loc, product, available in stock:
            if (loc, product) in needs:
                needs[(loc, product)].available = int(available)
    for row in needs.values():
        row.arrivals.sort(key=lambda a: (a.eta is None, a.eta or datetime.max))
    return sorted(needs.values(), key=lambda n: (n.first_eta is None, n.first_eta or datetime.max,
                                                 -n.uncovered, n.location.code, n.product.sku))
