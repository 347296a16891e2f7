"""Load what the planner needs in a few queries: locations, stock, open packages, exclusions,
scenarios, and what is still unassigned of a set of orders."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    Order,
    Package,
    PackageItem,
    PlanningExclusion,
    Scenario,
    StockLocation,
)
from app.models.packages import OPEN_PACKAGE_STATES
from app.services.db import in_values
from app.services.planning import geo
from app.services.planning.model import Demand, Network, OrderView, RuleView, ScenarioView, Site
from app.services.settings import get_setting
from app.services.transitions import NOT_HOLDING_ITEM_STATES, NOT_HOLDING_PACKAGE_STATES


def load_sites() -> dict[int, Site]:
    rows = db.session.execute(select(
        StockLocation.id, StockLocation.code, StockLocation.type, StockLocation.city, StockLocation.latitude,
        StockLocation.longitude, StockLocation.priority, StockLocation.max_quota, StockLocation.is_packaging_center,
        StockLocation.is_transfer_source, StockLocation.is_pickup_location, StockLocation.active,
    )).all()
    return {r.id: Site(r.id, r.code, r.type, geo.normalise(r.city), r.latitude, r.longitude, r.priority or 0,
                       r.max_quota, r.is_packaging_center, r.is_transfer_source, r.is_pickup_location, r.active)
            for r in rows}


def load_scenarios() -> list[ScenarioView]:
    """Active scenarios with their rules, in priority order."""
    from sqlalchemy.orm import selectinload

    rows = db.session.scalars(select(Scenario).where(Scenario.active.is_(True))
                              .options(selectinload(Scenario.rules))
                              .order_by(Scenario.priority, Scenario.id)).all()
    return [scenario_view(s) for s in rows]


def scenario_view(s: Scenario) -> ScenarioView:
    return ScenarioView(
        id=s.id, name=s.name, priority=s.priority, conditions=dict(s.conditions or {}),
        default_location_id=s.default_location_id,
        rules=[RuleView(position=r.position, name=r.name, locations=list(r.locations or []),
                        exclude=list(r.exclude or []), location_type=r.location_type, same_city=r.same_city,
                        use_quota=r.use_quota, sort=[(k["by"], k.get("order", "asc")) for k in (r.sort or [])],
                        allow_split=r.allow_split, max_packages=r.max_packages, transferable=r.transferable,
                        transfer_sources=list(r.transfer_sources or []))
               for r in sorted(s.rules, key=lambda r: r.position)])


def needs_open_counts(scenarios: list[ScenarioView]) -> bool:
    return any(r.use_quota or any(by == "load" for by, _ in r.sort) for s in scenarios for r in s.rules)


class StockView:
    """Available units per product and location, and open packages per location, kept for a
    whole planning batch: each product's stock is read once, the first time an order wants it,
    and the planner takes its own reservations out as it goes, so later chunks see exactly what
    earlier ones left. What *other* writers do meanwhile is handled elsewhere: a decrease makes
    the guarded reservation UPDATE fail (the chunk is planned again after `clear()`), an
    increase is found by `batch.recheck_out_of_stock` at the end of the batch."""

    def __init__(self) -> None:
        self.available: dict[int, dict[int, int]] = {}
        self.open_packages: dict[int, int] | None = None
        self._loaded: set[int] = set()

    def fill(self, product_ids: Iterable[int]) -> dict[int, dict[int, int]]:
        missing = sorted(set(product_ids) - self._loaded)
        read_available(missing, self.available)
        self._loaded.update(missing)
        return self.available

    def open_counts(self) -> dict[int, int]:
        if self.open_packages is None:
            self.open_packages = open_package_counts()
        return self.open_packages

    def clear(self) -> None:
        self.available.clear()
        self._loaded.clear()
        self.open_packages = None


def read_available(product_ids: list[int], into: dict[int, dict[int, int]] | None = None,
                   lock: bool = False, counted: bool = False) -> dict[int, dict[int, int]]:
    """product -> {location: units on hand and not reserved} for the given products."""
    available = {} if into is None else into
    for chunk in _chunks(product_ids, 5000):
        for loc, pid, on_hand, reserved in _stock_rows(chunk, lock, counted):
            if on_hand > reserved:
                available.setdefault(pid, {})[loc] = on_hand - reserved
    return available


def open_package_counts() -> dict[int, int]:
    return dict(db.session.execute(
        select(Package.location_id, func.count(Package.id))
        .where(Package.state.in_(OPEN_PACKAGE_STATES)).group_by(Package.location_id)).all())


def load_network(product_ids: Iterable[int], order_item_ids: Iterable[int], *, open_counts: bool,
                 lock: bool = False, sites: dict[int, Site] | None = None, view: StockView | None = None,
                 counted: bool = False) -> Network:
    """Stock of the given products everywhere, open packages per location (when a rule needs
    them) and the exclusions of the given order items. With `lock` the stock rows are locked in
    (location, product) order until commit. With `view` (batch planning) stock and open packages
    come from, and stay in, that batch-wide view. `counted`: read the stock through SQLAlchemy's
    execution (statement listeners see it) rather than the bare cursor batch planning uses."""
    if view is not None:
        available = view.fill(product_ids)
        open_packages = view.open_counts() if open_counts else {}
    else:
        available = read_available(sorted(set(product_ids)), lock=lock, counted=counted)
        open_packages = open_package_counts() if open_counts else {}
    exclusions: set[tuple[int, int]] = set()
    for chunk in _chunks(sorted(set(order_item_ids)), 5000):
        exclusions.update(db.session.execute(
            select(PlanningExclusion.order_item_id, PlanningExclusion.location_id)
            .where(in_values(PlanningExclusion.order_item_id, chunk))).tuples())
    return Network(sites if sites is not None else load_sites(), available, open_packages, exclusions)


def _stock_rows(product_ids: list[int], lock: bool, counted: bool = False) -> list[tuple[int, int, int, int]]:
    """(location, product, on_hand, reserved) straight from the DB-API cursor: this is the
    hottest read of batch planning, and skipping SQLAlchemy's row processing makes it 3x faster.
    It runs on the session's own connection, inside its transaction."""
    if not product_ids:
        return []
    connection = db.session.connection()
    postgres = connection.dialect.name == "postgresql"
    if postgres:  # one array parameter: psycopg parses a query with thousands of %s slowly
        sql, params = ("SELECT location_id, product_id, on_hand, reserved FROM stock"
                       " WHERE product_id = ANY(%s) AND on_hand > reserved"), [list(product_ids)]
    else:
        sql = (f"SELECT location_id, product_id, on_hand, reserved FROM stock"
               f" WHERE product_id IN ({', '.join('?' * len(product_ids))}) AND on_hand > reserved")
        params = list(product_ids)
    if lock and postgres:
        sql += " ORDER BY location_id, product_id FOR UPDATE"
    if counted:  # a few products: SQLAlchemy's execution costs little, and counters see it
        return connection.exec_driver_sql(sql, tuple(params)).all()
    cursor = connection.connection.dbapi_connection.cursor()
    try:
        cursor.execute(sql, params)
        return cursor.fetchall()
    finally:
        cursor.close()


