"""Out-of-stock re-planning, click & collect, ORDER_FILTERING, dry-run and the readable trace."""

from __future__ import annotations

from rq import Queue, SimpleWorker
from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    Order,
    OutboxEvent,
    Package,
    PlanningTrace,
    Reservation,
    Stock,
    StockLedger,
    Transfer,
    TransitionLog,
)
from app.queues import redis_connection
from app.services import stock as stock_service
from app.services.planning import (
    dry_run,
    on_stock_increase,
    plan_order,
    release_on_hold,
    render_trace,
    replan_out_of_stock,
)
from app.services.settings import put_setting
from tests import factories
from tests.services.planning.network import order, packages_of, placement, scenario, shirts_at_a_store, site


def _run_planning_worker() -> None:
    conn = redis_connection()
    SimpleWorker([Queue("planning", connection=conn)], connection=conn).work(burst=True)


def _set_on_hand(loc, product, qty) -> None:
    stock_service.set_on_hand(loc.id, product.id, qty, "user:admin")
    db.session.commit()


def test_out_of_stock_is_replanned_when_a_wanted_sku_arrives(app):
    store = site("KDK", 40.99, 29.03)
    default = site("WH", 40.81, 29.30, type="warehouse")
    shirt, other = factories.product("SHIRT"), factories.product("OTHER")
    scenario(default, [{}])
    order_id = order([(shirt, 1)]).id
    plan_order(order_id)
    (parked,) = packages_of(order_id)
    assert parked.state == "out_of_stock"

    _set_on_hand(store, other, 5)
    assert on_stock_increase(store.id, [other.id]) is False  # nobody waits for OTHER
    _set_on_hand(store, shirt, 2)
    assert on_stock_increase(store.id, [shirt.id]) is True
    _run_planning_worker()

    old, new = packages_of(order_id)
    assert old.state == "cancelled"
    assert (new.state, new.location.code) == ("waiting", "KDK")
    assert db.session.get(Order, order_id).status == "planned"
    trace = db.session.get(PlanningTrace, new.planning_trace_id)
    assert (trace.trigger, trace.is_replan) == ("replan", True)


def test_periodic_replan_leaves_packages_alone_while_nothing_arrived(app):
    default = site("WH", 40.81, 29.30, type="warehouse")
    shirt = factories.product("SHIRT")
    scenario(default, [{}])
    o = order([(shirt, 1)])
    plan_order(o.id)

    assert replan_out_of_stock() == {"still_out_of_stock": 1}

    (parked,) = packages_of(o.id)
    assert (parked.state, parked.number) == ("out_of_stock", f"{o.number}-P1")


def test_periodic_replan_job_is_registered_with_the_setting_interval(app):
    import app.tasks.planning  # noqa: F401  (registers the periodic job)
    from app.worker import PERIODIC

    job = next(p for p in PERIODIC if p.name == "replan-out-of-stock")
    assert job.interval(app) == 30 * 60
    put_setting("REPLAN_INTERVAL_MINUTES", 5)
    assert job.interval(app) == 5 * 60


def test_click_and_collect_is_packed_at_the_pickup_store_when_it_has_everything(app):
    pickup = site("PICK", 41.05, 29.00)
    nearer = site("NEAR", 40.99, 29.03)
    default = site("WH", 40.81, 29.30, type="warehouse")
    shirt = factories.product("SHIRT")
    factories.stock(pickup, shirt, 2)
    factories.stock(nearer, shirt, 2)
    scenario(default, [{}])
    o = order([(shirt, 1)], delivery_type="click_and_collect", pickup=pickup)

    plan_order(o.id)

    (package,) = packages_of(o.id)
    assert (package.location.code, package.state) == ("PICK", "waiting")


def test_click_and_collect_brings_missing_units_into_the_pickup_store(app):
    pickup = site("PICK", 41.05, 29.00)
    source = site("SRC", 40.99, 29.03)
    default = site("WH", 40.81, 29.30, type="warehouse")
    shirt, jeans = factories.product("SHIRT"), factories.product("JEANS")
    factories.stock(pickup, shirt, 1)
    factories.stock(source, jeans, 3)
    scenario(default, [{}])
    o = order([(shirt, 1), (jeans, 2)], delivery_type="click_and_collect", pickup=pickup)

    plan_order(o.id)

    (package,) = packages_of(o.id)
    assert (package.location.code, package.state) == ("PICK", "waiting_for_transfer")
    (transfer,) = db.session.scalars(select(Transfer)).all()
    assert (transfer.source.code, transfer.destination.code) == ("SRC", "PICK")
    assert [(i.product.sku, i.quantity) for i in transfer.items] == [("JEANS", 2)]


