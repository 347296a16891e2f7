"""Which language a page speaks (SPEC §15): the user's choice, else the browser's, else the brand's."""

from __future__ import annotations

import re

from app.extensions import db
from app.models import User
from app.services.settings import put_setting
from tests import factories
from tests.factories import PASSWORD

TURKISH = "tr-TR,tr;q=0.9"
ENGLISH = "en-GB,en;q=0.9"


def lang_of(response) -> str:
    found = re.search(r'<html lang="([^"]+)"', response.get_data(as_text=True))
    assert found, "the page has no <html lang>"
    return found.group(1)


def sign_in(client, username: str, **headers):
    return client.post("/login", data={"username": username, "password": PASSWORD}, headers=headers)


def test_the_brand_setting_speaks_when_neither_the_user_nor_the_browser_chose(app, client):
    page = client.get("/login")
    assert lang_of(page) == "en" and "Sign in" in page.get_data(as_text=True)
    put_setting("LANGUAGE", "tr")
    page = client.get("/login")
    assert lang_of(page) == "tr"
    assert "Giriş yap" in page.get_data(as_text=True) and "Sign in" not in page.get_data(as_text=True)


def test_the_browser_beats_the_brand(app, client):
    put_setting("LANGUAGE", "en")
    page = client.get("/login", headers={"Accept-Language": TURKISH})
    assert lang_of(page) == "tr" and "Kullanıcı adı" in page.get_data(as_text=True)
    put_setting("LANGUAGE", "tr")
    page = client.get("/login", headers={"Accept-Language": ENGLISH})
    assert lang_of(page) == "en" and "Username" in page.get_data(as_text=True)
    # A browser asking only for languages we do not have falls back to the brand's.
    assert lang_of(client.get("/login", headers={"Accept-Language": "de-DE,fr;q=0.5"})) == "tr"


def test_the_users_own_choice_beats_the_browser_and_follows_them_to_every_device(app, client):
    store = factories.location("IST-01")
    factories.user("ayse", "staff", [store])
    db.session.commit()
    sign_in(client, "ayse", **{"Accept-Language": ENGLISH})
    home = client.get("/store/IST-01/", headers={"Accept-Language": ENGLISH})
    assert lang_of(home) == "en"
    switched = client.post("/language", data={"language": "tr", "next": "/store/IST-01/"},
                           headers={"Accept-Language": ENGLISH})
    assert switched.status_code == 303 and switched.headers["Location"] == "/store/IST-01/"
    db.session.expire_all()
    assert db.session.scalar(db.select(User.language).where(User.username == "ayse")) == "tr"
    assert lang_of(client.get("/store/IST-01/", headers={"Accept-Language": ENGLISH})) == "tr"
    # Another device (a fresh browser with an English Accept-Language) reads the same choice.
    other = app.test_client()
    sign_in(other, "ayse", **{"Accept-Language": ENGLISH})
    assert lang_of(other.get("/store/IST-01/", headers={"Accept-Language": ENGLISH})) == "tr"


def test_a_choice_made_on_the_sign_in_page_holds_before_and_after_signing_in(app, client):
    factories.user("ayse", "staff", [factories.location("IST-01")])
    db.session.commit()
    client.post("/language", data={"language": "tr", "next": "/login"}, headers={"Accept-Language": ENGLISH})
    assert lang_of(client.get("/login", headers={"Accept-Language": ENGLISH})) == "tr"
    sign_in(client, "ayse", **{"Accept-Language": ENGLISH})
    assert lang_of(client.get("/store/IST-01/", headers={"Accept-Language": ENGLISH})) == "tr"


def test_an_unknown_language_changes_nothing_and_says_what_to_choose(app, client):
    factories.user("ayse", "staff", [factories.location("IST-01")])
    db.session.commit()
    sign_in(client, "ayse")
    response = client.post("/language", data={"language": "de", "next": "/store/IST-01/"}, follow_redirects=True)
    assert "Choose English or Türkçe" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(db.select(User.language).where(User.username == "ayse")) is None
    # A next that leaves the site is not followed.
    away = client.post("/language", data={"language": "tr", "next": "https://evil.example/"})
    assert away.status_code == 303 and away.headers["Location"] == "/"


def test_the_header_offers_the_other_language_in_its_own_words(app, client):
    english = client.get("/login", headers={"Accept-Language": ENGLISH}).get_data(as_text=True)
    assert 'value="tr" lang="tr"' in english and ">Türkçe</button>" in english
    turkish = client.get("/login", headers={"Accept-Language": TURKISH}).get_data(as_text=True)
    assert 'value="en" lang="en"' in turkish and ">English</button>" in turkish


def test_the_brand_language_setting_accepts_only_languages_we_have(app):
    import pytest

    from app.services.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as problem:
        put_setting("LANGUAGE", "de")
    assert "tr" in problem.value.details["value"]


def test_the_switch_stays_on_the_same_page_of_a_filtered_list(app, client):
    store = factories.location("IST-01")
    factories.user("root", "admin", [store])
    for n in range(60):
        factories.user(f"ali{n:02}", "staff", [store])
    db.session.commit()
    sign_in(client, "root")
    page = "/admin/users/?q=ali&page=2"
    html = client.get(page, headers={"Accept-Language": ENGLISH}).get_data(as_text=True)
    # The page itself names only its path (so it is the same for every page number) ...
    assert 'name="next" value="/admin/users/"' in html
    # ... and the browser's Referer (sent on a same-origin form post) brings the query back.
    switched = client.post("/language", data={"language": "tr", "next": "/admin/users/"},
                           headers={"Referer": "http://localhost" + page})
    assert switched.status_code == 303 and switched.headers["Location"] == page
    after = client.get(switched.headers["Location"])
    assert lang_of(after) == "tr" and "ali59" in after.get_data(as_text=True)
    assert "ali00" not in after.get_data(as_text=True)


def test_the_switch_takes_the_query_only_from_this_site_and_the_same_page(app, client):
    factories.user("root", "admin", [factories.location("IST-01")])
    db.session.commit()
    sign_in(client, "root")

    def back(referer: str | None, next_path: str = "/admin/users/") -> str:
        headers = {"Referer": referer} if referer else {}
        response = client.post("/language", data={"language": "tr", "next": next_path}, headers=headers)
        assert response.status_code == 303
        return response.headers["Location"]

    assert back(None) == "/admin/users/"
    assert back("https://evil.example/admin/users/?page=2") == "/admin/users/"
    assert back("http://localhost.evil.example/admin/users/?page=2") == "/admin/users/"
    assert back("http://localhost/admin/locations/?page=2") == "/admin/users/"  # another page's query
    assert back("javascript://localhost/admin/users/?page=2") == "/admin/users/"
    assert back("http://localhost/admin/users/") == "/admin/users/"
    assert back("http://localhost/admin/users/?page=3&q=%C5%9Fi%C5%9Fli") == "/admin/users/?page=3&q=%C5%9Fi%C5%9Fli"
    # A next that is not this site is still refused, Referer or not.
    assert back("http://localhost/admin/users/?page=2", "https://evil.example/") == "/"
