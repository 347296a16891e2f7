"""A channel's connection over the API: adapter, validated config, write-only secrets, the
webhook URL to paste, mappings."""

from __future__ import annotations

import logging

from app.extensions import db
from app.models import Channel
from tests.api.test_master_data_api import auth
from tests.channels.conftest import SECRET

SHOP = {"code": "shop", "name": "Shopify store", "adapter": "shopify",
        "config": {"base_url": "https://demo.myshopify.com", "access_token": "shpat_secret_token",
                   "webhook_secret": SECRET, "location_id": 5, "locations": ["IST-01"], "safety_stock": 2}}


def test_a_channel_gets_an_adapter_and_its_secrets_are_never_returned(app, client, caplog):
    admin = auth("admin")
    caplog.set_level(logging.DEBUG)
    created = client.post("/api/v1/channels", json=SHOP, headers=admin)
    assert created.status_code == 201, created.get_json()
    body = client.get("/api/v1/channels/shop", headers=admin).get_json()
    assert body["adapter"] == "shopify"
    assert body["config"]["access_token"] == "********" and body["config"]["webhook_secret"] == "********"
    assert body["config"]["safety_stock"] == 2 and body["config"]["base_url"] == "https://demo.myshopify.com"
    assert body["webhook_url"] == "http://localhost/channels/shop/webhooks"
    listed = client.get("/api/v1/channels", headers=admin).get_json()["results"]
    assert "shpat_secret_token" not in str(listed) and SECRET not in str(body)
    assert "shpat_secret_token" not in caplog.text and SECRET not in caplog.text


def test_patching_the_config_keeps_secrets_that_are_masked_or_left_out(app, client):
    admin = auth("admin")
    client.post("/api/v1/channels", json=SHOP, headers=admin)
    config = {**SHOP["config"], "access_token": "********", "base_url": "https://other.myshopify.com"}
    del config["webhook_secret"]
    answer = client.patch("/api/v1/channels/shop", json={"config": config}, headers=admin)
    assert answer.status_code == 200, answer.get_json()
    db.session.expire_all()
    stored = db.session.query(Channel).filter_by(code="shop").one().config
    assert stored["access_token"] == "shpat_secret_token" and stored["webhook_secret"] == SECRET
    assert stored["base_url"] == "https://other.myshopify.com"


def test_a_config_the_adapter_refuses_is_a_422_naming_the_field(app, client):
    admin = auth("admin")
    bad = {**SHOP, "config": {"base_url": "not a url", "access_token": "x", "location_id": 5, "colour": "red"}}
    answer = client.post("/api/v1/channels", json=bad, headers=admin)
    assert answer.status_code == 422
    details = answer.get_json()["error"]["details"]
    assert {"config.base_url", "config.webhook_secret", "config.colour"} <= set(details)
    assert client.get("/api/v1/channels/shop", headers=admin).status_code == 404
    plain = client.post("/api/v1/channels", json={"code": "web", "name": "Web"}, headers=admin).get_json()
    assert plain["adapter"] == "api" and plain["config"] == {} and plain["webhook_url"] is None


def test_mappings_are_created_listed_and_checked(app, client):
    from tests import factories

    admin = auth("admin")
    factories.product(sku="TSHIRT-M")
    db.session.commit()
    client.post("/api/v1/channels", json=SHOP, headers=admin)
    made = client.post("/api/v1/channels/shop/mappings", headers=admin,
                       json={"kind": "sku", "channel_value": "TS-RED-M", "our_value": "TSHIRT-M"})
    assert made.status_code == 201
    unknown = client.post("/api/v1/channels/shop/mappings", headers=admin,
                          json={"kind": "sku", "channel_value": "X", "our_value": "NOPE"})
    assert unknown.status_code == 422 and "NOPE" in unknown.get_json()["error"]["details"]["our_value"]
    listed = client.get("/api/v1/channels/shop/mappings", headers=admin).get_json()
    assert [(m["channel_value"], m["our_value"]) for m in listed["results"]] == [("TS-RED-M", "TSHIRT-M")]
    gone = client.delete(f"/api/v1/channels/shop/mappings/{made.get_json()['id']}", headers=admin)
    assert gone.status_code == 204
