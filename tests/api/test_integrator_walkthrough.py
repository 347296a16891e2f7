"""The walkthrough of docs/api.md, request for request: master data, an order, and a package
driven from waiting to delivered with a real RQ worker asking the demo carrier for the label."""

from __future__ import annotations

from rq import Queue, SimpleWorker

from app.extensions import db
from app.queues import redis_connection
from tests import factories


def run_worker(*queues: str) -> None:
    conn = redis_connection()
    SimpleWorker([Queue(name, connection=conn) for name in queues], connection=conn).work(burst=True)


def test_the_documented_walkthrough_takes_a_package_from_waiting_to_delivered(app, client):
    factories.user("erp", "admin")
    db.session.commit()
    admin = {"Authorization": f"Token {factories.api_token('erp')}"}

    def call(method: str, url: str, body=None, status: int = 200, **headers):
        response = client.open(url, method=method, json=body, headers={**admin, **headers})
        assert response.status_code == status, (method, url, response.get_json())
        return response.get_json()

    call("POST", "/api/v1/locations", {"code": "IST-01", "name": "Kadikoy Store", "type": "store",
                                       "city": "Istanbul", "district": "Kadikoy", "latitude": 40.99,
                                       "longitude": 29.03, "priority": 10, "is_pickup_location": True}, 201)
    call("POST", "/api/v1/channels", {"code": "web", "name": "Web shop"}, 201)
    call("POST", "/api/v1/cargo-companies", {"code": "demo", "name": "Demo Cargo", "adapter": "demo"}, 201)
    call("POST", "/api/v1/products", {"sku": "TSHIRT-M", "name": "T-shirt M", "barcodes": ["8690000000017"],
                                      "weight_kg": 0.3}, 201)
    call("PUT", "/api/v1/stock", [{"location": "IST-01", "sku": "TSHIRT-M", "quantity": 12}])
    call("POST", "/api/v1/scenarios", {
        "name": "Web", "priority": 10, "active": True, "default_location": "IST-01",
        "conditions": {"channels": ["web"], "delivery_types": [], "payment_types": [], "cargo_companies": []},
        "rules": [{"name": "Best store", "sort": [{"by": "priority", "order": "asc"}]}]}, 201)

    order = call("POST", "/api/v1/orders", {
        "number": "WEB-1001", "channel": "web", "placed_at": "2026-11-20T10:00:00Z", "status": "approved",
        "delivery_type": "cargo", "payment_type": "card", "cargo_company": "demo",
        "customer": {"name": "Ayse Yilmaz", "email": "ayse@example.com", "phone": "+905551112233"},
        "shipping_address": {"line": "Moda Cd. 1", "city": "Istanbul", "district": "Kadikoy", "postcode": "34710",
                             "country": "TR", "latitude": 40.98, "longitude": 29.02},
        "items": [{"sku": "TSHIRT-M", "quantity": 2, "price": "199.90"}]}, 201, **{"Idempotency-Key": "order-1"})
    run_worker("planning")  # the plan job the order enqueued
    order = call("GET", f"/api/v1/orders/{order['id']}")
    assert order["status"] == "planned"
    package_id = order["packages"][0]["id"]

    waiting = call("GET", "/api/v1/packages?order=WEB-1001&state=waiting")
    assert [p["id"] for p in waiting["results"]] == [package_id]
    call("POST", f"/api/v1/packages/{package_id}/commands/prepare")
    call("POST", f"/api/v1/packages/{package_id}/commands/pick", {"barcode": "8690000000017", "quantity": 2})
    packing = call("POST", f"/api/v1/packages/{package_id}/commands/complete_packing", {"boxes": 1, "weight_kg": 0.6})
    assert packing["state"] == "waiting_cargo_label"
    run_worker("carriers")  # asks the demo carrier for the tracking number and label
    packed = call("GET", f"/api/v1/packages/{package_id}")
    assert packed["state"] == "packed" and packed["shipment"]["tracking_number"]
    label = client.get(f"/api/v1/packages/{package_id}/label?format=pdf", headers=admin)
    assert label.status_code == 200 and label.data.startswith(b"%PDF")
    call("POST", f"/api/v1/packages/{package_id}/commands/ship")
    delivered = call("POST", f"/api/v1/packages/{package_id}/commands/update_shipment_status",
                     {"status": "delivered"})
    assert delivered["state"] == "delivered" and "ship" not in delivered["allowed_commands"]
    history = call("GET", f"/api/v1/packages/{package_id}/history")
    assert [h["to_state"] for h in history["results"]] == [
        "waiting", "preparing", "preparing", "waiting_cargo_label", "packed", "shipped", "delivered"]
    assert call("GET", f"/api/v1/orders/{order['id']}")["status"] == "delivered"
