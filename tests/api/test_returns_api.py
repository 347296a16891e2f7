"""Returns over the API (SPEC §14): create, receive, inspect; scope, refusals and webhooks."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import Return, WebhookSubscription
from app.models.events import EVENT_TYPES
from tests import factories
from tests.api.helpers import auth
from tests.services.builders import make_package, stock_of


def test_a_store_creates_receives_and_inspects_a_return(app, client):
    package = make_package("delivered", items=(("SKU-A", 2),), spare=0)
    store = factories.location("IST-09")
    db.session.commit()
    order_id, headers = package.order_id, auth("ayse", "staff", [store])
    created = client.post("/api/v1/returns", headers=headers, json={
        "order": order_id, "location": "IST-09", "items": [{"sku": "SKU-A", "quantity": 2, "reason": "too big"}]})
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert (body["state"], body["source"], body["location"], body["allowed_commands"]) == (
        "requested", "api", "IST-09", ["ship", "receive"])
    assert body["items"][0]["sku"] == "SKU-A" and body["items"][0]["reason"] == "too big"
    rid = body["id"]
    received = client.post(f"/api/v1/returns/{rid}/commands/receive", headers=headers, json={})
    assert received.status_code == 200 and received.get_json()["state"] == "received"
    again = client.post(f"/api/v1/returns/{rid}/commands/receive", headers=headers, json={})
    assert again.status_code == 409
    assert again.get_json()["error"]["details"]["allowed_commands"] == ["inspect"]
    inspected = client.post(f"/api/v1/returns/{rid}/commands/inspect", headers=headers, json={
        "items": [{"sku": "SKU-A", "resellable": 1, "damaged": 1, "reason": "stained"}]})
    assert inspected.status_code == 200, inspected.get_json()
    assert inspected.get_json()["state"] == "restocked"
    assert stock_of(store, "SKU-A") == (1, 0)
    history = client.get(f"/api/v1/returns/{rid}/history", headers=headers).get_json()["results"]
    assert [h["to_state"] for h in history] == ["requested", "received", "inspected", "restocked"]


def test_another_location_gets_404_and_bad_input_changes_nothing(app, client):
    package = make_package("delivered", items=(("SKU-A", 1),), spare=0)
    other = factories.location("OTHER")
    db.session.commit()
    admin = auth("admin")
    rid = client.post("/api/v1/returns", headers=admin, json={
        "order": package.order_id, "location": package.location.code,
        "items": [{"sku": "SKU-A", "quantity": 1}]}).get_json()["id"]
    outsider = auth("out", "staff", [other])
    assert client.get("/api/v1/returns", headers=outsider).get_json()["count"] == 0
    for response in (client.get(f"/api/v1/returns/{rid}", headers=outsider),
                     client.get(f"/api/v1/returns/{rid}/history", headers=outsider),
                     client.post(f"/api/v1/returns/{rid}/commands/receive", headers=outsider, json={})):
        assert response.status_code == 404
    refusals = [
        ({"order": package.order_id, "location": "OTHER", "items": [{"sku": "SKU-A", "quantity": 1}]}, "items.0.quantity"),
        ({"order": package.order_id, "location": "OTHER", "items": [{"sku": "SKU-A", "quantity": 0}]}, "items.0.quantity"),
        ({"order": package.order_id, "location": "OTHER", "items": [{"sku": "NOPE", "quantity": 1}]}, "items.0.sku"),
        ({"order": 999999, "location": "OTHER", "items": [{"sku": "SKU-A", "quantity": 1}]}, "order"),
        ({"order": package.order_id, "location": "GHOST", "items": [{"sku": "SKU-A", "quantity": 1}]}, "location"),
    ]
    for body, field in refusals:
        response = client.post("/api/v1/returns", headers=admin, json=body)
        assert response.status_code == 422, body
        assert field in response.get_json()["error"]["details"], response.get_json()
    bad_receive = client.post(f"/api/v1/returns/{rid}/commands/receive", headers=admin,
                              json={"items": [{"sku": "SKU-A", "quantity": -1}]})
    assert bad_receive.status_code == 422
    assert client.post(f"/api/v1/returns/{rid}/commands/explode", headers=admin, json={}).status_code == 404
    db.session.commit()
    assert [r.state for r in db.session.scalars(select(Return))] == ["requested"]


def test_return_events_are_webhook_types_and_in_the_openapi_document(app, client):
    assert {"return.created", "return.state_changed", "return.refund_ready"} <= set(EVENT_TYPES)
    admin = auth("admin")
    made = client.post("/api/v1/webhooks", headers=admin, json={
        "url": "https://93.184.215.14/hooks", "events": ["return.refund_ready"], "secret": "s3cret"})
    assert made.status_code == 201, made.get_json()
    assert db.session.scalar(select(WebhookSubscription.events)) == ["return.refund_ready"]
    paths = client.get("/api/openapi.json").get_json()["paths"]
    assert {"/api/v1/returns", "/api/v1/returns/{return_id}", "/api/v1/returns/{return_id}/commands/receive",
            "/api/v1/returns/{return_id}/commands/inspect"} <= set(paths)
