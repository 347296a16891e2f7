"""Orders over the API: idempotent create, read with packages, cancel, plan now; roles and scope."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models import Order, OutboxEvent, Scenario, ScenarioRule
from app.services import workorders
from tests import factories
from tests.api.helpers import auth

ORDER = {"number": "WEB-1001", "channel": "web", "placed_at": "2026-11-20T10:00:00Z", "status": "approved",
         "delivery_type": "cargo", "pickup_location": None, "payment_type": "card", "cargo_company": "demo",
         "customer": {"name": "Ayse Yilmaz", "email": "ayse@example.com", "phone": "+905551112233"},
         "shipping_address": {"line": "Moda Cd. 1", "city": "Istanbul", "district": "Kadikoy", "postcode": "34710",
                              "country": "TR", "latitude": 40.98, "longitude": 29.02},
         "items": [{"sku": "TSHIRT-M", "quantity": 2, "price": "199.90"}]}


def master_data():
    store = factories.location("IST-KDK")
    factories.channel("web")
    factories.cargo_company("demo")
    shirt = factories.product("TSHIRT-M")
    factories.stock(store, shirt, on_hand=10)
    db.session.commit()
    return store


def orders() -> int:
    db.session.commit()
    return db.session.scalar(select(func.count()).select_from(Order))


def test_posting_an_order_creates_it_once(app, client):
    master_data()
    admin = auth("erp")
    first = client.post("/api/v1/orders", json=ORDER, headers=admin)
    assert first.status_code == 201
    body = first.get_json()
    assert body["number"] == "WEB-1001" and body["channel"] == "web" and body["status"] in ("new", "on_hold")
    assert [(i["sku"], i["quantity"]) for i in body["items"]] == [("TSHIRT-M", 2)]
    assert body["packages"] == [] and body["transfers"] == []
    again = client.post("/api/v1/orders", json=ORDER, headers=admin)
    assert again.status_code == 200 and again.get_json() == body
    assert orders() == 1
    assert db.session.scalar(select(func.count()).select_from(OutboxEvent).where(
        OutboxEvent.type == "order.created")) == 1
    assert client.get(f"/api/v1/orders/{body['id']}", headers=admin).get_json() == body
    listing = client.get("/api/v1/orders?channel=web&number=WEB-1001", headers=admin).get_json()
    assert listing["count"] == 1 and listing["results"][0]["id"] == body["id"]


def test_an_invalid_order_gets_422_per_field_and_is_not_stored(app, client):
    master_data()
    admin = auth("erp")
    bad = {**ORDER, "items": [{"sku": "TSHIRT-M", "quantity": 0}], "delivery_type": "drone"}
    response = client.post("/api/v1/orders", json=bad, headers=admin)
    assert response.status_code == 422
    assert {"items.0.quantity", "delivery_type"} <= set(response.get_json()["error"]["details"])
    unknown = client.post("/api/v1/orders", json={**ORDER, "items": [{"sku": "NOPE", "quantity": 1}]}, headers=admin)
    assert unknown.status_code == 422 and "items.0.sku" in unknown.get_json()["error"]["details"]
    assert orders() == 0


def test_staff_cannot_create_cancel_or_plan_and_read_only_orders_at_their_store(app, client):
    store = master_data()
    other = factories.location("IST-OTHER")
    admin = auth("erp")
    created = client.post("/api/v1/orders", json=ORDER, headers=admin).get_json()
    staff, outsider = auth("ayse", "staff", [store]), auth("mehmet", "staff", [other])
    assert client.post("/api/v1/orders", json={**ORDER, "number": "WEB-2"}, headers=staff).status_code == 403
    assert client.post(f"/api/v1/orders/{created['id']}/cancel", json={}, headers=staff).status_code == 403
    assert client.post(f"/api/v1/orders/{created['id']}/plan", headers=staff).status_code == 403
    order = db.session.get(Order, created["id"])
    workorders.create_package(order, store.id, [workorders.Line(order.items[0], 2)], "waiting", "test")
    db.session.commit()
    assert client.get(f"/api/v1/orders/{created['id']}", headers=staff).status_code == 200
    assert client.get("/api/v1/orders", headers=staff).get_json()["count"] == 1
    assert client.get(f"/api/v1/orders/{created['id']}", headers=outsider).status_code == 404
    assert client.get("/api/v1/orders", headers=outsider).get_json()["count"] == 0
    assert orders() == 1


def test_cancelling_an_order_cascades_to_its_packages(app, client):
    store = master_data()
    admin = auth("erp")
    created = client.post("/api/v1/orders", json=ORDER, headers=admin).get_json()
    order = db.session.get(Order, created["id"])
    package = workorders.create_package(order, store.id, [workorders.Line(order.items[0], 2)], "waiting", "test")
    db.session.commit()
    package_id = package.id
    response = client.post(f"/api/v1/orders/{created['id']}/cancel", json={"reason": "Customer asked"},
                           headers=admin)
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "cancelled"
    assert body["packages"][0]["state"] == "cancelled"
    assert client.get(f"/api/v1/packages/{package_id}", headers=admin).get_json()["state"] == "cancelled"
    assert client.post("/api/v1/orders/999/cancel", json={}, headers=admin).status_code == 404


def test_plan_now_plans_the_order(app, client):
    store = master_data()
    db.session.add(Scenario(name="Web", priority=10, active=True, default_location=store, conditions={},
                            rules=[ScenarioRule(position=0, name="Any store", sort=[{"by": "priority", "order": "asc"}])]))
    db.session.commit()
    admin = auth("erp")
    created = client.post("/api/v1/orders", json=ORDER, headers=admin).get_json()
    response = client.post(f"/api/v1/orders/{created['id']}/plan", headers=admin)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["id"] == created["id"]
    assert body["status"] == "planned"
    assert [(p["location"], p["state"]) for p in body["packages"]] == [("IST-KDK", "waiting")]
    assert client.post("/api/v1/orders/999/plan", headers=admin).status_code == 404
