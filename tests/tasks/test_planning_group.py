"""Group commit of order-intake planning (app/tasks/planning.py): a planning job that finds other
orders' jobs waiting behind it plans them all in one transaction; the orders end exactly as
when each job plans its own order, and no job is left behind in Redis."""

from __future__ import annotations

import threading

import pytest
from rq import Queue, SimpleWorker
from rq.job import Job
from sqlalchemy import event, func, select, text

from app.extensions import db
from app.models import Order, OutboxEvent, Package, PackageItem, PlanningTrace, Reservation, Stock, StockLocation
from app.queues import redis_connection
from tests import factories
from tests.api.test_orders_api import ORDER, auth
from tests.conftest import _empty_all_tables
from tests.services.builders import make_scenario

ORDERS = 12


def _network() -> None:
    store = factories.location("IST-KDK")
    other = factories.location("IST-BSK", latitude=41.04, longitude=29.0)
    factories.channel("web")
    factories.cargo_company("demo")
    shirt = factories.product("TSHIRT-M")
    factories.stock(store, shirt, on_hand=9)  # not enough for every order: some go out of stock
    factories.stock(other, shirt, on_hand=4)
    make_scenario(store)
    db.session.commit()


def _place_orders(client) -> list[int]:
    admin = auth("boss")
    for n in range(ORDERS):
        response = client.post("/api/v1/orders", json={**ORDER, "number": f"WEB-{n}"}, headers=admin)
        assert response.status_code == 201, response.get_json()
    db.session.expire_all()
    return list(db.session.scalars(select(Order.id).order_by(Order.id)))


def _work(conn) -> int:
    """Run one burst worker on the planning queue; the commits it made."""
    commits = [0]

    def count(_conn):
        commits[0] += 1

    event.listen(db.engine, "commit", count)
    try:
        SimpleWorker([Queue("planning", connection=conn)], connection=conn).work(burst=True)
    finally:
        event.remove(db.engine, "commit", count)
    return commits[0]


def _outcome() -> dict:
    """What planning left, by order number and location code (ids differ between runs)."""
    db.session.rollback()
    packages = db.session.execute(
        select(Order.number, Package.number, Package.state, StockLocation.code, PackageItem.quantity)
        .join(Package, Package.order_id == Order.id).join(PackageItem, PackageItem.package_id == Package.id)
        .join(StockLocation, StockLocation.id == Package.location_id).order_by(Order.number, Package.number)).all()
    return {
        "statuses": dict(db.session.execute(select(Order.number, Order.status)).tuples().all()),
        "packages": [tuple(r) for r in packages],
        "stock": sorted(db.session.execute(select(StockLocation.code, Stock.on_hand, Stock.reserved)
                                           .join(Stock, Stock.location_id == StockLocation.id)).tuples().all()),
        "reservations": db.session.scalar(select(func.count()).select_from(Reservation)),
        "events": db.session.scalar(select(func.count()).select_from(OutboxEvent)),
    }


def _burst(app, client, limit: int) -> tuple[dict, int]:
    app.config["PLANNING_GROUP_LIMIT"] = limit
    try:
        _network()
        _place_orders(client)
        conn = redis_connection()
        assert Queue("planning", connection=conn).count == ORDERS
        commits = _work(conn)
    finally:
        app.config["PLANNING_GROUP_LIMIT"] = 100
    assert Queue("planning", connection=conn).count == 0
    left = [Job.fetch(k.decode().removeprefix("rq:job:"), connection=conn).get_status()
            for k in conn.keys("rq:job:plan-order-*")]
    assert set(left) == {"finished"}, left  # a taken job's record is gone, not left queued
    if limit > 1:
        assert len(left) == 1  # the one job that ran
    return _outcome(), commits


def test_one_job_plans_the_orders_waiting_behind_it_in_one_commit_with_the_same_result(app, client):
    alone, commits_alone = _burst(app, client, limit=1)  # each job plans its own order
    _empty_all_tables()
    redis_connection().flushdb()
    grouped, commits_grouped = _burst(app, client, limit=100)

    assert commits_alone >= ORDERS
    assert commits_grouped <= 3, commits_grouped  # the group's commit (and the out-of-stock re-check)
    statuses = list(grouped["statuses"].values())
    assert statuses.count("planned") == 6 and statuses.count("out_of_stock") == 6, grouped["statuses"]
    assert grouped == alone


