"""PUT /api/v1/stock sets absolute on-hand (all rows or none); GET /stock and availability respect scope."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models import Stock, StockLedger
from tests import factories
from tests.api.helpers import auth


def ledger_rows() -> list[StockLedger]:
    db.session.commit()  # a fresh snapshot: on SQLite an open read transaction sees old rows
    return db.session.scalars(select(StockLedger).order_by(StockLedger.id)).all()


def test_put_stock_sets_absolute_on_hand_and_writes_the_ledger(app, client):
    store = factories.location("IST-01")
    shirt = factories.product("TSHIRT-M")
    factories.stock(store, shirt, on_hand=3)
    admin = auth("erp")
    rows = [{"location": "IST-01", "sku": "TSHIRT-M", "quantity": 12}]
    response = client.put("/api/v1/stock", json=rows, headers=admin)
    assert response.status_code == 200
    assert response.get_json() == {"updated": 1, "unchanged": 0}
    (entry,) = ledger_rows()
    assert (entry.on_hand_delta, entry.on_hand_after, entry.reason) == (9, 12, "stock_sync")
    assert entry.actor.startswith("token:erp#")
    # The same figure again changes nothing and writes no ledger row.
    assert client.put("/api/v1/stock", json=rows, headers=admin).get_json() == {"updated": 0, "unchanged": 1}
    assert len(ledger_rows()) == 1


def test_a_quantity_below_reserved_fails_that_row_and_nothing_is_written(app, client):
    store = factories.location("IST-01")
    shirt, socks = factories.product("TSHIRT-M"), factories.product("SOCKS")
    factories.stock(store, shirt, on_hand=5, reserved=4)
    admin = auth("erp")
    rows = [{"location": "IST-01", "sku": "SOCKS", "quantity": 7},
            {"location": "IST-01", "sku": "TSHIRT-M", "quantity": 3}]
    response = client.put("/api/v1/stock", json=rows, headers=admin)
    assert response.status_code == 422
    details = response.get_json()["error"]["details"]
    assert list(details) == ["1.quantity"] and "reserved" in details["1.quantity"]
    assert ledger_rows() == []
    assert db.session.scalar(select(func.count()).select_from(Stock).where(Stock.product_id == socks.id)) == 0
    assert db.session.scalar(select(Stock.on_hand).where(Stock.product_id == shirt.id)) == 5


def test_unknown_codes_negative_quantities_and_repeated_rows_get_422(app, client):
    factories.location("IST-01")
    factories.product("TSHIRT-M")
    admin = auth("erp")
    response = client.put("/api/v1/stock", json=[{"location": "IST-01", "sku": "TSHIRT-M", "quantity": -1}],
                          headers=admin)
    assert response.get_json()["error"]["details"] == {"0.quantity": "Input should be greater than or equal to 0"}
    rows = [{"location": "NOPE", "sku": "TSHIRT-M", "quantity": 1}, {"location": "IST-01", "sku": "NOPE", "quantity": 1},
            {"location": "IST-01", "sku": "TSHIRT-M", "quantity": 1},
            {"location": "IST-01", "sku": "TSHIRT-M", "quantity": 2}]
    response = client.put("/api/v1/stock", json=rows, headers=admin)
    assert response.status_code == 422
    assert set(response.get_json()["error"]["details"]) == {"0.location", "1.sku", "3.sku"}
    assert client.put("/api/v1/stock", json={"location": "IST-01"}, headers=admin).status_code == 422
    assert ledger_rows() == []


def test_only_admins_put_stock(app, client):
    store = factories.location("IST-01")
    factories.product("TSHIRT-M")
    rows = [{"location": "IST-01", "sku": "TSHIRT-M", "quantity": 1}]
    assert client.put("/api/v1/stock", json=rows, headers=auth("ayse", "staff", [store])).status_code == 403
    assert client.put("/api/v1/stock", json=rows, headers=auth("sup", "supervisor")).status_code == 403
    assert ledger_rows() == []


def test_staff_see_only_their_locations_stock(app, client):
    a, b = factories.location("A"), factories.location("B")
    shirt = factories.product("TSHIRT-M")
    factories.stock(a, shirt, on_hand=4, reserved=1)
    factories.stock(b, shirt, on_hand=9)
    staff = auth("ayse", "staff", [a])
    body = client.get("/api/v1/stock", headers=staff).get_json()
    assert body["results"] == [{"location": "A", "sku": "TSHIRT-M", "on_hand": 4, "reserved": 1, "available": 3}]
    assert client.get("/api/v1/stock?location=B", headers=staff).get_json()["count"] == 0
    admin = auth("erp")
    assert client.get("/api/v1/stock?sku=TSHIRT-M", headers=admin).get_json()["count"] == 2
    assert client.get("/api/v1/stock?location=B", headers=admin).get_json()["results"][0]["on_hand"] == 9


def test_availability_answers_per_location_for_all_skus(app, client):
    a, b = factories.location("A"), factories.location("B")
    shirt, socks = factories.product("TSHIRT-M"), factories.product("SOCKS")
    factories.stock(a, shirt, on_hand=2)
    factories.stock(a, socks, on_hand=1)
    factories.stock(b, shirt, on_hand=5, reserved=4)
    admin = auth("erp")
    body = client.get("/api/v1/stock/availability?sku=TSHIRT-M&sku=SOCKS", headers=admin).get_json()
    assert body == {"A": True, "B": False}
    body = client.get("/api/v1/stock/availability?sku=TSHIRT-M&sku=TSHIRT-M&location=B", headers=admin).get_json()
    assert body == {"B": False}
    assert client.get("/api/v1/stock/availability?sku=TSHIRT-M&location=B", headers=admin).get_json() == {"B": True}
    assert client.get("/api/v1/stock/availability", headers=admin).status_code == 422


def test_a_stock_increase_of_a_wanted_sku_enqueues_a_replan(app, client):
    from rq import Queue

    from app.models import Order, OrderItem
    from app.models.base import utcnow
    from app.queues import redis_connection
    from app.services import workorders

    store = factories.location("IST-01")
    shirt = factories.product("TSHIRT-M")
    factories.product("SOCKS")
    order = Order(number="WEB-1", channel=factories.channel("web"), placed_at=utcnow(), status="out_of_stock",
                  ship_city="Istanbul", items=[OrderItem(product=shirt, quantity=1)])
    db.session.add(order)
    db.session.flush()
    workorders.create_package(order, store.id, [workorders.Line(order.items[0], 1)], "out_of_stock", "test",
                              reserve=False)
    admin = auth("erp")
    planning = Queue("planning", connection=redis_connection())
    client.put("/api/v1/stock", json=[{"location": "IST-01", "sku": "SOCKS", "quantity": 3}], headers=admin)
    assert planning.job_ids == []  # nobody waits for socks
    client.put("/api/v1/stock", json=[{"location": "IST-01", "sku": "TSHIRT-M", "quantity": 3}], headers=admin)
    assert [job_id for job_id in planning.job_ids if job_id.startswith("replan-stock-")]
