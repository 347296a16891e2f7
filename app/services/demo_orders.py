"""The demo's orders: someone signing in for the first time finds work in every tab.

Staff at IST-KDK (Kadıköy) see packages to prepare, one being prepared, one waiting for a
transfer, packed ones (one waiting for its label), one ready for pickup, one blocked and one
shipped, a transfer to receive and one to send; the warehouse holds an out-of-stock package; a
few more stores have orders waiting. Everything goes through the real services
(`orders.create_order`, `planning.plan_order`, `run_package_command`, `run_transfer_command`),
so states, reservations, the history and the events are exactly what the product makes.

SKUs are chosen from the stock there is (the demo stock is drawn with a fixed seed, but an
admin may have changed it): an order that cannot be placed as intended is skipped, never forced.
Each order is created once (`create_order` is idempotent on channel + number) and its steps run
only when it was just created, so seeding again changes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import Package, Product, Stock, StockLocation, Transfer, User
from app.services import planning
from app.services.actors import Actor
from app.services.errors import ServiceError
from app.services.orders import create_order
from app.services.packages import run_package_command
from app.services.planning.geo import great_circle_km
from app.services.transfers import run_transfer_command

log = logging.getLogger("packline.demo")

HOME = "IST-KDK"  # the store whose staff see every tab
PLANNER = Actor.system("demo")
CUSTOMERS = [
    ("Ayşe Yılmaz", "+905551112233"), ("Mehmet Demir", "+905552223344"), ("Zeynep Kaya", "+905553334455"),
    ("Emre Şahin", "+905554445566"), ("Elif Çelik", "+905555556677"), ("Can Öztürk", "+905556667788"),
    ("Selin Arslan", "+905557778899"), ("Burak Koç", "+905558889900"),
]


@dataclass
class _Demo:
    locations: dict[str, StockLocation]
    products: dict[int, Product]
    staff: dict[str, Actor]
    used: set[int] = field(default_factory=set)  # products already in a demo order: vary them
    made: int = 0
    serial: int = 0

    # --- stock ----------------------------------------------------------------------------

    def available(self, code: str) -> dict[int, int]:
        rows = db.session.execute(select(Stock.product_id, Stock.on_hand - Stock.reserved)
                                  .where(Stock.location_id == self.locations[code].id))
        return {product_id: units for product_id, units in rows if units > 0}

    def skus_at(self, code: str, count: int = 1, units: int = 1) -> list[Product] | None:
        """`count` different products with at least `units` available at `code`, unused first."""
        here = self.available(code)
        ids = sorted((pid for pid, n in here.items() if n >= units), key=lambda pid: (pid in self.used, pid))
        if len(ids) < count:
            return None
        return [self.products[pid] for pid in ids[:count]]

    def transfer_pair(self, pickup: str, source: str) -> Product | None:
        """A product `pickup` lacks whose nearest holder (the source a click & collect order there
        would be sent from) is `source`."""
        here, there = self.available(pickup), self.available(source)
        stores = {code: self.available(code) for code in self.locations if code not in (pickup, source)}
        to_pickup = self._km_from(pickup)
        for pid in sorted(there, key=lambda p: (p in self.used, p)):
            if here.get(pid):
                continue
            closer = [code for code, stock in stores.items() if stock.get(pid) and to_pickup(code) <= to_pickup(source)]
            if not closer:
                return self.products[pid]
        return None

    def _km_from(self, code: str):
        origin = self.locations[code]

        def km(other: str) -> float:
            loc = self.locations[other]
            return great_circle_km(origin.latitude, origin.longitude, loc.latitude, loc.longitude)
        return km

    # --- orders ---------------------------------------------------------------------------

    def order(self, number: str, lines: list[tuple[Product, int]], *, near: str = HOME, channel: str = "web",
              pickup: str | None = None) -> int | None:
        """Create and plan one order; its id when it was created now (None when it already existed)."""
        name, phone = CUSTOMERS[self.serial % len(CUSTOMERS)]
        self.serial += 1
        loc = self.locations[near]
        payload = {
            "number": number, "channel": channel, "status": "approved",
            "placed_at": (datetime.now(UTC) - timedelta(minutes=7 * self.serial)).isoformat(),
            "delivery_type": "click_and_collect" if pickup else "cargo", "pickup_location": pickup,
            "payment_type": "card", "cargo_company": "demo",
            "customer": {"name": name, "phone": phone, "email": f"customer{self.serial}@example.com"},
            "items": [{"sku": p.sku, "quantity": q, "price": "249.90"} for p, q in lines],
        }
        if not pickup:
            payload["shipping_address"] = {"line": f"{loc.district} Cd. {self.serial}", "city": loc.city,
                                           "district": loc.district, "country": "TR",
                                           "latitude": loc.latitude, "longitude": loc.longitude}
        order, created = create_order(payload, PLANNER)
        if not created:
            return None
        self.used.update(p.id for p, _ in lines)
        planning.plan_order(order.id, trigger="demo", actor=PLANNER)
        self.made += 1
        return order.id

    def package_at(self, order_id: int | None, code: str, state: str) -> Package | None:
        if order_id is None:
            return None
        return db.session.scalar(select(Package).where(
            Package.order_id == order_id, Package.location_id == self.locations[code].id, Package.state == state))

    def run(self, package: Package | None, *steps: tuple[str, dict]) -> None:
        """Run package commands as the store's staff (or the planner for managers' commands)."""
        if package is None:
            return
        actor = self.staff.get(package.location.code, PLANNER)
        for command, params in steps:
            run_package_command(package.id, command, params, actor)


def seed_demo_orders() -> int:
    """Place the demo's orders (see the module docstring). Commits per order. Returns how many
    orders were created now."""
    locations = {loc.code: loc for loc in db.session.scalars(select(StockLocation))}
    if HOME not in locations:
        return 0
    demo = _Demo(locations=locations, products={p.id: p for p in db.session.scalars(select(Product))},
                 staff={u.locations[0].code: Actor.for_user(u) for u in db.session.scalars(select(User))
                        if u.role == "staff" and len(u.locations) == 1})
    try:
        _home_store(demo)
        _transfers(demo)
        _elsewhere(demo)
    except ServiceError:
        db.session.rollback()  # changed demo data: keep what was made, never stop the app starting
        log.warning("the demo orders could not all be placed", exc_info=True)
    return demo.made


def _home_store(demo: _Demo) -> None:
    """Every package tab at IST-KDK: web orders to Kadıköy are packed there when it has the items."""
    def place(number: str, count: int = 1, units: int = 1, pickup: str | None = None) -> int | None:
        products = demo.skus_at(HOME, count, units)
        if products is None:
            return None
        return demo.order(number, [(p, units) for p in products], pickup=pickup)

    def at_home(order_id: int | None) -> Package | None:
        return demo.package_at(order_id, HOME, "waiting")

    place("DEMO-1001")
    place("DEMO-1002", count=2)
    preparing = at_home(place("DEMO-1003", count=2))
    demo.run(preparing, ("prepare", {}))
    if preparing is not None:  # one unit scanned already
        barcode = preparing.items[0].product.barcode_values[0]
        demo.run(preparing, ("pick", {"barcode": barcode}))
    demo.run(at_home(place("DEMO-1004")), ("prepare", {}), ("complete_packing_without_shipment", {}))
    # The carrier's label arrives by itself when the worker runs (make run): "Print label" then.
    demo.run(at_home(place("DEMO-1005")), ("prepare", {}), ("complete_packing", {"boxes": 1}))
    demo.run(at_home(place("DEMO-1006", pickup=HOME)), ("prepare", {}), ("complete_packing_without_shipment", {}),
             ("ready_for_pickup", {}))
    demo.run(at_home(place("DEMO-1007")), ("block", {"reason": "The customer asked us to wait until Monday."}))
    demo.run(at_home(place("DEMO-1008")), ("prepare", {}), ("complete_packing_without_shipment", {}),
             ("ship_without_integration", {"cargo_company": "demo", "tracking_number": "DEMO-TRK-1008"}))
    # Out of stock: more units than the whole brand holds; parked at the scenario's default location.
    totals: dict[int, int] = {}
    for code in demo.locations:
        for pid, units in demo.available(code).items():
            totals[pid] = totals.get(pid, 0) + units
    scarce = min(demo.products, key=lambda pid: (totals.get(pid, 0), pid))
    demo.order("DEMO-1009", [(demo.products[scarce], totals.get(scarce, 0) + 1)])


def _transfers(demo: _Demo) -> None:
    """A transfer on its way to IST-KDK (to receive) and one IST-KDK must send."""
    for source in sorted(code for code in demo.locations if code != HOME and code.startswith("IST-")):
        product = demo.transfer_pair(HOME, source)
        if product is None:
            continue
        order_id = demo.order("DEMO-1010", [(product, 1)], pickup=HOME)
        transfer = _transfer_of(order_id)
        if transfer is not None and transfer.source.code in demo.staff:
            run_transfer_command(transfer.id, "dispatch", {}, demo.staff[transfer.source.code])
        break
    for pickup in ("IST-BSK", "IST-SSL", "IST-BKR"):
        if pickup not in demo.locations:
            continue
        product = demo.transfer_pair(pickup, HOME)
        if product is not None:
            demo.order("DEMO-1011", [(product, 1)], pickup=pickup)
            break


def _transfer_of(order_id: int | None) -> Transfer | None:
    if order_id is None:
        return None
    return db.session.scalar(select(Transfer).join(Package).where(Package.order_id == order_id))


def _elsewhere(demo: _Demo) -> None:
    """A little work at other stores, so the board is not all Kadıköy; and a marketplace order."""
    for n, code in enumerate(("IST-BSK", "ANK-KZL", "ANK-TNL"), start=1):
        if code in demo.locations and (products := demo.skus_at(code)):
            demo.order(f"DEMO-20{n:02d}", [(products[0], 1)], near=code)
    warehouse = demo.skus_at("WH-IST") if "WH-IST" in demo.locations else None
    if warehouse:
        demo.order("TY-5001", [(warehouse[0], 1)], channel="trendyol", near="IST-BSK")
