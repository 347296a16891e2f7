"""Small hand-built networks for planning tests: locations, products, stock, a scenario, orders."""

from __future__ import annotations

import itertools
from datetime import datetime

from app.extensions import db
from app.models import Channel, Order, OrderItem, Product, Scenario, ScenarioRule, StockLocation
from tests import factories

_numbers = itertools.count(1)

# A customer in Kadıköy, Istanbul.
KADIKOY = (40.99, 29.03)


def site(code: str, lat: float, lon: float, **kw) -> StockLocation:
    return factories.location(code, latitude=lat, longitude=lon, **kw)


def channel(code: str = "web") -> Channel:
    found = db.session.query(Channel).filter_by(code=code).one_or_none()
    return found or factories.channel(code)


def scenario(default: StockLocation, rules: list[dict], name: str = "Default", priority: int = 10,
             conditions: dict | None = None) -> Scenario:
    sc = Scenario(name=name, priority=priority, active=True, default_location_id=default.id,
                  conditions=conditions or {})
    for n, rule in enumerate(rules, start=1):
        values = dict(name=f"Rule {n}", locations=[], exclude=[], location_type=None, same_city=False,
                      use_quota=False, sort=[{"by": "distance", "order": "asc"}], allow_split=False,
                      max_packages=1, transferable=False, transfer_sources=[])
        values.update(rule)
        sc.rules.append(ScenarioRule(position=n, **values))
    db.session.add(sc)
    db.session.flush()
    return sc


def shirts_at_a_store(units: int, rules: list[dict] | None = None, *, default: str | None = "WH",
                      **store: object) -> tuple[StockLocation, Product]:
    """Store KDK in Kadıköy holding `units` of a new product SHIRT, and a scenario with `rules`
    (one rule open to every site when None) whose default is a new warehouse coded `default`
    (the store itself when None). Returns (the store, the shirt)."""
    kdk = site("KDK", *KADIKOY, **store)
    fallback = kdk if default is None else site(default, 40.81, 29.30, type="warehouse")
    shirt = factories.product("SHIRT")
    factories.stock(kdk, shirt, units)
    scenario(fallback, [{}] if rules is None else rules)
    return kdk, shirt


def order(lines: list[tuple[Product, int]], *, coords: tuple[float, float] | None = KADIKOY,
          channel_code: str = "web", city: str = "Istanbul", district: str | None = "Kadıköy",
          delivery_type: str = "cargo", pickup: StockLocation | None = None, status: str = "approved",
          commit: bool = True) -> Order:
    o = Order(number=f"WEB-{next(_numbers)}", channel_id=channel(channel_code).id, placed_at=datetime(2026, 11, 20),
              source_status=status, status="new", delivery_type=delivery_type,
              pickup_location_id=pickup.id if pickup else None, customer_name="Ayse Yilmaz",
              ship_city=city, ship_district=district,
              ship_latitude=coords[0] if coords else None, ship_longitude=coords[1] if coords else None)
    for product, qty in lines:
        o.items.append(OrderItem(product_id=product.id, quantity=qty))
    db.session.add(o)
    db.session.flush()
    if commit:
        db.session.commit()
    return o


def packages_of(order_id: int):
    from sqlalchemy import select

    from app.models import Package

    db.session.expire_all()
    return db.session.scalars(select(Package).where(Package.order_id == order_id).order_by(Package.id)).all()


def placement(order_id: int) -> dict[str, dict[str, int]]:
    """{location code: {sku: qty}} of the order's live packages."""
    out: dict[str, dict[str, int]] = {}
    for p in packages_of(order_id):
        if p.state in ("cancelled", "refused"):
            continue
        for i in p.items:
            out.setdefault(p.location.code, {})[i.product.sku] = i.quantity
    return out
