"""Usernames are one name whatever their capitals: "Ayse", "AYSE" and "ayse" sign in to the same
account (on the web and for a CLI token), count towards the same throttle, and an admin cannot make
a second account whose name differs only by capitals (docs/decisions.md, migration 0028)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import LoginFailure, User
from app.models.users import username_key
from app.services.users import LoginError, authenticate
from tests import factories
from tests.views.test_admin_users import admin  # noqa: F401 — the signed-in admin fixture
from tests.views.test_auth import login


@pytest.mark.parametrize("typed", ["Ayse", "AYSE", "ayse", "  aYsE "])
def test_any_capitals_sign_in_to_the_one_account(app, client, typed):
    factories.user("Ayse", "supervisor")
    db.session.commit()
    response = login(client, typed)
    assert response.status_code == 303 and response.headers["Location"].endswith("/supervisor/")
    assert client.get("/supervisor/").status_code == 200
    db.session.rollback()
    assert db.session.scalar(select(User.last_login_at).where(User.username == "Ayse")) is not None


def test_turkish_capitals_and_dotted_or_dotless_i_are_the_same_name(app, client):
    factories.user("Işık", "supervisor")
    db.session.commit()
    for typed in ("IŞIK", "ışık", "işik", "İŞİK"):
        other = app.test_client()
        assert login(other, typed).status_code == 303, typed
    assert login(app.test_client(), "isik").status_code == 401  # ş is another letter
    assert username_key("isik") != username_key("Işık")


def test_a_wrong_password_in_other_capitals_counts_against_the_same_account(app, client):
    factories.user("Ayse", "staff", [factories.location("IST-01")])
    db.session.commit()
    limit = app.config["LOGIN_MAX_FAILURES"]
    for i in range(limit):
        assert login(client, ("AYSE", "ayse", "Ayse")[i % 3], "wrong-password-xx").status_code == 401
    # Held back now, even with the right password and yet other capitals.
    assert login(client, "aYSE").status_code == 429
    db.session.rollback()
    assert set(db.session.scalars(select(LoginFailure.username))) == {"ayse"}


def test_a_right_sign_in_clears_the_failures_typed_in_other_capitals(app):
    factories.user("Ayse", "admin")
    db.session.commit()
    with pytest.raises(LoginError):
        authenticate("AYSE", "wrong-password-xx", "198.51.100.1")
    assert authenticate("ayse", factories.PASSWORD, "198.51.100.1").username == "Ayse"
    assert db.session.scalar(select(func.count(LoginFailure.id))) == 0


@pytest.mark.parametrize("name", ["ROOT", "Root", "root "])
def test_an_admin_cannot_create_a_user_differing_only_by_capitals(app, admin, name):  # noqa: F811
    response = admin.post("/admin/users/new", data={"username": name, "role": "admin", "password": "long-enough-pw"},
                          headers={"HX-Request": "true"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    if name.strip() == "root":
        assert "already exists" in page
    else:
        assert "is taken: the user &#39;root&#39; already exists" in page and "capital letters" in page
    db.session.rollback()
    assert db.session.scalar(select(func.count(User.id))) == 1


def test_the_refusal_is_in_turkish_on_a_turkish_page(app, admin):  # noqa: F811
    admin.post("/language", data={"language": "tr"})
    response = admin.post("/admin/users/new", data={"username": "ROOT", "role": "admin",
                                                    "password": "long-enough-pw"}, headers={"HX-Request": "true"})
    assert response.status_code == 422
    assert "büyük harf" in response.get_data(as_text=True)


def test_the_database_refuses_a_second_name_in_other_capitals(app):
    factories.user("Ayse", "admin")
    db.session.commit()
    with pytest.raises(IntegrityError):
        factories.user("AYSE", "admin")
    db.session.rollback()


def test_cli_token_for_a_username_in_other_capitals_is_the_users(app):
    factories.user("Ayse", "admin")
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["tokens", "create", "AYSE"])
    assert result.exit_code == 0, result.output
    raw = result.output.strip().splitlines()[-1]
    me = app.test_client().get("/api/v1/me", headers={"Authorization": f"Token {raw}"})
    assert me.status_code == 200 and me.get_json()["username"] == "Ayse"


def test_a_held_back_sign_in_is_told_in_turkish_on_a_turkish_page(app, client):
    factories.user("Ayse", "staff", [factories.location("IST-01")])
    db.session.commit()
    client.post("/language", data={"language": "tr"})
    for _attempt in range(app.config["LOGIN_MAX_FAILURES"]):
        login(client, "ayse", "wrong-password-xx")
    response = login(client, "AYSE")
    assert response.status_code == 429
    page = response.get_data(as_text=True)
    assert "Çok fazla başarısız deneme oldu." in page and "Too many failed" not in page
