"""Concurrent planners (threads with their own sessions) never oversell."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models import Order, Package, PackageItem, Reservation, Stock
from app.services.planning import plan_order
from app.services.planning.batch import plan_batch
from tests import factories
from tests.services.planning.network import order, scenario, site
from tests.threads import at_once


def test_concurrent_planners_never_oversell(app):
    a = site("A", 40.99, 29.03)
    b = site("B", 41.05, 29.00)
    default = site("WH", 40.81, 29.30, type="warehouse")
    shirt = factories.product("SHIRT")
    factories.stock(a, shirt, 3)
    factories.stock(b, shirt, 2)
    scenario(default, [{}])
    ids = [order([(shirt, 1)]).id for _ in range(12)]
    batch_ids = [order([(shirt, 1)]).id for _ in range(6)]

    targets = [lambda i=i: plan_order(i) for i in ids] + [lambda: plan_batch(batch_ids, chunk_size=3)]
    _, errors = at_once(app, targets)

    assert errors == []
    db.session.rollback()  # end this session's read snapshot (SQLite WAL) before looking
    rows = {s.location_id: (s.on_hand, s.reserved) for s in db.session.scalars(select(Stock))}
    assert rows == {a.id: (3, 3), b.id: (2, 2)}
    assert db.session.scalar(select(func.sum(Reservation.quantity))) == 5
    waiting = db.session.scalar(select(func.count()).select_from(Package).where(Package.state == "waiting"))
    assert waiting == 5
    parked = db.session.scalar(select(func.count()).select_from(Package).where(Package.state == "out_of_stock"))
    assert parked == 13
    # Every order planned exactly once.
    per_order = db.session.execute(select(Package.order_id, func.count()).group_by(Package.order_id)).all()
    assert sorted(n for _, n in per_order) == [1] * 18
    held = db.session.scalar(select(func.sum(PackageItem.quantity)).join(Package).where(Package.state == "waiting"))
    assert held == 5
    assert {db.session.get(Order, i).status for i in ids + batch_ids} == {"planned", "out_of_stock"}


def test_bulk_reservation_refuses_units_that_are_no_longer_there(app):
    import pytest

    from app.models.base import utcnow
    from app.services.db import begin_write
    from app.services.planning.writer import StockRaceLost, reserve_totals

    a = site("A", 40.99, 29.03)
    shirt, jeans = factories.product("SHIRT"), factories.product("JEANS")
    factories.stock(a, shirt, 3)
    factories.stock(a, jeans, 1)
    db.session.commit()

    begin_write()
    with pytest.raises(StockRaceLost):
        reserve_totals({(a.id, shirt.id): 2, (a.id, jeans.id): 2}, utcnow())
    db.session.rollback()
    begin_write()
    after = reserve_totals({(a.id, shirt.id): 2, (a.id, jeans.id): 1}, utcnow())
    db.session.commit()

    assert after == {(a.id, shirt.id): (3, 2), (a.id, jeans.id): (1, 1)}
