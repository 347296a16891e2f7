"""Every accepted order is planned, even when Redis was down as it arrived: the order row is the
durable planning request, and a periodic sweep plans the ones whose job never ran."""

from __future__ import annotations

import time
from datetime import timedelta

from rq import Queue, SimpleWorker
from sqlalchemy import func, select, update

from app.extensions import db
from app.models import Order
from app.models.base import utcnow
from app.queues import redis_connection
from app.services.settings import put_setting
from app.services.webhooks import reset_redis_backoff
from app.tasks.planning import plan_unplanned  # also registers the periodic sweep, as a worker does
from app.worker import tick
from tests import factories
from tests.api.test_orders_api import ORDER, auth
from tests.services.builders import make_scenario


def _network() -> None:
    store = factories.location("IST-KDK")
    factories.channel("web")
    factories.cargo_company("demo")
    factories.stock(store, factories.product("TSHIRT-M"), on_hand=100)
    make_scenario(store)


def _statuses() -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(select(Order.status).order_by(Order.id)))


def _minutes_pass(minutes: int = 2) -> None:
    db.session.execute(update(Order).values(received_at=utcnow() - timedelta(minutes=minutes)))
    db.session.commit()


def test_orders_accepted_while_redis_was_down_are_planned_once_it_is_back(app, client, redis_server):
    _network()
    admin = auth("boss")
    redis_server.stop()
    try:
        created = [client.post("/api/v1/orders", json={**ORDER, "number": f"WEB-{n}"}, headers=admin)
                   for n in range(5)]
    finally:
        redis_server.start()
    assert [r.status_code for r in created] == [201] * 5
    assert _statuses() == ["new"] * 5  # accepted, but no planning job could be queued
    _minutes_pass()

    reset_redis_backoff()
    conn = redis_connection()
    enqueued = tick(app, conn, time.time() + 3600)
    SimpleWorker([Queue("planning", connection=conn)], connection=conn).work(burst=True)

    assert "plan-unplanned" in enqueued
    assert _statuses() == ["planned"] * 5


def test_the_sweep_leaves_fresh_orders_to_their_own_job_and_plans_released_holds(app, client, redis_server):
    _network()
    put_setting("ORDER_FILTERING", {"accepted_statuses": ["approved"]})
    admin = auth("boss")
    redis_server.stop()
    try:
        held = client.post("/api/v1/orders", json={**ORDER, "number": "WEB-H", "status": "pending"}, headers=admin)
    finally:
        redis_server.start()
    db.session.execute(update(Order).values(status="on_hold"))  # what its job would have decided
    db.session.commit()
    _minutes_pass()
    assert plan_unplanned() == {}  # held and still pending: nothing to do
    redis_server.stop()
    try:  # the channel approves it while Redis is down again
        again = client.post("/api/v1/orders", json={**ORDER, "number": "WEB-H", "status": "approved"}, headers=admin)
        fresh = client.post("/api/v1/orders", json={**ORDER, "number": "WEB-F"}, headers=admin)
    finally:
        redis_server.start()
    assert (held.status_code, again.status_code, fresh.status_code) == (201, 200, 201)
    db.session.execute(update(Order).where(Order.number == "WEB-H")
                       .values(received_at=utcnow() - timedelta(minutes=2)))
    db.session.commit()

    reset_redis_backoff()
    assert plan_unplanned() == {"planned": 1}

    db.session.expire_all()
    by_number = dict(db.session.execute(select(Order.number, Order.status)).tuples().all())
    assert by_number == {"WEB-H": "planned", "WEB-F": "new"}  # WEB-F is still within its grace period


def test_an_order_no_scenario_matches_is_swept_once_not_every_minute(app, client, redis_server):
    from app.models import PlanningTrace

    _network()
    db.session.execute(update(Order).values(status="new"))  # (no orders yet; keeps the session fresh)
    from app.models import Scenario

    for sc in db.session.scalars(select(Scenario)):
        sc.conditions = {"channels": ["trendyol"]}  # the web order below matches no scenario
    db.session.commit()
    admin = auth("boss")
    redis_server.stop()
    try:
        assert client.post("/api/v1/orders", json={**ORDER, "number": "WEB-N"}, headers=admin).status_code == 201
    finally:
        redis_server.start()
    _minutes_pass()
    reset_redis_backoff()

    plan_unplanned()
    plan_unplanned()

    db.session.expire_all()
    assert db.session.scalar(select(func.count(PlanningTrace.id))) == 1
    assert _statuses() == ["new"]