def held_quantities(order_item_ids: Iterable[int]) -> dict[int, int]:
    """order item id -> units held by its package items (SPEC: 'holding' package items)."""
    held: dict[int, int] = {}
    for chunk in _chunks(sorted(set(order_item_ids)), 5000):
        rows = db.session.execute(
            select(PackageItem.order_item_id, func.sum(PackageItem.quantity))
            .join(Package, Package.id == PackageItem.package_id)
            .where(in_values(PackageItem.order_item_id, chunk),
                   Package.state.not_in(NOT_HOLDING_PACKAGE_STATES),
                   PackageItem.state.not_in(NOT_HOLDING_ITEM_STATES))
            .group_by(PackageItem.order_item_id))
        held.update({oid: int(q or 0) for oid, q in rows})
    return held


def demands_of(order: Order, held: dict[int, int]) -> list[Demand]:
    out = []
    for item in order.items:
        if item.status == "cancelled":
            continue
        left = item.quantity - (item.cancelled_quantity or 0) - held.get(item.id, 0)
        if left > 0:
            out.append(Demand(item.id, item.product_id, item.product.sku, left))
    return out


def coordinates(lat: float | None, lon: float | None, city: str | None, district: str | None,
                provider: str | None = None) -> tuple[tuple[float, float] | None, str]:
    """The address's own coordinates, else the GEOLOCATION_DISCOVERY provider's, else none."""
    if lat is not None and lon is not None:
        return (float(lat), float(lon)), "address"
    provider = provider or get_setting("GEOLOCATION_DISCOVERY", "offline")
    found = geo.locate(city, district, provider)
    if found:
        return found, f"{provider}: {', '.join(x for x in (district, city) if x)}"
    return None, "unknown"


def order_view(order: Order, demands: list[Demand], provider: str | None = None) -> OrderView:
    coords, source = coordinates(order.ship_latitude, order.ship_longitude, order.ship_city,
                                 order.ship_district, provider)
    return OrderView(
        id=order.id, number=order.number, channel=order.channel.code, delivery_type=order.delivery_type,
        payment_type=order.payment_type, cargo_company=order.cargo_company.code if order.cargo_company else None,
        pickup_location_id=order.pickup_location_id, city=order.ship_city, district=order.ship_district,
        coords=coords, coords_source=source, demands=demands,
    )


def accepted_statuses() -> list[str]:
    return list((get_setting("ORDER_FILTERING", {}) or {}).get("accepted_statuses") or [])


def accepted_status(source_status: str | None, accepted: list[str] | None = None) -> bool:
    """ORDER_FILTERING: an empty accepted list accepts every source status."""
    accepted = accepted_statuses() if accepted is None else accepted
    return not accepted or source_status in accepted


def _chunks(values: list, size: int):
    for i in range(0, len(values), size):
        yield values[i:i + size]
