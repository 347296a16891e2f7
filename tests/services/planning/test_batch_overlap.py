"""Batch planning across chunks: the batch-wide stock view, the writer thread that commits chunk k
while chunk k+1 is planned, a chunk that loses a race to another writer, and stock that arrives
while the batch runs."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select, text

from app.extensions import db
from app.models import Order, Package, Reservation, Stock
from app.services.planning.batch import plan_batch
from tests import factories
from tests.services.planning.network import order, scenario, site

RACE_LOG = "lost a stock race"


def _stock(location, product=None) -> tuple[int, int]:
    db.session.rollback()  # a fresh snapshot (SQLite WAL readers keep theirs)
    query = select(Stock).where(Stock.location_id == location.id)
    if product is not None:
        query = query.where(Stock.product_id == product.id)
    (row,) = db.session.scalars(query).all()
    return row.on_hand, row.reserved


def _locations_of(order_ids: list[int]) -> list[str | None]:
    db.session.rollback()
    out = []
    for order_id in order_ids:
        package = db.session.scalar(select(Package).where(Package.order_id == order_id,
                                                          Package.state != "cancelled"))
        out.append(f"{package.location.code}:{package.state}")
    return out


def _other_writer(sql: str, **params) -> None:
    """Another process's committed change, on its own connection, behind the planner's back."""
    with db.engine.begin() as conn:
        conn.execute(text(sql), params)


def _shirt_network(**units_at):
    """Stores (NEAR, FAR or KDK, nearest first) holding `units_at[code]` shirts, a warehouse WH
    as the default location, and a scenario of one rule: the nearest store."""
    coords = {"NEAR": (40.99, 29.03), "KDK": (40.99, 29.03), "FAR": (41.10, 29.00)}
    stores = {code: site(code, *coords[code]) for code in units_at}
    scenario(site("WH", 40.81, 29.30, type="warehouse"), [{"location_type": "store"}])
    shirt = factories.product("SHIRT")
    for code, units in units_at.items():
        factories.stock(stores[code], shirt, units)
    return stores, shirt


def _overlap() -> bool:
    """Overlap needs PostgreSQL's row locks to let another writer in between two chunks; on
    SQLite the planned chunk holds the database write lock, so those tests run it in turn."""
    return db.engine.dialect.name == "postgresql"


def test_overlapped_chunks_plan_against_what_earlier_chunks_took(app, caplog):
    stores, shirt = _shirt_network(NEAR=3, FAR=2)
    near, far = stores["NEAR"], stores["FAR"]
    ids = [order([(shirt, 1)]).id for _ in range(7)]

    with caplog.at_level(logging.INFO, logger="packline.planning"):
        counts = plan_batch(ids, chunk_size=2, overlap=True)

    assert counts == {"planned": 5, "out_of_stock": 2}
    # In order: the nearest store until its stock is gone, then the next, then parked. Each
    # chunk saw the units earlier (possibly not yet committed) chunks took, so none had to be
    # planned again.
    assert _locations_of(ids) == ["NEAR:waiting"] * 3 + ["FAR:waiting"] * 2 + ["WH:out_of_stock"] * 2
    assert RACE_LOG not in caplog.text
    assert _stock(near) == (3, 3) and _stock(far) == (2, 2)
    assert db.session.scalar(select(func.sum(Reservation.quantity))) == 5
    assert {db.session.get(Order, i).status for i in ids} == {"planned", "out_of_stock"}


def test_a_chunk_that_loses_stock_to_another_writer_is_planned_again(app, caplog):
    stores, shirt = _shirt_network(NEAR=4, FAR=4)
    near, far = stores["NEAR"], stores["FAR"]
    ids = [order([(shirt, 1)]).id for _ in range(4)]
    stolen = []

    def progress(done: int, total: int) -> None:
        if not stolen:  # after the first chunk: someone else takes NEAR's last units
            _other_writer("UPDATE stock SET on_hand = reserved WHERE location_id = :loc", loc=near.id)
            stolen.append(done)

    with caplog.at_level(logging.INFO, logger="packline.planning"):
        counts = plan_batch(ids, chunk_size=2, progress=progress, overlap=_overlap())

    assert stolen == [2]
    assert counts == {"planned": 4}
    # The second chunk had been planned at NEAR against the batch's own view of the stock; its
    # guarded reservation failed, it was rolled back and planned again from fresh rows.
    assert RACE_LOG in caplog.text
    assert _locations_of(ids) == ["NEAR:waiting"] * 2 + ["FAR:waiting"] * 2
    assert _stock(near) == (2, 2) and _stock(far) == (4, 2)


def test_stock_that_arrives_during_the_batch_reaches_orders_it_parked(app):
    stores, shirt = _shirt_network(KDK=0)
    store = stores["KDK"]
    ids = [order([(shirt, 1)]).id for _ in range(4)]
    arrived = []

    def progress(done: int, total: int) -> None:
        if not arrived:  # a delivery lands after the first chunk parked its orders
            _other_writer("UPDATE stock SET on_hand = 4 WHERE location_id = :loc", loc=store.id)
            arrived.append(done)

    plan_batch(ids, chunk_size=2, progress=progress, overlap=_overlap())

    assert arrived == [2]
    # The second chunk still planned against the batch's earlier read (nothing there), but the
    # check at the end of the batch saw the new units and re-planned every parked order.
    assert _locations_of(ids) == ["KDK:waiting"] * 4
    assert _stock(store) == (4, 4)
    assert {db.session.get(Order, i).status for i in ids} == {"planned"}


def test_sqlite_connections_go_back_to_the_pool_with_automatic_checkpoints_on(app):
    """Batch planning turns SQLite's automatic WAL checkpoints off for its chunk transactions
    (it checkpoints once per CHECKPOINT_EVERY orders instead); no pooled connection may keep
    that setting. On PostgreSQL there is no such setting: the batch must simply plan."""
    _, shirt = _shirt_network(KDK=5)
    ids = [order([(shirt, 1)]).id for _ in range(5)]
    seen: list[int] = []

    def progress(done: int, total: int) -> None:
        if db.engine.dialect.name == "sqlite":
            with db.engine.connect() as conn:  # the connection the chunk just committed on
                seen.append(conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar())

    assert plan_batch(ids, chunk_size=2, progress=progress) == {"planned": 5}
    if db.engine.dialect.name == "sqlite":
        assert seen == [1000, 1000, 1000]
        connections = [db.engine.raw_connection() for _ in range(3)]
        try:
            assert [c.driver_connection.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
                    for c in connections] == [1000, 1000, 1000]
        finally:
            for c in connections:
                c.close()


def test_stock_that_arrives_is_found_even_after_a_lost_race_reset_the_batch_view(app):
    store = site("KDK", 40.99, 29.03)
    default = site("WH", 40.81, 29.30, type="warehouse")
    shirt, jeans = factories.product("SHIRT"), factories.product("JEANS")
    factories.stock(store, shirt, 0)
    factories.stock(store, jeans, 2)
    scenario(default, [{"location_type": "store"}])
    one_shirt = order([(shirt, 1)]).id
    first_jeans = order([(jeans, 1)]).id
    second_jeans = order([(jeans, 1)]).id
    five_shirts = order([(shirt, 5)]).id
    moved = []

    def progress(done: int, total: int) -> None:
        if not moved:  # after the first chunk: 4 shirts arrive, someone takes the last jeans
            _other_writer("UPDATE stock SET on_hand = 4 WHERE location_id = :loc AND product_id = :p",
                          loc=store.id, p=shirt.id)
            _other_writer("UPDATE stock SET on_hand = reserved WHERE location_id = :loc AND product_id = :p",
                          loc=store.id, p=jeans.id)
            moved.append(done)

    counts = plan_batch([one_shirt, first_jeans, second_jeans, five_shirts], chunk_size=2,
                        progress=progress, overlap=_overlap())

    # The second chunk lost the race for the jeans and was planned again from a fresh read, which
    # already saw the 4 shirts (still short of 5). The shirt order parked by the first chunk was
    # planned against 0 shirts: the end-of-batch check compares with that, not with the re-read.
    assert _locations_of([one_shirt, first_jeans, second_jeans, five_shirts]) == [
        "KDK:waiting", "KDK:waiting", "WH:out_of_stock", "WH:out_of_stock"]
    assert counts["replanned"] == 1
    assert _stock(store, shirt) == (4, 1) and _stock(store, jeans) == (1, 1)


def test_an_error_in_the_middle_of_a_batch_leaves_no_lock_behind(app):
    _, shirt = _shirt_network(KDK=10)
    ids = [order([(shirt, 1)]).id for _ in range(6)]

    def progress(done: int, total: int) -> None:
        raise RuntimeError("the progress display broke")

    with pytest.raises(RuntimeError, match="progress display") as raised:
        plan_batch(ids, chunk_size=2, progress=progress, overlap=True)
    # `raised` keeps the batch's frames (and whatever they still reference) alive: a leaked
    # session cannot be rescued by the garbage collector before the checks below.

    # The first chunk was committed; the one planned meanwhile (PostgreSQL) was rolled back, and
    # neither its order locks nor SQLite's write lock outlived the error.
    db.session.rollback()
    assert [db.session.get(Order, i).status for i in ids] == ["planned"] * 2 + ["new"] * 4
    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as conn:
            locked = conn.execute(text("SELECT id FROM orders WHERE id = ANY(:ids) FOR UPDATE NOWAIT"),
                                  {"ids": ids}).scalars().all()
        assert sorted(locked) == sorted(ids)
    else:
        import sqlite3

        other = sqlite3.connect(db.engine.url.database, timeout=0.5)
        try:
            other.execute("BEGIN IMMEDIATE")  # fails with 'database is locked' if a lock leaked
            other.execute("ROLLBACK")
        finally:
            other.close()
    assert raised.value is not None
    assert plan_batch(ids) == {"planned": 4}


def test_the_batch_runs_with_fewer_garbage_collections_and_restores_the_thresholds(app):
    import gc

    from app.services.planning.batch import GC_THRESHOLDS

    _stores, shirt = _shirt_network(NEAR=5)
    ids = [order([(shirt, 1)]).id for _ in range(4)]
    before = gc.get_threshold()
    assert before != GC_THRESHOLDS
    seen = []

    def progress(done: int, total: int) -> None:
        seen.append(gc.get_threshold())
        if done == 4:
            raise RuntimeError("the caller's progress callback failed")

    with pytest.raises(RuntimeError):
        plan_batch(ids, chunk_size=2, progress=progress, overlap=_overlap())

    assert seen == [GC_THRESHOLDS, GC_THRESHOLDS]
    assert gc.get_threshold() == before  # back to normal, even though the batch failed
    assert plan_batch(ids) == {}  # the two chunks were committed before the failure
    assert gc.get_threshold() == before
