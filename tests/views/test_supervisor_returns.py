"""Supervisor screens for customer returns: the list with its filters (state, location, channel,
where it came from, the day it was opened, a Turkish-aware text search), one return with its
items, reasons, inspection outcome, state log and ledger rows — and nothing of a location the
supervisor does not look after (404)."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import update

from app.extensions import db
from app.models.returns import Return
from app.services.returns import FinishedLine, create_return, finish_receiving
from tests import factories
from tests.factories import PASSWORD
from tests.services.builders import make_package, staff

TURKISH = {"Accept-Language": "tr-TR,tr;q=0.9"}


def _return(location, sku="SKU-A", channel=None, customer="Ayse Yilmaz", source="api", opened=None):
    package = make_package("delivered", items=((sku, 2),), location=location, channel=channel, spare=0)
    package.order.customer_name = customer
    db.session.commit()
    ret = create_return({"order": package.order_id, "location": location.code,
                         "items": [{"sku": sku, "quantity": 2, "reason": "Too small"}]}, staff(location), source=source)
    if opened is not None:
        db.session.execute(update(Return).where(Return.id == ret.id).values(created_at=opened))
        db.session.commit()
    return ret


def _world():
    north, south = factories.location("NORTH"), factories.location("SOUTH")
    factories.channel("shop", name="Online shop")
    factories.user("nadia", "supervisor", [north])  # looks after NORTH only
    factories.user("root", "admin")
    db.session.commit()
    returns = {
        "web": _return(north, "SKU-A", customer="Şahin Kılıç", opened=datetime(2026, 11, 2, 10)),
        "shop": _return(north, "SKU-B", channel="shop", customer="Ayse Yilmaz", source="counter",
                        opened=datetime(2026, 11, 20, 10)),
        "south": _return(south, "SKU-C", customer="Zeynep Ak", opened=datetime(2026, 11, 10, 10)),
    }
    return north, south, returns


def _login(client, username):
    assert client.post("/login", data={"username": username, "password": PASSWORD}).status_code in (302, 303)


def _listed(client, **args) -> list[str]:
    response = client.get("/supervisor/returns/", query_string=args)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return re.findall(r'data-return="([^"]+)"', response.get_data(as_text=True))


def test_a_supervisor_sees_only_the_returns_of_their_locations(app, client):
    _north, _south, r = _world()
    _login(client, "nadia")
    assert sorted(_listed(client)) == sorted([r["web"].number, r["shop"].number])
    assert client.get(f"/supervisor/returns/{r['south'].id}/").status_code == 404
    assert client.get(f"/supervisor/returns/{r['web'].id}/").status_code == 200
    assert client.get("/supervisor/returns/99999999999/").status_code == 404
    # Another location's code as a filter is not a way in: it is refused like an unknown one.
    refused = client.get("/supervisor/returns/", query_string={"location": "SOUTH"})
    assert refused.status_code == 422 and r["south"].number not in refused.get_data(as_text=True)
    client.post("/logout")
    _login(client, "root")
    assert len(_listed(client)) == 3
    db.session.rollback()
    factories.user("ayse", "staff", [factories.location("SHOP-9")])
    db.session.commit()
    client.post("/logout")
    _login(client, "ayse")
    assert client.get("/supervisor/returns/").status_code == 403


def test_the_filters_narrow_the_list(app, client):
    _north, _south, r = _world()
    _login(client, "root")
    assert _listed(client, location="SOUTH") == [r["south"].number]
    assert _listed(client, channel="shop") == [r["shop"].number]
    assert _listed(client, source="counter") == [r["shop"].number]
    assert sorted(_listed(client, state="requested")) == sorted(n.number for n in r.values())
    assert _listed(client, state="restocked") == []
    assert _listed(client, **{"from": "2026-11-05", "to": "2026-11-15"}) == [r["south"].number]
    assert _listed(client, **{"from": "2026-11-15"}) == [r["shop"].number]
    # Text: the customer's name Turkish-aware, the order number and the return number in any case
    assert _listed(client, q="sahin") == [r["web"].number]
    assert _listed(client, q="ŞAHİN kılıç") == [r["web"].number]
    assert _listed(client, q=r["south"].order.number.lower()) == [r["south"].number]
    assert _listed(client, q=r["shop"].number.lower()) == [r["shop"].number]
    # Newest first
    assert _listed(client) == [r["shop"].number, r["south"].number, r["web"].number]


def test_bad_filters_are_named_and_show_no_rows(app, client):
    _world()
    _login(client, "root")
    for args, field in (({"state": "lost"}, "filter-state"), ({"from": "2026-13-01"}, "filter-from"),
                        ({"from": "2026-11-20", "to": "2026-11-01"}, "filter-to"),
                        ({"source": "x"}, "filter-source"), ({"channel": "nope"}, "filter-channel"),
                        ({"page": "9" * 5000}, None)):
        response = client.get("/supervisor/returns/", query_string=args)
        body = response.get_data(as_text=True)
        if field is None:
            assert response.status_code == 200
            continue
        assert response.status_code == 422, args
        assert 'role="alert"' in body and "data-return=" not in body, args
    # NUL is refused before any screen reads its filters (tests/views/test_nul_characters.py).
    assert client.get("/supervisor/returns/", query_string={"q": "a\x00b"}).status_code == 400


def test_the_return_page_shows_items_outcome_log_and_ledger_in_turkish(app, client):
    north, _south, r = _world()
    ret = r["web"]
    finish_receiving(ret.id, [FinishedLine("SKU-A", 2, 1, "Stain on the front")], staff(north))
    _login(client, "nadia")
    page = client.get(f"/supervisor/returns/{ret.id}/", headers={"Accept-Language": "en"})
    html = page.get_data(as_text=True)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    assert page.status_code == 200
    assert "Too small" in text and "Stain on the front" in text and "Şahin Kılıç" in text
    assert "Inspection: 1 back on the shelf, 1 written off as damaged." in text
    assert 'data-reason="return_restock"' in html and 'data-reason="write_off"' in html
    assert re.search(r"Requested → Received", text) and "Restocked" in text
    home = client.get("/supervisor/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert 'href="/supervisor/returns/"' in home  # in the supervisor's navigation

    turkish = client.get(f"/supervisor/returns/{ret.id}/", headers=TURKISH).get_data(as_text=True)
    words = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", turkish))
    for english in ("Inspection:", "Back on the shelf", "Items", "History", "Came from", "Written off"):
        assert english not in words, english
    listing = client.get("/supervisor/returns/", headers=TURKISH).get_data(as_text=True)
    assert "Customer returns" not in listing and "All states" not in listing


def test_a_supervisor_cancels_a_return_that_will_not_come_back_with_a_reason(app, client):
    north, south, returns = _world()
    _login(client, "nadia")
    ret = returns["web"]
    page = client.get(f"/supervisor/returns/{ret.id}/").get_data(as_text=True)
    assert 'id="cancel-return"' in page and "data-confirm=" in page

    missing = client.post(f"/supervisor/returns/{ret.id}/cancel", data={"reason": " ", "version": ret.version})
    assert missing.status_code == 422
    db.session.rollback()  # a fresh read (SQLite keeps the old snapshot)
    assert db.session.get(Return, ret.id).state == "requested"  # changed nothing

    stale = client.post(f"/supervisor/returns/{ret.id}/cancel", data={"reason": "Kept it", "version": ret.version + 5})
    assert stale.status_code == 409 and 'id="return-error"' in stale.get_data(as_text=True)
    for version in ("", "abc"):  # no version is no check: refused like a stale page
        blind = client.post(f"/supervisor/returns/{ret.id}/cancel", data={"reason": "Kept it", "version": version})
        assert blind.status_code == 409

    done = client.post(f"/supervisor/returns/{ret.id}/cancel", data={"reason": "Customer kept it",
                                                                     "version": ret.version})
    assert done.status_code == 303
    db.session.rollback()
    assert db.session.get(Return, ret.id).state == "cancelled"
    after = client.get(f"/supervisor/returns/{ret.id}/").get_data(as_text=True)
    assert "Customer kept it" in after and 'id="cancel-return"' not in after  # no second cancel offered

    other = returns["south"]  # another location's return: not this supervisor's to cancel
    assert client.post(f"/supervisor/returns/{other.id}/cancel", data={"reason": "x", "version": 1}).status_code == 404
    db.session.rollback()
    assert db.session.get(Return, other.id).state == "requested"
