"""API bodies are strictly typed JSON: a boolean is not a number and a string is not a number, so a
client bug is a clear 422 instead of a guess; people's input on screens and imports stays lenient."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.models import Order, Setting
from tests import factories
from tests.api.test_bad_input_regressions import assert_error, auth, count
from tests.api.test_orders_api import ORDER, master_data


@pytest.mark.parametrize("quantity", [True, "2", 2.5, None])
def test_an_order_quantity_must_be_a_json_integer(app, client, quantity):
    master_data()
    admin = auth("boss")
    bad = {**ORDER, "items": [{**ORDER["items"][0], "quantity": quantity}]}

    error = assert_error(client.post("/api/v1/orders", json=bad, headers=admin), 422, "validation_failed")

    assert "items.0.quantity" in error["details"]
    assert count(Order) == 0
    assert client.post("/api/v1/orders", json=ORDER, headers=admin).status_code == 201  # 2 is fine


def test_flags_must_be_json_booleans(app, client):
    admin = auth("boss")
    body = {"code": "web", "name": "Web shop", "provides_shipping_label": "yes"}
    error = assert_error(client.post("/api/v1/channels", json=body, headers=admin), 422)
    assert "provides_shipping_label" in error["details"]
    assert client.post("/api/v1/channels", json={**body, "provides_shipping_label": False},
                       headers=admin).status_code == 201


def test_dates_and_prices_keep_their_json_forms(app, client):
    master_data()
    admin = auth("boss")
    order = {**ORDER, "items": [{**ORDER["items"][0], "price": 199.9}]}  # a JSON number works too
    assert client.post("/api/v1/orders", json=order, headers=admin).status_code == 201


def test_an_image_address_must_be_http(app, client):
    admin = auth("boss")
    product = {"sku": "MUG", "name": "Mug", "barcodes": ["8690000000123"], "image_url": "javascript:alert(1)"}
    error = assert_error(client.post("/api/v1/products", json=product, headers=admin), 422)
    assert "image_url" in error["details"]


def test_a_setting_value_is_bounded(app, client):
    admin = auth("boss")
    huge = {"value": ["x" * 100] * 200}
    error = assert_error(client.put("/api/v1/settings/CUSTOM_NOTE", json=huge, headers=admin), 422)
    assert "value" in error["details"]
    db.session.commit()
    assert db.session.get(Setting, "CUSTOM_NOTE") is None


def test_the_admin_form_still_reads_typed_text(app, client):
    factories.user("boss", "admin")
    db.session.commit()
    client.post("/login", data={"username": "boss", "password": factories.PASSWORD})
    response = client.post("/admin/channels/new", data={"code": "web", "name": "Web", "provides_shipping_label": "y"})
    assert response.status_code in (200, 303)
    db.session.commit()
    from app.models import Channel

    assert db.session.query(Channel).filter_by(code="web").one().provides_shipping_label is True
