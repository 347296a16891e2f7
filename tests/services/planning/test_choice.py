"""Which location gets the package: distance, priority, split, transfer, capacity, exclusions."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import Package, PlanningExclusion, Reservation, Stock, Transfer
from app.services.planning import plan_order
from app.services.planning.trace import expand
from tests import factories
from tests.services.planning.network import order, packages_of, placement, scenario, shirts_at_a_store, site


def _stock(loc, product, qty):
    factories.stock(loc, product, qty)


def test_nearest_store_with_every_item_wins(app):
    near = site("KDK", 40.99, 29.03)
    far = site("ANK", 39.92, 32.85)
    default = site("WH", 40.81, 29.30, type="warehouse")
    shirt = factories.product("SHIRT")
    for loc in (near, far):
        _stock(loc, shirt, 5)
    scenario(default, [{"sort": [{"by": "distance", "order": "asc"}]}])
    o = order([(shirt, 2)])

    plan_order(o.id)

    assert placement(o.id) == {"KDK": {"SHIRT": 2}}
    (package,) = packages_of(o.id)
    assert package.state == "waiting"
    reserved = db.session.scalar(select(Stock.reserved).where(Stock.location_id == near.id))
    assert reserved == 2
    assert db.session.get(type(o), o.id).status == "planned"


def test_priority_beats_distance_when_the_rule_sorts_by_priority_first(app):
    near = site("KDK", 40.99, 29.03, priority=20)
    far = site("ANK", 39.92, 32.85, priority=5)
    default = site("WH", 40.81, 29.30, type="warehouse")
    shirt = factories.product("SHIRT")
    for loc in (near, far):
        _stock(loc, shirt, 5)
    scenario(default, [{"sort": [{"by": "priority", "order": "asc"}, {"by": "distance", "order": "asc"}]}])
    o = order([(shirt, 1)])

    plan_order(o.id)

    assert placement(o.id) == {"ANK": {"SHIRT": 1}}


def test_split_uses_the_fewest_locations(app):
    a = site("A", 40.99, 29.03)   # nearest, has only shirts
    b = site("B", 41.00, 29.05)   # has only jeans
    c = site("C", 41.10, 29.10)   # has shirts and jeans: one location covers both
    default = site("WH", 40.81, 29.30, type="warehouse")
    shirt, jeans, cap = factories.product("SHIRT"), factories.product("JEANS"), factories.product("CAP")
    _stock(a, shirt, 1)
    _stock(a, cap, 1)
    _stock(b, jeans, 1)
    _stock(c, shirt, 1)
    _stock(c, jeans, 1)
    scenario(default, [{"allow_split": True, "max_packages": 3}])
    o = order([(shirt, 1), (jeans, 1), (cap, 1)])

    plan_order(o.id)

    # A (shirt, cap) + C (jeans) or C (shirt, jeans) + A (cap): two packages, never three.
    placed = placement(o.id)
    assert len(placed) == 2
    assert sum(q for items in placed.values() for q in items.values()) == 3


def _greedy_trap():
    """X is nearest and holds the most (4 of 6 lines), but what X lacks (E, F) is at Y and Z,
    which between them hold everything: greedy takes X and needs three locations; Y + Z is two."""
    x = site("X", 40.99, 29.03)
    y = site("Y", 41.00, 29.05)
    z = site("Z", 41.10, 29.10)
    default = site("WH", 40.81, 29.30, type="warehouse")
    a, b, c, d, e, f = (factories.product(sku) for sku in "ABCDEF")
    for loc, products in ((x, (a, b, c, d)), (y, (a, b, e)), (z, (c, d, f))):
        for product in products:
            _stock(loc, product, 1)
    return default, [(p, 1) for p in (a, b, c, d, e, f)]


def test_split_finds_the_two_locations_greedy_misses_when_at_most_two_are_allowed(app):
    default, lines = _greedy_trap()
    scenario(default, [{"allow_split": True, "max_packages": 2}])
    o = order(lines)

    plan_order(o.id)

    assert placement(o.id) == {"Y": {"A": 1, "B": 1, "E": 1}, "Z": {"C": 1, "D": 1, "F": 1}}


def test_split_takes_two_locations_where_greedy_would_take_three(app):
    default, lines = _greedy_trap()
    scenario(default, [{"allow_split": True, "max_packages": 3}])
    o = order(lines)

    plan_order(o.id)

    assert placement(o.id) == {"Y": {"A": 1, "B": 1, "E": 1}, "Z": {"C": 1, "D": 1, "F": 1}}


def test_split_search_gives_way_to_greedy_beyond_its_budget(app, monkeypatch):
    from app.services.planning import engine

    monkeypatch.setattr(engine, "SPLIT_SEARCH_BUDGET", 0)
    default, lines = _greedy_trap()
    scenario(default, [{"allow_split": True, "max_packages": 3}])
    o = order(lines)

    plan_order(o.id)

    assert set(placement(o.id)) == {"X", "Y", "Z"}  # the greedy answer: X first, then Y and Z


def test_split_is_not_used_when_the_rule_does_not_allow_it(app):
    a, b = site("A", 40.99, 29.03), site("B", 41.00, 29.05)
    default = site("WH", 40.81, 29.30, type="warehouse")
    shirt, jeans = factories.product("SHIRT"), factories.product("JEANS")
    _stock(a, shirt, 1)
    _stock(b, jeans, 1)
    scenario(default, [{"allow_split": False}])
    o = order([(shirt, 1), (jeans, 1)])

    plan_order(o.id)

    (package,) = packages_of(o.id)
    assert (package.state, package.location.code) == ("out_of_stock", "WH")


def test_transfer_brings_the_missing_unit_and_the_package_waits_for_it(app):
    store = site("KDK", 40.99, 29.03, is_transfer_source=False)
    warehouse = site("WH", 40.81, 29.30, type="warehouse", is_packaging_center=False)
    shirt, jeans = factories.product("SHIRT"), factories.product("JEANS")
    _stock(store, shirt, 3)
    _stock(warehouse, jeans, 4)
    scenario(warehouse, [{"location_type": "store", "transferable": True, "transfer_sources": ["WH"]}])
    o = order([(shirt, 1), (jeans, 1)])

    plan_order(o.id)

    (package,) = packages_of(o.id)
    assert package.state == "waiting_for_transfer"
    assert package.location.code == "KDK"
    (transfer,) = db.session.scalars(select(Transfer)).all()
    assert (transfer.source.code, transfer.destination.code) == ("WH", "KDK")
    assert [(i.product.sku, i.quantity) for i in transfer.items] == [("JEANS", 1)]
    held = {(r.location_id, r.product_id): r.quantity for r in db.session.scalars(select(Reservation))}
    assert held == {(store.id, shirt.id): 1, (warehouse.id, jeans.id): 1}


def test_capacity_skips_a_full_store(app):
    full = site("FULL", 40.99, 29.03, max_quota=1)
    free = site("FREE", 41.05, 29.00, max_quota=10)
    default = site("WH", 40.81, 29.30, type="warehouse")
    shirt = factories.product("SHIRT")
    _stock(full, shirt, 5)
    _stock(free, shirt, 5)
    scenario(default, [{"use_quota": True}])
    first = order([(shirt, 1)])
    plan_order(first.id)
    assert placement(first.id) == {"FULL": {"SHIRT": 1}}

    second = order([(shirt, 1)])
    plan_order(second.id)

    assert placement(second.id) == {"FREE": {"SHIRT": 1}}


def test_a_refused_store_is_never_chosen_again_for_that_order_item(app):
    near = site("NEAR", 40.99, 29.03)
    far = site("FAR", 41.20, 29.10)
    default = site("WH", 40.81, 29.30, type="warehouse")
    shirt = factories.product("SHIRT")
    _stock(near, shirt, 5)
    _stock(far, shirt, 5)
    scenario(default, [{}])
    o = order([(shirt, 1)])
    db.session.add(PlanningExclusion(order_item_id=o.items[0].id, location_id=near.id, reason="refused"))
    db.session.commit()

    plan_order(o.id)

    assert placement(o.id) == {"FAR": {"SHIRT": 1}}


def test_out_of_stock_parks_at_the_default_location_without_reserving(app):
    store, shirt = shirts_at_a_store(1)
    o = order([(shirt, 2)])

    plan_order(o.id)

    (package,) = packages_of(o.id)
    assert (package.state, package.location.code) == ("out_of_stock", "WH")
    assert db.session.scalar(select(Reservation.id)) is None
    assert db.session.get(type(o), o.id).status == "out_of_stock"


def test_planning_twice_plans_nothing_more(app):
    store, shirt = shirts_at_a_store(5)
    o = order([(shirt, 2)])

    plan_order(o.id)
    plan_order(o.id)

    assert len(packages_of(o.id)) == 1
    assert db.session.scalar(select(Stock.reserved)) == 2


def test_the_first_matching_scenario_wins_and_the_trace_says_why_others_did_not(app):
    store = site("KDK", 40.99, 29.03)
    other = site("ANK", 39.92, 32.85)
    default = site("WH", 40.81, 29.30, type="warehouse")
    shirt = factories.product("SHIRT")
    _stock(store, shirt, 5)
    _stock(other, shirt, 5)
    scenario(default, [{"locations": ["ANK"]}], name="Marketplace", priority=1,
             conditions={"channels": ["trendyol"]})
    scenario(default, [{"locations": ["KDK"]}], name="Web", priority=2)
    o = order([(shirt, 1)])

    plan_order(o.id)

    assert placement(o.id) == {"KDK": {"SHIRT": 1}}
    (package,) = packages_of(o.id)
    from app.models import PlanningTrace

    trace = db.session.get(PlanningTrace, package.planning_trace_id).trace
    assert [s["name"] for s in trace["scenarios"]] == ["Marketplace", "Web"]
    assert "channel web is not one of trendyol" in expand(trace)["scenarios"][0]["reasons"][0]
    assert db.session.scalar(select(Package.id).where(Package.state == "out_of_stock")) is None
