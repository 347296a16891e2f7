"""The language switch reads the page's query from the browser's Referer (auth._with_query). The
Referer is whatever the client sends: one that is not a URL at all must leave the person on the
page the form named, never answer 500."""

from __future__ import annotations

import pytest

from app.extensions import db
from tests import factories
from tests.factories import PASSWORD


@pytest.mark.parametrize("referer", ["http://[localhost/admin/users/?page=2", "http://localhost:99999999/x?page=2",
                                     "http://[::1/admin/users/?q=a"])
def test_a_referer_that_is_no_url_keeps_the_forms_page(app, client, referer):
    factories.user("root", "admin", [factories.location("IST-01")])
    db.session.commit()
    client.post("/login", data={"username": "root", "password": PASSWORD})
    response = client.post("/language", data={"language": "tr", "next": "/admin/users/"},
                           headers={"Referer": referer})
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/users/"
