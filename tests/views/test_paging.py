"""Every paged screen reads `?page=` the same way: a usable number pages, anything else (huge,
negative, not a number) shows the first page instead of an error."""

from __future__ import annotations

import re

import pytest

from app.extensions import db
from app.models.webhooks import WebhookSubscription
from tests import factories
from tests.services.builders import make_package
from tests.views.test_auth import login

SCREENS = ("/admin/users/", "/admin/locations/", "/admin/products/", "/admin/stock/", "/admin/imports/",
           "/admin/webhooks/{sub}", "/supervisor/locations/IST-01/", "/supervisor/ageing",
           "/supervisor/out-of-stock", "/supervisor/blocked", "/store/IST-01/packages", "/store/IST-01/transfers")
UNUSABLE = ("99999999999999999999", "-1", "0", "abc", "1000001", "²")


@pytest.fixture
def admin(app, client):
    store = factories.location("IST-01")
    for n in range(51):  # one more than a page of users
        factories.user(f"user{n:02}", "staff", [store])
    factories.user("root", "admin", [store])
    sub = WebhookSubscription(url="https://example.com/hook", secret="s" * 32, events=["*"])
    db.session.add(sub)
    make_package("blocked", location=store)
    db.session.commit()
    login(client, "root")
    client.sub = sub.id
    return client


def without_csrf_tokens(html: str) -> str:
    return re.sub(r'(X-CSRFToken": "|name="csrf_token" value=")[^"]*', r"\1", html)


@pytest.mark.parametrize("screen", SCREENS)
def test_an_unusable_page_number_shows_the_first_page(admin, screen):
    url = screen.format(sub=admin.sub)
    first = without_csrf_tokens(admin.get(url).get_data(as_text=True))
    for value in UNUSABLE:
        response = admin.get(url, query_string={"page": value})
        assert response.status_code == 200, (url, value)
        assert without_csrf_tokens(response.get_data(as_text=True)) == first, (url, value)


def test_a_page_number_pages(admin):
    first = admin.get("/admin/users/").get_data(as_text=True)
    second = admin.get("/admin/users/?page=2").get_data(as_text=True)
    assert "root" in first and "user48" in first and "user49" not in first
    assert "user49" in second and "user50" in second and "user48" not in second
    assert "Page 2 of 2 · 52 in all" in second
