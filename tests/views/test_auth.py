"""Sign-in, sign-out, the role-aware landing page and session safety."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import update

from app.extensions import db
from app.models import LoginFailure, UserSession
from app.models.base import utcnow
from tests import factories
from tests.factories import PASSWORD


def login(client, username, password=PASSWORD):
    return client.post("/login", data={"username": username, "password": password})


def signed_in_admin(client, username: str = "root"):
    """`client` signed in as a new admin `username`."""
    factories.user(username, "admin")
    db.session.commit()
    login(client, username)
    return client


def test_each_role_lands_on_its_own_screen(app, client):
    store = factories.location("IST-KDK")
    factories.user("ayse", "staff", [store])
    factories.user("sup", "supervisor")
    factories.user("root", "admin")
    db.session.commit()
    for username, landing in (("ayse", "/store/"), ("sup", "/supervisor/"), ("root", "/admin/")):
        response = login(client, username)
        assert response.status_code == 303 and response.headers["Location"] == landing
        client.post("/logout")
    login(client, "ayse")
    home = client.get("/store/", follow_redirects=True)
    assert b"IST-KDK" in home.data


def test_wrong_password_unknown_user_and_disabled_user_get_the_same_message(app, client):
    factories.user("ayse", "admin")
    factories.user("gone", "admin", active=False)
    db.session.commit()
    bodies = []
    for username, password in (("ayse", "wrong-password"), ("nobody", PASSWORD), ("gone", PASSWORD)):
        response = login(client, username, password)
        assert response.status_code == 401
        bodies.append(re.search(rb'role="alert">([^<]+)<', response.data).group(1))
    assert len(set(bodies)) == 1
    assert client.get("/admin/").status_code == 302  # still signed out


def test_logout_ends_the_session(app, client):
    factories.user("root", "admin")
    db.session.commit()
    login(client, "root")
    assert client.get("/admin/").status_code == 200
    assert client.post("/logout").status_code == 303
    assert client.get("/admin/").status_code == 302


def test_session_is_rotated_at_login(app, client):
    factories.user("root", "admin")
    db.session.commit()
    with client.session_transaction() as session:
        session["planted"] = "by-an-attacker"
    login(client, "root")
    with client.session_transaction() as session:
        assert "planted" not in session
        assert "_user_id" in session


def test_changing_session_version_signs_out_existing_sessions(app, client):
    user = factories.user("root", "admin")
    db.session.commit()
    login(client, "root")
    user.session_version += 1
    db.session.commit()
    assert client.get("/admin/").status_code == 302


def test_login_is_throttled_per_account(app, client):
    factories.user("ayse", "admin")
    db.session.commit()
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert login(client, "ayse", "nope-nope").status_code == 401
    assert login(client, "ayse").status_code == 429  # even the right password waits
    assert db.session.query(LoginFailure).count() == app.config["LOGIN_MAX_FAILURES"]


def test_post_without_csrf_token_is_refused(app, csrf_client):
    factories.user("root", "admin")
    db.session.commit()
    response = csrf_client.post("/login", data={"username": "root", "password": PASSWORD})
    assert response.status_code == 400
    assert b"Reload the page" in response.data
    page = csrf_client.get("/login").data.decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    ok = csrf_client.post("/login", data={"username": "root", "password": PASSWORD, "csrf_token": token})
    assert ok.status_code == 303


def test_staff_cannot_open_supervisor_or_admin_or_another_store(app, client):
    mine, other = factories.location("IST-KDK"), factories.location("ANK-KZL")
    factories.user("ayse", "staff", [mine])
    db.session.commit()
    login(client, "ayse")
    assert client.get("/supervisor/").status_code == 403
    assert client.get("/admin/").status_code == 403
    assert client.get(f"/store/{other.code}/").status_code == 404
    assert client.get(f"/store/{mine.code}/").status_code == 200


def test_security_headers_and_cookie_flags(app, client):
    factories.user("root", "admin")
    db.session.commit()
    response = login(client, "root")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    page = client.get("/admin/")
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in page.headers["Content-Security-Policy"]
    assert page.headers["X-Content-Type-Options"] == "nosniff"


def test_idle_session_expires(app, client):
    factories.user("root", "admin")
    db.session.commit()
    login(client, "root")
    db.session.execute(update(UserSession).values(
        last_seen_at=utcnow() - timedelta(minutes=app.config["SESSION_IDLE_MINUTES"] + 1)))
    db.session.commit()
    response = client.get("/admin/")
    assert response.status_code == 302 and "expired=1" in response.headers["Location"]
    assert "inactivity" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_health_reports_database_and_redis(app, client, redis_server):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["checks"] == {"database": "ok", "redis": "ok"}
    redis_server.stop()
    try:
        response = client.get("/healthz")
        assert response.status_code == 503
        assert response.get_json()["checks"]["redis"].startswith("error")
    finally:
        redis_server.start()


def test_signing_in_again_ends_the_earlier_session_so_a_copied_cookie_dies_at_logout(app, live_server):
    """Over real HTTP: the cookie copied before the second sign-in named a session of its own;
    signing in again ends it on the server, so after logout no copy of any cookie still works."""
    import requests

    factories.user("root", "admin")
    db.session.commit()
    browser = requests.Session()
    credentials = {"username": "root", "password": PASSWORD}
    assert browser.post(f"{live_server}/login", data=credentials, allow_redirects=False).status_code == 303
    copied = browser.cookies.get("session")
    assert requests.get(f"{live_server}/admin/", cookies={"session": copied}, allow_redirects=False).status_code == 200

    assert browser.post(f"{live_server}/login", data=credentials, allow_redirects=False).status_code == 303
    assert browser.post(f"{live_server}/logout", allow_redirects=False).status_code == 303

    stolen = requests.get(f"{live_server}/admin/", cookies={"session": copied}, allow_redirects=False)
    assert stolen.status_code == 302 and "/login" in stolen.headers["Location"]
    db.session.rollback()
    assert db.session.query(UserSession).count() == 0
