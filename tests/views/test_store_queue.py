"""Store home, package queue and the "new" badge: page vs fragment, search, tabs, scope."""

from __future__ import annotations

import re
from datetime import timedelta

from app.extensions import db
from app.models.base import utcnow
from tests import factories
from tests.factories import PASSWORD
from tests.services.builders import make_package

HX = {"HX-Request": "true"}


def login(client, username="ayse"):
    response = client.post("/login", data={"username": username, "password": PASSWORD})
    assert response.status_code == 303
    return response


def store_with_staff(code="IST-KDK", username="ayse", **kw):
    store = factories.location(code, name=kw.pop("name", "Kadıköy Store"), **kw)
    factories.user(username, "staff", [store])
    db.session.commit()
    return store


def test_home_is_a_full_page_and_an_htmx_fragment_with_vary(app, client):
    store = store_with_staff()
    make_package("waiting", location=store)
    make_package("preparing", location=store)
    login(client)
    page = client.get("/store/IST-KDK/")
    assert page.status_code == 200 and "HX-Request" in page.headers["Vary"]
    assert b"<html" in page.data and b'id="home"' in page.data
    fragment = client.get("/store/IST-KDK/", headers=HX)
    assert fragment.status_code == 200 and "HX-Request" in fragment.headers["Vary"]
    assert b"<html" not in fragment.data and b'id="home"' in fragment.data
    assert b"To prepare" in fragment.data and b"Expected (incoming)" in fragment.data


def test_home_highlights_packages_older_than_the_target(app, client):
    store = store_with_staff(target_packaging_minutes=60)
    old = make_package("waiting", location=store)
    old.created_at = utcnow() - timedelta(hours=3)
    make_package("waiting", location=store)
    db.session.commit()
    login(client)
    body = client.get("/store/IST-KDK/").get_data(as_text=True)
    assert "1 package older than the 60-minute target" in body


def test_queue_lists_the_tab_oldest_first_and_the_fragment_is_only_the_queue(app, client):
    store = store_with_staff(target_packaging_minutes=60)
    newer = make_package("waiting", location=store)
    older = make_package("waiting", location=store)
    older.created_at = utcnow() - timedelta(hours=2)
    preparing = make_package("preparing", location=store)
    db.session.commit()
    login(client)
    page = client.get("/store/IST-KDK/packages")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "<html" in body
    assert body.index(older.number) < body.index(newer.number)
    assert preparing.number not in body
    assert 'class="row overdue"' in body  # the old one is past the 60-minute target
    fragment = client.get("/store/IST-KDK/packages?tab=preparing", headers=HX)
    text = fragment.get_data(as_text=True)
    assert "HX-Request" in fragment.headers["Vary"] and "<html" not in text
    assert text.lstrip().startswith('<section id="queue"')
    assert preparing.number in text and newer.number not in text


def test_queue_search_finds_by_order_package_barcode_and_customer_in_every_state(app, client):
    store = store_with_staff()
    target = make_package("packed", location=store, items=[("SCARF-RED", 1)])
    target.order.customer_name = "Zeynep Kaya"
    other = make_package("waiting", location=store, items=[("HAT-BLUE", 1)])
    db.session.commit()
    barcode = target.items[0].product.barcode_values[0]
    login(client)
    for term in (target.order.number, target.number, barcode, "zeynep"):
        body = client.get("/store/IST-KDK/packages", query_string={"q": term}, headers=HX).get_data(as_text=True)
        assert target.number in body, term
        assert other.number not in body, term
    body = client.get("/store/IST-KDK/packages?q=nothing-like-this").get_data(as_text=True)
    assert "Nothing matches" in body
    for wildcard in ("%", "_"):  # typed characters, not SQL patterns
        body = client.get("/store/IST-KDK/packages", query_string={"q": wildcard}).get_data(as_text=True)
        assert "Nothing matches" in body, wildcard