def test_order_filtering_holds_unaccepted_orders_and_releases_them_when_accepted(app):
    store, shirt = shirts_at_a_store(5)
    put_setting("ORDER_FILTERING", {"accepted_statuses": ["approved"]})
    o = order([(shirt, 1)], status="awaiting_payment")

    plan_order(o.id)

    assert db.session.get(Order, o.id).status == "on_hold"
    assert packages_of(o.id) == []

    held = db.session.get(Order, o.id)
    held.source_status = "approved"
    release_on_hold(held)
    db.session.commit()

    assert db.session.get(Order, o.id).status == "planned"
    assert placement(o.id) == {"KDK": {"SHIRT": 1}}


def _counts() -> dict[str, int]:
    models = (Order, Package, Transfer, Reservation, StockLedger, PlanningTrace, OutboxEvent, TransitionLog)
    counts = {m.__name__: db.session.scalar(select(func.count()).select_from(m)) for m in models}
    counts["reserved"] = db.session.scalar(select(func.coalesce(func.sum(Stock.reserved), 0)))
    return counts


def test_dry_run_of_a_pasted_order_plans_it_and_writes_nothing(app):
    store, shirt = shirts_at_a_store(5)
    factories.channel("web")
    db.session.commit()
    before = _counts()

    result = dry_run({"number": "WEB-9", "channel": "web", "placed_at": "2026-11-20T10:00:00Z",
                      "items": [{"sku": "SHIRT", "quantity": 2}],
                      "shipping_address": {"city": "Istanbul", "district": "Kadıköy"}})

    assert result["outcome"] == "planned"
    assert result["packages"] == [{"location": "KDK", "state": "waiting", "items": {"SHIRT": 2}, "transfers": []}]
    assert result["trace"]["order"]["coordinates_source"].startswith("offline")
    assert "KDK has every item" in result["explanation"]
    assert _counts() == before


def test_dry_run_of_an_existing_order_writes_nothing(app):
    store, shirt = shirts_at_a_store(5)
    o = order([(shirt, 1)])
    before = _counts()

    result = dry_run({"order_id": o.id})

    assert result["outcome"] == "planned"
    assert _counts() == before
    assert db.session.get(Order, o.id).status == "new"


def test_trace_reads_as_why_this_location(app):
    near = site("NEAR", 40.99, 29.03)
    far = site("FAR", 41.20, 29.10)
    full = site("FULL", 40.98, 29.02, max_quota=0)
    default = site("WH", 40.81, 29.30, type="warehouse")
    shirt, jeans = factories.product("SHIRT"), factories.product("JEANS")
    factories.stock(near, shirt, 1)
    factories.stock(far, shirt, 1)
    factories.stock(far, jeans, 1)
    factories.stock(full, shirt, 9)
    factories.stock(full, jeans, 9)
    scenario(default, [{"use_quota": True}])
    o = order([(shirt, 1), (jeans, 1)])

    plan_order(o.id)

    trace = db.session.scalar(select(PlanningTrace)).trace
    text = render_trace(trace)
    assert "FULL: full: 0 open packages, quota 0." in text
    assert "NEAR (" in text and "cannot supply everything: JEANS short by 1" in text
    assert "FAR (" in text and "chosen: has every item" in text
    assert "Package at FAR (waiting): SHIRT ×1, JEANS ×1." in text


def test_an_on_hold_order_resent_by_the_channel_with_an_accepted_status_is_planned(app):
    from app.services.actors import Actor
    from app.services.orders import create_order

    store, shirt = shirts_at_a_store(5)
    factories.channel("web")
    put_setting("ORDER_FILTERING", {"accepted_statuses": ["approved"]})
    body = {"number": "WEB-9", "channel": "web", "placed_at": "2026-11-20T10:00:00Z", "status": "awaiting_payment",
            "delivery_type": "cargo", "customer": {"name": "Ayse"},
            "shipping_address": {"line": "Moda Cd. 1", "city": "Istanbul", "latitude": 40.98, "longitude": 29.02},
            "items": [{"sku": "SHIRT", "quantity": 1, "price": "10.00"}]}
    channel_actor = Actor.system("tests")
    created, is_new = create_order(body, channel_actor)
    _run_planning_worker()
    db.session.expire_all()
    assert is_new and db.session.get(Order, created.id).status == "on_hold"

    again, is_new = create_order({**body, "status": "approved"}, channel_actor)
    _run_planning_worker()
    db.session.expire_all()
    assert not is_new and again.id == created.id
    assert db.session.get(Order, created.id).source_status == "approved"
    assert db.session.get(Order, created.id).status == "planned"
    assert placement(created.id) == {"KDK": {"SHIRT": 1}}
