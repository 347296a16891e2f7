"""Users: create, change role and locations, reset password (signs out), deactivate; API tokens are
shown once, stored hashed and revocable."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import ApiToken, User
from tests import factories
from tests.services.builders import row_counts
from tests.views.test_auth import login


@pytest.fixture
def admin(app, client):
    factories.location("IST-01")
    factories.location("ANK-01")
    factories.user("root", "admin")
    db.session.commit()
    login(client, "root")
    return client


def _user(username: str) -> User:
    db.session.rollback()
    return db.session.scalar(select(User).where(User.username == username))


def test_admin_creates_a_staff_user_for_a_location(admin):
    response = admin.post("/admin/users/new", data={"username": "ayse", "role": "staff", "locations": ["IST-01"],
                                                    "password": "long-enough-pw"})
    assert response.status_code == 303
    user = _user("ayse")
    assert user.role == "staff" and [loc.code for loc in user.locations] == ["IST-01"]


@pytest.mark.parametrize(("data", "message"), [
    ({"username": "ayse", "role": "staff", "password": "long-enough-pw"}, "Staff users need at least one location."),
    ({"username": "ayse", "role": "staff", "locations": ["IST-01"], "password": "short"}, "Use at least 12 characters."),
    ({"username": "ayse", "role": "admin", "password": "12345678"}, "Use at least 12 characters."),
    ({"username": "ayse", "role": "admin", "password": "password1234"}, "This password is too common; choose another."),
    ({"username": "ayse", "role": "admin", "password": "aaaaaaaaaaaa"}, "This password is too easy to guess"),
    ({"username": "root", "role": "admin", "password": "long-enough-pw"}, "already exists"),
    ({"username": "", "role": "admin", "password": "long-enough-pw"}, "This field is required."),
])
def test_user_form_errors_are_shown_in_place_and_nothing_is_written(admin, data, message):
    db.session.rollback()
    before = row_counts()
    response = admin.post("/admin/users/new", data=data, headers={"HX-Request": "true"})
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    db.session.rollback()
    assert row_counts() == before


def test_changing_role_and_locations_or_deactivating_signs_the_user_out(app, admin):
    ayse = factories.user("ayse", "staff", [db.session.scalar(select(factories.StockLocation))])
    db.session.commit()
    other = app.test_client()
    login(other, "ayse")
    assert other.get("/store/").status_code in (200, 302)
    response = admin.post(f"/admin/users/{ayse.id}/", data={"role": "supervisor", "locations": ["ANK-01"],
                                                            "active": "y"})
    assert response.status_code == 303
    changed = _user("ayse")
    assert changed.role == "supervisor" and [loc.code for loc in changed.locations] == ["ANK-01"]
    assert other.get("/supervisor/").status_code == 302  # signed out: must sign in again
    response = admin.post(f"/admin/users/{ayse.id}/", data={"role": "supervisor", "locations": ["ANK-01"]})
    assert response.status_code == 303 and _user("ayse").active is False
    assert login(other, "ayse").status_code == 401


def test_staff_without_locations_is_refused_on_edit(admin):
    ayse = factories.user("ayse", "staff", [db.session.scalar(select(factories.StockLocation))])
    db.session.commit()
    response = admin.post(f"/admin/users/{ayse.id}/", data={"role": "staff", "active": "y"},
                          headers={"HX-Request": "true"})
    assert response.status_code == 422 and "Staff users need at least one location." in response.get_data(as_text=True)
    assert [loc.code for loc in _user("ayse").locations] == ["IST-01"]


def test_password_reset_sets_the_new_password_and_ends_old_sessions(app, admin):
    ayse = factories.user("sup2", "supervisor")
    db.session.commit()
    version = ayse.session_version
    other = app.test_client()
    login(other, "sup2")
    assert other.get("/supervisor/").status_code == 200
    short = admin.post(f"/admin/users/{ayse.id}/password", data={"password": "short"}, headers={"HX-Request": "true"})
    assert short.status_code == 422 and "Use at least 12 characters." in short.get_data(as_text=True)
    common = admin.post(f"/admin/users/{ayse.id}/password", data={"password": "iloveyou1234"})
    assert common.status_code == 422 and "too common" in common.get_data(as_text=True)
    assert _user("sup2").session_version == version
    assert admin.post(f"/admin/users/{ayse.id}/password", data={"password": "brand-new-secret"}).status_code == 303
    assert _user("sup2").session_version == version + 1
    assert other.get("/supervisor/").status_code == 302
    assert login(other, "sup2", "brand-new-secret").status_code == 303


def test_api_token_is_shown_once_works_and_can_be_revoked(app, admin):
    bot = factories.user("erp", "admin")
    db.session.commit()
    empty = admin.post(f"/admin/users/{bot.id}/tokens", data={"name": ""}, headers={"HX-Request": "true"})
    assert empty.status_code == 422
    response = admin.post(f"/admin/users/{bot.id}/tokens", data={"name": "ERP sync"}, headers={"HX-Request": "true"})
    assert response.status_code == 201
    raw = re.search(r"data-new-token>([^<]+)<", response.get_data(as_text=True)).group(1)
    assert raw.startswith("pkl_")
    page = admin.get(f"/admin/users/{bot.id}/").get_data(as_text=True)
    assert raw not in page and "ERP sync" in page and raw[:10] in page
    db.session.rollback()
    token = db.session.scalar(select(ApiToken).where(ApiToken.user_id == bot.id))
    assert raw not in (token.token_hash, token.prefix)
    assert _token_works(app, raw)
    db.session.rollback()  # SQLite cannot upgrade a read transaction older than the requests' writes
    spare = factories.api_token("erp")  # a second integration of the same user
    assert admin.post(f"/admin/users/{bot.id}/tokens/{token.id}/revoke").status_code == 303
    assert not _token_works(app, raw)
    assert _token_works(app, spare), "revoking one token must leave the user's other tokens working"


def _token_works(app, raw: str) -> bool:
    status = app.test_client().get("/api/v1/locations", headers={"Authorization": f"Token {raw}"}).status_code
    assert status in (200, 401)
    return status == 200


def test_a_token_of_another_user_cannot_be_revoked_through_this_user(app, admin):
    a = factories.user("a1", "admin")
    b = factories.user("b1", "admin")
    db.session.commit()
    raw = factories.api_token("b1")
    token = db.session.scalar(select(ApiToken).where(ApiToken.user_id == b.id))
    assert admin.post(f"/admin/users/{a.id}/tokens/{token.id}/revoke").status_code == 404
    db.session.rollback()
    assert db.session.get(ApiToken, token.id).revoked_at is None
    assert _token_works(app, raw)