def test_queue_is_paginated(app, client):
    store = store_with_staff()
    for n in range(27):
        make_package("waiting", location=store, items=[(f"SKU-{n}", 1)])
    login(client)
    first = client.get("/store/IST-KDK/packages").get_data(as_text=True)
    assert "Page 1 of 2" in first and first.count('id="package-row-') == 25
    second = client.get("/store/IST-KDK/packages?page=2").get_data(as_text=True)
    assert second.count('id="package-row-') == 2 and ">Previous</a>" in second and ">Next</a>" not in second
    for nonsense in ("0", "-1", "abc", "9" * 30):  # never a database error
        response = client.get(f"/store/IST-KDK/packages?page={nonsense}")
        assert response.status_code == 200 and "Page 1 of 2" in response.get_data(as_text=True), nonsense
    assert client.get("/store/IST-KDK/packages/new?since=" + "9" * 30, headers=HX).status_code == 200


def test_new_badge_counts_packages_that_arrived_since_the_page_was_drawn(app, client):
    store = store_with_staff()
    first = make_package("waiting", location=store)
    login(client)
    quiet = client.get(f"/store/IST-KDK/packages/new?since={first.id}", headers=HX)
    assert quiet.status_code == 200 and b"new</a>" not in quiet.data
    assert b'hx-trigger="every 15s"' in quiet.data
    make_package("waiting", location=store)
    make_package("waiting", location=store)
    badge = client.get(f"/store/IST-KDK/packages/new?since={first.id}", headers=HX)
    assert b"2 new" in badge.data and "HX-Request" in badge.headers["Vary"]
    # Without htmx there is nothing to poll: go to the queue.
    plain = client.get(f"/store/IST-KDK/packages/new?since={first.id}")
    assert plain.status_code == 303 and plain.headers["Location"].endswith("/store/IST-KDK/packages")


def test_the_badge_polls_at_the_configured_interval_and_replaces_only_itself(app, client, monkeypatch):
    store = store_with_staff()
    make_package("waiting", location=store)
    login(client)
    monkeypatch.setitem(app.config, "STORE_POLL_SECONDS", 2)
    for url in ("/store/IST-KDK/", "/store/IST-KDK/packages", "/store/IST-KDK/packages/new?since=0"):
        body = client.get(url, headers=HX).get_data(as_text=True)
        badge = re.search(r'<span id="new-badge"[^>]*>', body).group(0)
        # Inside the queue, the poll must not inherit the queue's hx-target (it blanked the list).
        assert 'hx-trigger="every 2s"' in badge and 'hx-target="this"' in badge, url


def test_store_pages_are_never_kept_by_the_browser_or_htmx(app, client):
    store = store_with_staff()
    package = make_package("waiting", location=store)
    login(client)
    for url in ("/store/IST-KDK/", "/store/IST-KDK/packages", f"/store/IST-KDK/packages/{package.id}",
                "/store/IST-KDK/transfers"):
        page = client.get(url)
        assert "no-store" in page.headers["Cache-Control"], url
        assert re.search(r'<body[^>]* hx-history="false"', page.get_data(as_text=True)), url
        assert "no-store" in client.get(url, headers=HX).headers["Cache-Control"], url
    assert "no-store" in client.get("/store/").headers["Cache-Control"]


def test_new_badge_ignores_other_stores_work(app, client):
    store_with_staff()
    elsewhere = factories.location("ANK-01")
    db.session.commit()
    make_package("waiting", location=elsewhere)
    login(client)
    badge = client.get("/store/IST-KDK/packages/new?since=0", headers=HX)
    assert b"new</a>" not in badge.data


def test_staff_cannot_open_another_stores_home_queue_or_badge(app, client):
    store_with_staff()
    factories.location("ANK-01")
    db.session.commit()
    login(client)
    for url in ("/store/ANK-01/", "/store/ANK-01/packages", "/store/ANK-01/packages/new?since=0",
                "/store/ANK-01/transfers", "/store/NOPE/"):
        assert client.get(url).status_code == 404, url
        assert client.get(url, headers=HX).status_code == 404, url


def test_picker_lists_only_my_stores_and_one_store_goes_straight_home(app, client):
    one = factories.location("IST-01", name="First")
    two = factories.location("IST-02", name="Second")
    factories.location("ANK-01", name="Hidden")
    factories.user("ayse", "staff", [one, two])
    factories.user("mert", "staff", [one])
    db.session.commit()
    login(client, "ayse")
    body = client.get("/store/").get_data(as_text=True)
    assert "First" in body and "Second" in body and "Hidden" not in body
    client.post("/logout")
    login(client, "mert")
    response = client.get("/store/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/store/IST-01/")
