"""Suppliers, purchase orders and inbound shipments over the API (SPEC §14): the documented
shapes, commands, 404/409/422 as §9, location scope, idempotent receiving and webhooks."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import OutboxEvent, Stock
from tests import factories
from tests.api.helpers import auth


def _setup(client):
    wh = factories.location("WH-01", type="warehouse")
    other = factories.location("IST-09")
    factories.product("TEA")
    factories.product("MUG")
    admin = auth("erp")
    assert client.post("/api/v1/suppliers", headers=admin, json={"code": "ACME", "name": "Acme Tea",
                                                                 "lead_time_days": 14}).status_code == 201
    return wh, other, admin


PO = {"number": "PO-1", "supplier": "ACME", "destination": "WH-01", "expected_at": "2026-12-20T09:00:00Z",
      "lines": [{"sku": "TEA", "quantity": 10, "unit_cost": "2.50"}, {"sku": "MUG", "quantity": 4, "unit_cost": 7}]}


def test_a_purchase_order_goes_from_draft_to_received_over_the_api(app, client):
    wh, _, admin = _setup(client)
    created = client.post("/api/v1/purchase-orders", headers=admin, json=PO)
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert (body["state"], body["supplier"], body["destination"], body["allowed_commands"]) == (
        "draft", "ACME", "WH-01", ["edit", "send", "cancel"])
    assert [(line["sku"], line["quantity"], line["received"], line["damaged"], line["unit_cost"])
            for line in body["lines"]] == [("TEA", 10, 0, 0, "2.50"), ("MUG", 4, 0, 0, "7.00")]
    po = f"/api/v1/purchase-orders/{body['id']}"
    assert client.post(f"{po}/commands/send", headers=admin).get_json()["state"] == "sent"
    assert client.post(f"{po}/commands/confirm", headers=admin, json={}).get_json()["state"] == "confirmed"

    clerk = auth("ayse", "staff", [wh])
    received = client.post(f"{po}/commands/receive", headers=clerk, json={
        "lines": [{"sku": "TEA", "quantity": 10, "damaged": 2}, {"sku": "MUG", "quantity": 4}]})
    assert received.status_code == 200, received.get_json()
    assert received.get_json()["state"] == "received"
    assert [(line["received"], line["damaged"]) for line in received.get_json()["lines"]] == [(10, 2), (4, 0)]
    assert client.get("/api/v1/stock?location=WH-01&sku=TEA", headers=admin).get_json()["results"][0]["on_hand"] == 8

    refused = client.post(f"{po}/commands/cancel", headers=admin, json={})
    assert refused.status_code == 409
    assert refused.get_json()["error"]["details"] == {"state": "received", "allowed_commands": []}
    history = client.get(f"{po}/history", headers=admin).get_json()["results"]
    assert [h["command"] for h in history] == ["create", "send", "confirm", "receive"]
    types = set(db.session.scalars(select(OutboxEvent.type)))
    assert {"purchase_order.created", "purchase_order.state_changed", "purchase_order.received"} <= types


def test_errors_follow_section_9(app, client):
    wh, _, admin = _setup(client)
    bad = client.post("/api/v1/purchase-orders", headers=admin, json={**PO, "lines": [{"sku": "GHOST", "quantity": 0}]})
    assert bad.status_code == 422
    assert "lines.0.quantity" in bad.get_json()["error"]["details"]
    unknown = client.post("/api/v1/purchase-orders", headers=admin, json={**PO, "lines": [{"sku": "GHOST", "quantity": 1}]})
    assert unknown.status_code == 422 and "lines.0.sku" in unknown.get_json()["error"]["details"]
    pid = client.post("/api/v1/purchase-orders", headers=admin, json=PO).get_json()["id"]
    assert client.post("/api/v1/purchase-orders", headers=admin, json=PO).status_code == 409
    assert client.get("/api/v1/purchase-orders/999999", headers=admin).status_code == 404
    assert client.post(f"/api/v1/purchase-orders/{pid}/commands/teleport", headers=admin).status_code == 404
    draft_receive = client.post(f"/api/v1/purchase-orders/{pid}/commands/receive", headers=admin,
                                json={"lines": [{"sku": "TEA", "quantity": 1}]})
    assert draft_receive.status_code == 409
    client.post(f"/api/v1/purchase-orders/{pid}/commands/send", headers=admin)
    no_reason = client.post(f"/api/v1/purchase-orders/{pid}/commands/close_short", headers=admin, json={})
    assert no_reason.status_code == 409  # sent cannot close short; confirm first
    client.post(f"/api/v1/purchase-orders/{pid}/commands/confirm", headers=admin)
    assert client.post(f"/api/v1/purchase-orders/{pid}/commands/close_short", headers=admin,
                       json={}).status_code == 422
    over = client.post(f"/api/v1/purchase-orders/{pid}/commands/receive", headers=admin,
                       json={"lines": [{"sku": "TEA", "quantity": 11}]})
    assert over.status_code == 422 and "lines.0.reason" in over.get_json()["error"]["details"]
    negative = client.post(f"/api/v1/purchase-orders/{pid}/commands/receive", headers=admin,
                           json={"lines": [{"sku": "TEA", "quantity": -1}]})
    assert negative.status_code == 422
    assert db.session.scalar(select(Stock.id)) is None  # nothing was received


def test_staff_of_another_location_cannot_see_or_receive_and_staff_cannot_send(app, client):
    wh, other, admin = _setup(client)
    pid = client.post("/api/v1/purchase-orders", headers=admin, json=PO).get_json()["id"]
    outsider = auth("mehmet", "staff", [other])
    assert client.get(f"/api/v1/purchase-orders/{pid}", headers=outsider).status_code == 404
    assert client.get("/api/v1/purchase-orders", headers=outsider).get_json()["count"] == 0
    assert client.post(f"/api/v1/purchase-orders/{pid}/commands/receive", headers=outsider,
                       json={"lines": [{"sku": "TEA", "quantity": 1}]}).status_code == 404
    insider = auth("ayse", "staff", [wh])
    assert client.post(f"/api/v1/purchase-orders/{pid}/commands/send", headers=insider).status_code == 403
    assert client.get(f"/api/v1/purchase-orders/{pid}", headers=insider).get_json()["allowed_commands"] == []


def test_a_receive_sent_twice_with_one_idempotency_key_or_receipt_key_counts_once(app, client):
    _, _, admin = _setup(client)
    pid = client.post("/api/v1/purchase-orders", headers=admin, json=PO).get_json()["id"]
    client.post(f"/api/v1/purchase-orders/{pid}/commands/send", headers=admin)
    url = f"/api/v1/purchase-orders/{pid}/commands/receive"
    body = {"lines": [{"sku": "TEA", "quantity": 3}], "receipt_key": "count-1"}
    for _ in range(2):
        assert client.post(url, headers={**admin, "Idempotency-Key": "k-1"}, json=body).status_code == 200
    assert client.post(url, headers=admin, json=body).status_code == 200  # same receipt key: replayed
    tea = client.get(f"/api/v1/purchase-orders/{pid}", headers=admin).get_json()["lines"][0]
    assert tea["received"] == 3


def test_an_inbound_shipment_departs_arrives_and_is_received(app, client):
    _, _, admin = _setup(client)
    pid = client.post("/api/v1/purchase-orders", headers=admin, json=PO).get_json()["id"]
    client.post(f"/api/v1/purchase-orders/{pid}/commands/send", headers=admin)
    shipment = {"number": "MSCU1234567", "carrier": "Sea Lines", "container_number": "MSCU1234567",
                "eta": "2026-12-18T06:00:00Z", "documents": [{"name": "Bill of lading", "url": "https://x.test/bl.pdf"}],
                "lines": [{"purchase_order": "PO-1", "sku": "TEA", "quantity": 10}]}
    created = client.post("/api/v1/inbound-shipments", headers=admin, json=shipment)
    assert created.status_code == 201, created.get_json()
    sid = created.get_json()["id"]
    assert created.get_json()["status"] == "booked" and created.get_json()["destination"] == "WH-01"
    bad = client.post("/api/v1/inbound-shipments", headers=admin,
                      json={**shipment, "number": "X-2", "lines": [{"purchase_order": "PO-1", "sku": "SPOON", "quantity": 1}]})
    assert bad.status_code == 422 and "lines.0.sku" in bad.get_json()["error"]["details"]

    url = f"/api/v1/inbound-shipments/{sid}/commands"
    assert client.post(f"{url}/depart", headers=admin, json={"occurred_at": "2026-12-08T10:00:00Z"}).get_json()["status"] == "departed"
    assert client.get(f"/api/v1/purchase-orders/{pid}", headers=admin).get_json()["state"] == "in_transit"
    assert client.post(f"{url}/arrive", headers=admin, json={}).get_json()["status"] == "arrived"
    received = client.post(f"{url}/receive", headers=admin, json={"lines": [{"sku": "TEA", "quantity": 10}]})
    assert received.status_code == 200 and received.get_json()["status"] == "delivered"
    assert client.post(f"{url}/depart", headers=admin, json={}).status_code == 409
    assert client.get(f"/api/v1/purchase-orders/{pid}", headers=admin).get_json()["state"] == "partially_received"
    statuses = [h["to_state"] for h in client.get(f"/api/v1/inbound-shipments/{sid}/history",
                                                  headers=admin).get_json()["results"]]
    assert statuses == ["booked", "departed", "arrived", "delivered"]


def test_webhooks_subscribe_to_inbound_events_and_openapi_documents_the_routes(app, client):
    _, _, admin = _setup(client)
    created = client.post("/api/v1/webhooks", headers=admin, json={
        "url": "https://93.184.215.14/hooks", "events": ["purchase_order.received", "inbound_shipment.status_changed"],
        "secret": "s3cret-s3cret-s3cret"})
    assert created.status_code == 201, created.get_json()
    doc = client.get("/api/openapi.json").get_json()
    for path in ("/api/v1/suppliers", "/api/v1/purchase-orders", "/api/v1/purchase-orders/{purchase_order_id}/commands/receive",
                 "/api/v1/inbound-shipments"):
        assert path in doc["paths"], path


def test_dates_outside_2000_to_2100_are_refused_and_nothing_is_made(app, client):
    _setup(client)
    admin = {"Authorization": f"Token {factories.api_token('erp')}"}
    for when in ("1900-01-01T00:00:00Z", "9999-12-31T00:00:00", "0001-01-01T00:00:00+03:00"):
        bad = client.post("/api/v1/purchase-orders", headers=admin, json={**PO, "expected_at": when})
        assert bad.status_code == 422, when
        assert "between 2000 and 2100" in bad.get_json()["error"]["details"]["expected_at"]
    assert client.get("/api/v1/purchase-orders", headers=admin).get_json()["count"] == 0
    pid = client.post("/api/v1/purchase-orders", headers=admin, json=PO).get_json()["id"]
    client.post(f"/api/v1/purchase-orders/{pid}/commands/send", headers=admin)
    late = client.post(f"/api/v1/purchase-orders/{pid}/commands/confirm", headers=admin,
                       json={"expected_at": "9999-12-31T00:00:00Z"})
    assert late.status_code == 422
    assert client.get(f"/api/v1/purchase-orders/{pid}", headers=admin).get_json()["state"] == "sent"
