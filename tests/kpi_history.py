"""A small hand-built history for the KPI tests, where each right number is plain to see.

Two locations: IST (Europe/Istanbul, UTC+3, target 60 minutes) and LON (UTC, no target); two
channels (web, ty). Times are UTC; IST's days are Istanbul days. tests/services/test_kpis.py
spells out each figure it leads to.
"""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta

from app.extensions import db
from app.models import ChannelStockSync, Order, OrderItem, Package, PackageItem, PlanningTrace, Transfer, TransitionLog
from app.services import kpi_rollups
from tests import factories

_n = itertools.count(1)
D = date(2026, 11, 10)


def at(day: int, hh: int, mm: int = 0) -> datetime:
    return datetime(2026, 11, day, hh, mm)


class History:
    """Orders, packages and their transition log written straight into the tables, at chosen times."""

    def __init__(self):
        self.ist = factories.location("IST", time_zone="Europe/Istanbul", target_packaging_minutes=60)
        self.lon = factories.location("LON", time_zone="UTC")
        self.web = factories.channel("web")
        self.ty = factories.channel("ty", name="Marketplace")
        self.product = factories.product("SKU-K")

    def order(self, channel, received: datetime, placed: datetime | None = None) -> Order:
        n = next(_n)
        order = Order(number=f"K-{n}", channel_id=channel.id, placed_at=placed or received, received_at=received,
                      status="planned")
        order.items.append(OrderItem(product_id=self.product.id, quantity=2))
        db.session.add(order)
        db.session.flush()
        return order

    def package(self, location, channel, received: datetime, created: datetime | None = None, units: int = 2,
                placed: datetime | None = None) -> Package:
        order = self.order(channel, received, placed)
        created = created or received
        package = Package(number=f"{order.number}-P1", order_id=order.id, location_id=location.id, state="waiting",
                          created_at=created, updated_at=created)
        db.session.add(package)
        db.session.flush()
        db.session.add(PackageItem(package_id=package.id, order_item_id=order.items[0].id,
                                   product_id=self.product.id, quantity=units, state="open"))
        self.log(package, None, "waiting", "plan", created)
        return package

    def log(self, package, from_state, to_state, command, when, params=None, entity="package"):
        db.session.add(TransitionLog(entity_type=entity, entity_id=package.id, from_state=from_state,
                                     to_state=to_state, command=command, params=params or {}, actor="user:test",
                                     created_at=when))

    def pack(self, package, when):
        self.log(package, "preparing", "waiting_cargo_label", "complete_packing", when)
        self.log(package, "waiting_cargo_label", "packed", "label_ready", when + timedelta(minutes=1))
        for item in package.items:
            item.state = "packed"

    def ship(self, package, when):
        self.log(package, "packed", "shipped", "ship", when)

    def trace(self, order, when, outcome, is_replan=False):
        db.session.add(PlanningTrace(order_id=order.id, outcome=outcome, is_replan=is_replan, created_at=when,
                                     trace={}))


def build_history() -> History:
    """The history the module docstring describes, committed and rolled up for 9-12 Nov 2026."""
    h = History()
    ist, lon, web, ty = h.ist, h.lon, h.web, h.ty
    # IST, 10 Nov (Istanbul): three packed in 30, 90 and 10 minutes; two shipped, one within 60 min.
    p1 = h.package(ist, web, at(10, 6), placed=at(10, 5, 59))
    h.pack(p1, at(10, 6, 30))
    h.ship(p1, at(10, 6, 50))
    p2 = h.package(ist, web, at(10, 7))
    h.pack(p2, at(10, 8, 30))
    h.ship(p2, at(10, 9))
    p3 = h.package(ist, web, at(10, 8))
    h.log(p3, "preparing", "preparing", "report_missing", at(10, 8, 5),
          {"items": [{"item_id": 1, "quantity": 2, "reason": "wrong_product"}], "whole_package": False})
    h.pack(p3, at(10, 8, 10))
    p5 = h.package(ist, web, at(10, 10))
    h.log(p5, "waiting", "cancelled", "cancel", at(10, 11), {"reason": "customer asked"})
    # Created 22:30 UTC on 10 Nov = 01:30 on 11 Nov in Istanbul: IST's 11 Nov.
    p4 = h.package(ist, web, at(10, 22, 30))
    h.log(p4, "waiting", "refused", "refuse", at(10, 22, 40), {"reason": "damaged"})
    # LON (UTC), marketplace: 23:30-23:50 UTC on 10 Nov stays LON's 10 Nov.
    p6 = h.package(lon, ty, at(10, 23, 30), units=3)
    h.pack(p6, at(10, 23, 50))
    # Planning: one split of three first plans; two re-plans, one found stock.
    h.trace(p1.order, at(10, 6), "split")
    h.trace(p2.order, at(10, 7), "planned")
    h.trace(p3.order, at(10, 8), "planned")
    h.trace(p5.order, at(10, 12), "planned", is_replan=True)
    h.trace(p5.order, at(10, 13), "out_of_stock", is_replan=True)
    # A transfer into IST received after exactly 24 hours.
    transfer = Transfer(number="K-T1", package_id=p2.id, source_id=lon.id, destination_id=ist.id, state="received",
                        created_at=at(9, 12))
    db.session.add(transfer)
    db.session.flush()
    h.log(transfer, "in_transit", "received", "receive", at(10, 12), entity="transfer")
    db.session.add(ChannelStockSync(channel_id=web.id, product_id=h.product.id, quantity=4, pushed_at=at(10, 12),
                                    delay_ms=8500))
    db.session.commit()
    kpi_rollups.rebuild(date(2026, 11, 9), date(2026, 11, 12))
    return h
