"""A NUL character in anything a screen is sent (a form field, a link's query) is refused with a
400 in plain words and changes nothing; before, PostgreSQL's refusal to store or even compare one
was a 500 on a dozen screens (a product's name, a user's name, a scan). The API and the channels'
webhook receivers keep their own rules."""

from __future__ import annotations

import pytest

from app.extensions import db
from tests import factories
from tests.services.builders import make_package, row_counts
from tests.views.test_auth import signed_in_admin
from tests.views.test_store_queue import HX, login, store_with_staff

SAID = "invisible character that cannot be stored"


def _counts():
    db.session.rollback()
    return row_counts()


@pytest.mark.parametrize(("url", "data"), [
    ("/admin/products/new", {"sku": "MUG-1", "name": "Mug\x00", "weight_kg": "1"}),
    ("/admin/products/new", {"sku": "\x00", "name": "Mug"}),
    ("/admin/users/new", {"username": "a\x00b", "role": "staff", "password": "a-long-password-123"}),
    ("/admin/channels/new", {"code": "web", "name": "\x00"}),
    ("/supervisor/requisitions/new", {"location": "\x00"}),
    ("/admin/scenarios/dry-run", {"order_number": "\x00"}),
])
def test_an_admin_form_with_nul_is_refused_in_words_and_writes_nothing(app, client, url, data):
    signed_in_admin(client)
    factories.location("IST-KDK")
    db.session.commit()
    before = _counts()
    for headers in ({}, HX):  # a whole page, and the fragment an htmx form swaps in
        response = client.post(url, data=data, headers=headers)
        assert response.status_code == 400, response.get_data(as_text=True)[:500]
        assert SAID in response.get_data(as_text=True)
    assert _counts() == before


def test_a_scan_with_nul_is_refused_and_the_package_is_untouched(app, client):
    store = store_with_staff()
    package = make_package("preparing", location=store, items=[("CAP-BLK", 1)])
    package_id, version = package.id, package.version
    login(client)
    before = _counts()
    response = client.post(f"/store/IST-KDK/packages/{package_id}/scan", data={"barcode": "8690\x00"}, headers=HX)
    assert response.status_code == 400 and SAID in response.get_data(as_text=True)
    response = client.post(f"/store/IST-KDK/packages/{package_id}/commands/block",
                           data={"version": str(version), "reason": "broken\x00"}, headers=HX)
    assert response.status_code == 400
    assert _counts() == before


def test_a_link_with_nul_in_its_query_is_refused(app, client):
    signed_in_admin(client)
    response = client.get("/supervisor/orders/", query_string={"q": "12\x00"})
    assert response.status_code == 400 and SAID in response.get_data(as_text=True)
    assert client.get("/supervisor/orders/", query_string={"q": "12"}).status_code == 200  # the same link without it


def test_a_path_holding_nul_is_refused_on_screens_and_the_channels_receiver(app, client):
    # A code in the path is looked up: PostgreSQL refuses to compare a NUL (a 500 before).
    store_with_staff()
    login(client)
    for url in ("/store/%00/", "/store/IST-KDK/packages/%00"):
        response = client.get(url)
        assert response.status_code == 400 and SAID in response.get_data(as_text=True), url
    client.post("/logout")
    signed_in_admin(client)
    assert client.get("/admin/integrations/%00").status_code == 400
    client.post("/logout")
    before = _counts()
    response = client.post("/channels/%00/webhooks", data=b'{"id": 1}', content_type="application/json")
    assert response.status_code == 400  # no sign-in needed to reach it; nothing is written either
    assert _counts() == before


def test_an_uploaded_file_whose_name_holds_nul_is_refused_and_no_run_is_made(app, client):
    import io

    signed_in_admin(client)
    before = _counts()
    response = client.post("/admin/imports/", data={"kind": "channels", "file": (io.BytesIO(b"code,name\nweb,Web\n"),
                                                                                 "channels\x00.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 400 and SAID in response.get_data(as_text=True)
    assert _counts() == before
