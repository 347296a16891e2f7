"""Build orders with work orders in a given state, for service, view and API tests.

    package = make_package("preparing", items=[("TSHIRT-M", 2)])
    transfer = make_transfer(items=[("TSHIRT-M", 1)])

Everything is committed, so the code under test starts from a clean transaction. Stock is
consistent with the state: open packages hold reservations, packed and later ones consumed theirs.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    CargoCompany,
    Channel,
    Order,
    OrderItem,
    Package,
    Product,
    Shipment,
    Stock,
    StockLedger,
    StockLocation,
    Transfer,
)
from app.services import stock as stock_service
from app.services import workorders
from app.services.actors import Actor
from tests import factories

_orders = itertools.count(1)

RESERVED_STATES = ("waiting_for_transfer", "waiting", "preparing", "blocked")
PACKED_STATES = ("waiting_cargo_label", "packed", "ready_for_pickup", "shipped", "attempted_delivery",
                 "delivery_failed", "delivered")
SHIPMENT_STATUS = {"waiting_cargo_label": "pending", "packed": "label_ready", "shipped": "in_transit",
                   "attempted_delivery": "attempted_delivery", "delivery_failed": "delivery_failed",
                   "delivered": "delivered"}
SYSTEM = "system:test"


def staff(*locations: StockLocation, name: str = "ayse") -> Actor:
    return Actor(label=f"user:{name}", role="staff", user_id=None, location_ids=frozenset(loc.id for loc in locations))


def supervisor() -> Actor:
    return Actor(label="user:boss", role="supervisor")


def get_product(sku: str) -> Product:
    found = db.session.scalar(select(Product).where(Product.sku == sku))
    return found or factories.product(sku=sku)


def get_channel(code: str = "web", **kw) -> Channel:
    return db.session.scalar(select(Channel).where(Channel.code == code)) or factories.channel(code, **kw)


def get_cargo_company(code: str = "demo") -> CargoCompany:
    return db.session.scalar(select(CargoCompany).where(CargoCompany.code == code)) or factories.cargo_company(code)


def set_stock(location: StockLocation, product: Product, on_hand: int) -> Stock:
    """Make sure the location has at least `on_hand` units (through the ledger)."""
    row = db.session.scalar(select(Stock).where(Stock.location_id == location.id, Stock.product_id == product.id))
    if row is None or row.on_hand < on_hand:
        stock_service.set_on_hand(location.id, product.id, on_hand, SYSTEM)
    return db.session.scalar(select(Stock).where(Stock.location_id == location.id, Stock.product_id == product.id))


def make_order(items: Sequence[tuple[str, int]] = (("SKU-A", 1),), channel: Channel | str | None = None,
               delivery_type: str = "cargo", pickup_location: StockLocation | None = None,
               number: str | None = None) -> Order:
    ch = channel if isinstance(channel, Channel) else get_channel(channel or "web")
    order = Order(number=number or f"WEB-{next(_orders)}", channel=ch, placed_at=datetime.now(UTC).replace(tzinfo=None),
                  status="new", delivery_type=delivery_type, pickup_location=pickup_location,
                  cargo_company=get_cargo_company(), customer_name="Ayse Yilmaz", customer_email="ayse@example.com",
                  ship_line="Moda Cd. 1", ship_city="Istanbul", ship_district="Kadikoy", ship_country="TR")
    for sku, qty in items:
        order.items.append(OrderItem(product=get_product(sku), quantity=qty))
    db.session.add(order)
    db.session.flush()
    return order


def make_package(state: str = "waiting", items: Sequence[tuple[str, int]] = (("SKU-A", 1),),
                 location: StockLocation | None = None, channel: Channel | str | None = None,
                 delivery_type: str = "cargo", spare: int = 5, order: Order | None = None,
                 with_shipment: bool = True) -> Package:
    """An order with one package in `state` at `location`, stock and reservations to match.
    `spare` extra units stay available at the location. Cargo packages from waiting_cargo_label
    on get a shipment (label ready once packed) unless `with_shipment` is False."""
    location = location or factories.location()
    if order is None:
        order = make_order(items, channel, delivery_type, location if delivery_type == "click_and_collect" else None)
    for order_item in order.items:
        set_stock(location, order_item.product, order_item.quantity + spare)
    reserve = state in RESERVED_STATES
    package = workorders.create_package(order, location.id, [workorders.Line(i, i.quantity) for i in order.items],
                                        state, SYSTEM, reserve=reserve)
    if state in PACKED_STATES:
        for item in package.items:
            stock_service.set_on_hand(location.id, item.product_id,
                                      _on_hand(location.id, item.product_id) - item.quantity, SYSTEM, reason="pack")
            item.state = "packed"
            item.picked_quantity = item.quantity
    if state == "blocked":
        package.previous_state = "waiting"
        package.block_reason = "test"
    if state in SHIPMENT_STATUS and delivery_type == "cargo" and with_shipment:
        db.session.add(Shipment(package=package, cargo_company=order.cargo_company, status=SHIPMENT_STATUS[state],
                                tracking_number="TRK-1" if state != "waiting_cargo_label" else None))
    db.session.flush()
    from app.services.order_status import refresh_order_status

    refresh_order_status(order, SYSTEM)
    db.session.commit()
    return package


def make_transfer(items: Sequence[tuple[str, int]] = (("SKU-A", 1),), source: StockLocation | None = None,
                  destination: StockLocation | None = None, state: str = "waiting", spare: int = 5) -> Transfer:
    """A package waiting_for_transfer at `destination` whose units all come from `source`."""
    source = source or factories.location()
    destination = destination or factories.location()
    order = make_order(items)
    for order_item in order.items:
        set_stock(source, order_item.product, order_item.quantity + spare)
    package = workorders.create_package(order, destination.id, [workorders.Line(i, i.quantity) for i in order.items],
                                        "waiting_for_transfer", SYSTEM, reserve=False)
    transfer = workorders.create_transfer(package, source.id, [(i, i.quantity) for i in package.items], SYSTEM)
    if state != "waiting":
        transfer.state = state
    if state == "in_transit":
        stock_service.consume(SYSTEM, transfer.number, transfer_item_ids=[ti.id for ti in transfer.items])
    db.session.flush()
    from app.services.order_status import refresh_order_status

    refresh_order_status(order, SYSTEM)
    db.session.commit()
    return transfer


def _on_hand(location_id: int, product_id: int) -> int:
    return db.session.scalar(select(Stock.on_hand).where(Stock.location_id == location_id,
                                                         Stock.product_id == product_id)) or 0


def stock_of(location: StockLocation | int, sku: str) -> tuple[int, int]:
    """(on_hand, reserved) read fresh from the database."""
    db.session.expire_all()
    loc_id = location if isinstance(location, int) else location.id
    row = db.session.execute(select(Stock.on_hand, Stock.reserved).join(Product)
                             .where(Stock.location_id == loc_id, Product.sku == sku)).first()
    return (row[0], row[1]) if row else (0, 0)


def ledger_sums(location: StockLocation | int, sku: str) -> tuple[int, int]:
    """Sums of the ledger's on_hand and reserved deltas: they must equal the stock row."""
    loc_id = location if isinstance(location, int) else location.id
    row = db.session.execute(select(func.coalesce(func.sum(StockLedger.on_hand_delta), 0),
                                    func.coalesce(func.sum(StockLedger.reserved_delta), 0))
                             .join(Product, Product.id == StockLedger.product_id)
                             .where(StockLedger.location_id == loc_id, Product.sku == sku)).first()
    return int(row[0]), int(row[1])


