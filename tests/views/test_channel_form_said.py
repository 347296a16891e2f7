"""The channel connection form names a setting that is wrong by the key typed in its Settings box,
in the page's language — not by the API's field path (`config.base_url`) — and changes nothing
(leftover of issue 20)."""

from __future__ import annotations

import html

from app.extensions import db
from app.models import Channel
from tests import factories
from tests.views.test_auth import login

CONFIG = {"base_url": "http://127.0.0.1:9", "access_token": "shpat_test", "webhook_secret": "s3cret",
          "location_id": 7, "default_cargo_company": "demo"}


def post_settings(client, language: str, config: str) -> tuple[int, str]:
    db.session.execute(db.text("UPDATE users SET language = :l WHERE username = 'root'"), {"l": language})
    db.session.commit()
    login(client, "root")
    answer = client.post("/admin/integrations/shop/connection", data={"adapter": "shopify", "config": config})
    return answer.status_code, html.unescape(answer.get_data(as_text=True))


def test_wrong_settings_are_named_as_typed_and_said_in_turkish(app, client):
    factories.channel("shop", name="Shopify mağazası", adapter="shopify", config=CONFIG)
    factories.user("root", "admin")
    db.session.commit()
    wrong = '{"base_url": "http://127.0.0.1:9", "access_token": "x", "webhook_secret": "y", "colour": "red"}'

    status, page = post_settings(client, "tr", wrong)
    assert status == 422
    assert "Ayarlar, “location_id”: Zorunlu." in page
    assert "Ayarlar, “colour”: Bu tür kanalın böyle bir ayarı yok: kaldırın." in page
    assert "config.location_id" not in page and "config.colour" not in page
    client.get("/logout")

    status, page = post_settings(client, "en", wrong)
    assert status == 422
    assert "Settings, “location_id”: Required." in page
    assert "Settings, “colour”: Not a setting of this kind of channel: remove it." in page
    db.session.expire_all()
    assert db.session.query(Channel).filter_by(code="shop").one().config == CONFIG  # nothing changed


def test_the_api_keeps_its_field_paths(app, client):
    factories.channel("shop", name="Shopify mağazası", adapter="shopify", config=CONFIG)
    factories.user("root", "admin")
    token = factories.api_token("root")
    answer = client.patch("/api/v1/channels/shop", json={"config": {"base_url": "http://127.0.0.1:9"}},
                          headers={"Authorization": f"Token {token}"})
    assert answer.status_code == 422, answer.get_data(as_text=True)
    assert "config.location_id" in answer.get_json()["error"]["details"]
