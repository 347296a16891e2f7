"""An inbound shipment carries at most what is still open on each purchase order line: ordered −
received − what other shipments on their way carry. More is a 422 naming the line, nothing saved
(API and the supervisor's booking form)."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models import InboundShipment
from tests.api.test_inbound_api import PO, _setup
from tests.factories import PASSWORD


def _shipments() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(InboundShipment))


def _ship(number, quantity, sku="TEA"):
    return {"number": number, "carrier": "Sea Lines",
            "lines": [{"purchase_order": "PO-1", "sku": sku, "quantity": quantity}]}


def test_a_shipment_cannot_carry_more_than_is_open_on_the_line(app, client):
    _, _, admin = _setup(client)
    pid = client.post("/api/v1/purchase-orders", headers=admin, json=PO).get_json()["id"]  # TEA 10, MUG 4
    client.post(f"/api/v1/purchase-orders/{pid}/commands/send", headers=admin)

    too_many = client.post("/api/v1/inbound-shipments", headers=admin, json=_ship("C-1", 11))
    assert too_many.status_code == 422, too_many.get_json()
    details = too_many.get_json()["error"]["details"]
    assert "Only 10 of TEA are still open on purchase order PO-1" in details["lines.0.quantity"]
    assert _shipments() == 0

    assert client.post("/api/v1/inbound-shipments", headers=admin, json=_ship("C-1", 6)).status_code == 201
    # 6 are on their way: a second shipment takes at most the other 4
    second = client.post("/api/v1/inbound-shipments", headers=admin, json=_ship("C-2", 5))
    assert second.status_code == 422
    assert "on other shipments 6" in second.get_json()["error"]["details"]["lines.0.quantity"]
    assert client.post("/api/v1/inbound-shipments", headers=admin, json=_ship("C-2", 4)).status_code == 201
    third = client.post("/api/v1/inbound-shipments", headers=admin, json=_ship("C-3", 1))
    assert third.status_code == 422 and "Nothing of TEA is still open" in third.get_json()["error"]["details"][
        "lines.0.quantity"]
    assert _shipments() == 2

    # Received goods are no longer open; a cancelled shipment no longer carries anything
    received = client.post(f"/api/v1/purchase-orders/{pid}/commands/receive", headers=admin,
                           json={"lines": [{"sku": "MUG", "quantity": 3}]})
    assert received.status_code == 200, received.get_json()
    assert client.post("/api/v1/inbound-shipments", headers=admin, json=_ship("C-4", 2, "MUG")).status_code == 422
    assert client.post("/api/v1/inbound-shipments", headers=admin, json=_ship("C-4", 1, "MUG")).status_code == 201
    c2 = db.session.scalar(select(InboundShipment.id).where(InboundShipment.number == "C-2"))
    assert client.post(f"/api/v1/inbound-shipments/{c2}/commands/cancel", headers=admin, json={}).status_code == 200
    assert client.post("/api/v1/inbound-shipments", headers=admin, json=_ship("C-5", 4)).status_code == 201


def test_the_booking_form_starts_from_what_is_open_and_refuses_more(app, client):
    _, _, admin = _setup(client)
    pid = client.post("/api/v1/purchase-orders", headers=admin, json=PO).get_json()["id"]
    client.post(f"/api/v1/purchase-orders/{pid}/commands/send", headers=admin)
    assert client.post("/api/v1/inbound-shipments", headers=admin, json=_ship("C-1", 6)).status_code == 201
    assert client.post("/login", data={"username": "erp", "password": PASSWORD}).status_code in (302, 303)
    form = client.get(f"/supervisor/inbound-shipments/new?purchase_order={pid}").get_data(as_text=True)
    assert 'value="4"' in form  # TEA: 10 ordered, 6 already on C-1
    posted = client.post("/supervisor/inbound-shipments/new", data={
        "number": "C-2", "purchase_order-0": "PO-1", "sku-0": "TEA", "quantity-0": "9"})
    assert posted.status_code == 422
    assert "Only 4 of TEA are still open on purchase order PO-1" in posted.get_data(as_text=True)
    assert _shipments() == 1