def row_counts() -> dict[str, int]:
    """Rows per table, to prove a failed command changed nothing."""
    db.session.expire_all()
    return {t.name: db.session.scalar(select(func.count()).select_from(t)) for t in db.metadata.sorted_tables}


def make_scenario(default: StockLocation, **rule) -> None:
    """One active scenario for every order: a single rule trying packaging centers by priority;
    what cannot be planned is parked at `default`."""
    from app.models import Scenario, ScenarioRule

    values = dict(name="By priority", locations=[], exclude=[], location_type=None, same_city=False,
                  use_quota=False, sort=[{"by": "priority", "order": "asc"}], allow_split=False, max_packages=1,
                  transferable=False, transfer_sources=[])
    values.update(rule)
    scenario = Scenario(name="Everything", priority=10, active=True, default_location_id=default.id, conditions={})
    scenario.rules.append(ScenarioRule(position=1, **values))
    db.session.add(scenario)
    db.session.commit()


def live_packages(order_id: int) -> list[tuple[str, str, list[tuple[str, int]]]]:
    """The order's packages that still hold items: (location, state, [(sku, quantity)])."""
    db.session.expire_all()
    packages = db.session.scalars(select(Package).where(Package.order_id == order_id,
                                                        Package.state.not_in(("cancelled", "refused")))
                                  .order_by(Package.id)).all()
    return [(p.location.code, p.state, [(i.sku, i.quantity) for i in p.items if i.state not in ("missing", "cancelled")])
            for p in packages]