@pytest.mark.parametrize("which", [5, 0], ids=["a taken order", "the job's own order"])
def test_an_order_of_the_group_another_transaction_holds_gets_its_job_back(app, client, which):
    """PostgreSQL: another transaction holds one order's row, which the batch skips (SKIP LOCKED).
    SQLite has no row locks: another transaction holds the write lock while the group is taken,
    and the group waits for it. Either way every order ends planned and no job is left."""
    _network()
    ids = _place_orders(client)
    held, conn = ids[which], redis_connection()
    watched = ids[1] if which == 0 else ids[0]  # an order of the group whose planning shows it committed
    locked, done, engine = threading.Event(), threading.Event(), db.engine

    def hold_the_order() -> None:  # a cancel or an API re-plan holding the row meanwhile
        if engine.dialect.name == "sqlite":
            with engine.connect().execution_options(sqlite_immediate=True) as other:
                other.execute(text("SELECT id FROM orders WHERE id = :id"), {"id": held})  # BEGIN IMMEDIATE
                locked.set()
                while Queue("planning", connection=conn).count and not done.wait(0.02):
                    pass  # until the first job has taken the rest: it then waits for this lock
                done.wait(0.3)
                other.rollback()
            return
        with engine.connect() as other:
            other.execute(text("SELECT id FROM orders WHERE id = :id FOR UPDATE"), {"id": held})
            locked.set()
            # until the group (the first order's job took the rest) is committed
            with engine.connect() as watch:
                while not done.wait(0.02):
                    if watch.execute(text("SELECT status FROM orders WHERE id = :id"), {"id": watched}).scalar() != "new":
                        break
                    watch.rollback()
            other.rollback()

    holder = threading.Thread(target=hold_the_order)
    holder.start()
    try:
        assert locked.wait(10)
        _work(conn)
    finally:
        done.set()
        holder.join(10)
    db.session.rollback()
    statuses = dict(db.session.execute(select(Order.id, Order.status)).tuples().all())
    assert "new" not in statuses.values(), statuses
    assert statuses[held] in ("planned", "out_of_stock")
    assert Queue("planning", connection=conn).count == 0


def test_three_worker_processes_share_a_burst_without_planning_an_order_twice_or_overselling(app, client):
    """Real `flask worker --burst planning` processes started together on one burst of jobs: each
    takes what it can off the queue (a job another took is not planned twice), stock is never
    reserved beyond what is on hand, every order ends planned once, no job is left queued."""
    from tests.tasks.test_import_runs import stop, worker_process

    _network()
    ids = _place_orders(client) + _place_more_orders(client, 28)
    conn = redis_connection()
    assert Queue("planning", connection=conn).count == len(ids)
    workers = [worker_process(app, "--burst", "planning") for _ in range(3)]
    try:
        for worker in workers:
            worker.wait(timeout=180)
    finally:
        for worker in workers:
            stop(worker)
    db.session.rollback()
    assert [w.returncode for w in workers] == [0, 0, 0]
    statuses = list(db.session.scalars(select(Order.status)))
    assert len(statuses) == len(ids) and "new" not in statuses
    traced = db.session.execute(select(PlanningTrace.order_id, func.count()).group_by(PlanningTrace.order_id)).all()
    assert len(traced) == len(ids) and {n for _, n in traced} == {1}  # each order planned exactly once
    packages = db.session.execute(select(Package.order_id, func.count()).group_by(Package.order_id)).all()
    assert len(packages) == len(ids) and {n for _, n in packages} == {1}
    for on_hand, reserved in db.session.execute(select(Stock.on_hand, Stock.reserved)):
        assert 0 <= reserved <= on_hand
    assert db.session.scalar(select(func.sum(Stock.reserved))) == 2 * statuses.count("planned")
    assert Queue("planning", connection=conn).count == 0


def _place_more_orders(client, count: int) -> list[int]:
    headers = {"Authorization": f"Token {factories.api_token('boss')}"}
    for n in range(count):
        response = client.post("/api/v1/orders", json={**ORDER, "number": f"WEB-X{n}"}, headers=headers)
        assert response.status_code == 201, response.get_json()
    db.session.expire_all()
    return list(db.session.scalars(select(Order.id).where(Order.number.like("WEB-X%"))))


def test_when_the_group_fails_every_taken_order_keeps_a_planning_job(app, client):
    """A real database error in the group's transaction: no order loses its planning request —
    each order's job ends in RQ's failed jobs (the supervisor's Failed jobs page runs them again),
    none is dropped with the group."""
    from rq.registry import FailedJobRegistry

    _network()
    ids = _place_orders(client)
    conn = redis_connection()
    db.session.execute(text("ALTER TABLE planning_traces RENAME TO planning_traces_away"))
    db.session.commit()
    try:
        _work(conn)
    finally:
        db.session.rollback()
        db.session.execute(text("ALTER TABLE planning_traces_away RENAME TO planning_traces"))
        db.session.commit()
    assert set(db.session.scalars(select(Order.status))) == {"new"}
    failed = set(FailedJobRegistry("planning", connection=conn).get_job_ids())
    assert failed == {f"plan-order-{i}" for i in ids}
