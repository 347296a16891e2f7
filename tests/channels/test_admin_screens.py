"""The Integrations screens: secrets never shown, bad settings answered in place, roles."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import Channel
from tests import factories
from tests.channels.conftest import SECRET
from tests.factories import PASSWORD


def sign_in(client, role: str = "admin") -> None:
    factories.user("boss", role)
    db.session.commit()
    assert client.post("/login", data={"username": "boss", "password": PASSWORD}).status_code in (302, 303)


def test_the_connection_page_shows_the_webhook_address_and_never_a_secret(world, client):
    sign_in(client)
    page = client.get("/admin/integrations/shop").get_data(as_text=True)
    assert "/channels/shop/webhooks" in page and "********" in page
    assert SECRET not in page and "shpat_test" not in page
    assert "Unknown" not in client.get("/admin/integrations/").get_data(as_text=True)


def test_saving_the_masked_settings_keeps_the_secrets_and_bad_json_changes_nothing(world, client):
    sign_in(client)
    bad = client.post("/admin/integrations/shop/connection", data={"adapter": "shopify", "config": "{oops"})
    assert bad.status_code == 422 and "not valid JSON" in bad.get_data(as_text=True)
    nan = client.post("/admin/integrations/shop/connection", data={"adapter": "shopify", "config": '{"safety_stock": NaN}'})
    assert nan.status_code == 422 and "It contains NaN, which JSON does not allow" in nan.get_data(as_text=True)
    wrong = client.post("/admin/integrations/shop/connection",
                        data={"adapter": "shopify", "config": '{"base_url": "ftp://x"}'})
    assert wrong.status_code == 422 and "Settings, “location_id”: Required." in wrong.get_data(as_text=True)
    page = client.get("/admin/integrations/shop").get_data(as_text=True)
    shown = page.split('name="config"')[1].split(">", 1)[1].split("</textarea>")[0]
    import html
    import json

    config = json.loads(html.unescape(shown))
    config["safety_stock"] = 3
    saved = client.post("/admin/integrations/shop/connection", data={"adapter": "shopify", "config": json.dumps(config)})
    assert saved.status_code == 303
    db.session.expire_all()
    stored = db.session.scalar(select(Channel).where(Channel.code == "shop")).config
    assert stored["safety_stock"] == 3 and stored["webhook_secret"] == SECRET and stored["access_token"] == "shpat_test"


def test_supervisors_read_the_inbox_but_cannot_change_connections(world, client):
    sign_in(client, "supervisor")
    assert client.get("/admin/integrations/inbox").status_code == 200
    assert client.post("/admin/integrations/shop/connection", data={"adapter": "api", "config": "{}"}).status_code \
        == 403
    assert client.post("/admin/integrations/shop/mappings",
                       data={"kind": "sku", "channel_value": "A", "our_value": "MUG"}).status_code == 403


def test_a_bad_mapping_csv_imports_nothing_and_names_the_line(world, client):
    import io

    sign_in(client)
    data = {"file": (io.BytesIO(b"kind,channel_value,our_value\nsku,A,MUG\nsku,B,NOPE\n"), "m.csv")}
    answer = client.post("/admin/integrations/shop/mappings/import", data=data, content_type="multipart/form-data")
    assert answer.status_code == 422 and "line 2" in answer.get_data(as_text=True)
    good = {"file": (io.BytesIO(b"sku,A,MUG\nsku,B,TSHIRT-M\n"), "m.csv")}
    assert client.post("/admin/integrations/shop/mappings/import", data=good,
                       content_type="multipart/form-data").status_code == 303
    page = client.get("/admin/integrations/shop").get_data(as_text=True)
    assert "TSHIRT-M" in page


def test_retrying_an_update_never_redirects_outside_packline(world, client):
    sign_in(client)
    answer = client.post("/admin/integrations/pushes/999/retry", data={"next": "https://evil.example/"})
    assert answer.status_code == 404
    from app.models import ChannelPush
    from tests.services.builders import make_package

    package = make_package("cancelled")
    db.session.add(ChannelPush(channel_id=db.session.scalar(select(Channel.id).where(Channel.code == "shop")),
                               order_id=package.order_id, package_id=package.id, kind="cancelled", status="failed",
                               attempts=3, log=[]))
    db.session.commit()
    push_id = db.session.scalar(select(ChannelPush.id))
    answer = client.post(f"/admin/integrations/pushes/{push_id}/retry", data={"next": "//evil.example/x"})
    assert answer.status_code == 303 and answer.headers["Location"].endswith("/admin/integrations/")

