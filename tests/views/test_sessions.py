"""Sessions live on the server: signing out, a password reset or a role change ends them for every
copy of the cookie, and a session ends after its absolute lifetime however busy it is."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update

from app.extensions import db
from app.models import UserSession
from app.models.base import utcnow
from tests import factories
from tests.views.test_auth import login


def _copy_session_cookie(source, target) -> None:
    target.set_cookie("session", source.get_cookie("session").value)


def _sessions_of(user) -> int:
    db.session.rollback()  # see what the requests committed
    return db.session.scalar(select(func.count(UserSession.id)).where(UserSession.user_id == user.id))


def test_a_copied_session_cookie_stops_working_after_logout(app, client):
    factories.user("root", "admin")
    db.session.commit()
    login(client, "root")
    thief = app.test_client()
    _copy_session_cookie(client, thief)
    assert thief.get("/admin/").status_code == 200  # the copy works while the session lives

    assert client.post("/logout").status_code == 303
    response = thief.get("/admin/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_the_database_keeps_only_a_hash_of_the_session_id(app, client):
    root = factories.user("root", "admin")
    db.session.commit()
    login(client, "root")
    with client.session_transaction() as session:
        raw = session["sid"]
    stored = db.session.scalars(select(UserSession.token_hash).where(UserSession.user_id == root.id)).all()
    assert len(stored) == 1 and raw not in stored[0] and len(raw) >= 40


def test_signing_out_one_browser_leaves_the_others_signed_in(app, client):
    factories.user("root", "admin")
    db.session.commit()
    laptop = app.test_client()
    login(client, "root")
    login(laptop, "root")
    client.post("/logout")
    assert laptop.get("/admin/").status_code == 200
    assert client.get("/admin/").status_code == 302


def test_a_password_reset_ends_every_session_of_the_user(app, client):
    factories.user("root", "admin")
    ayse = factories.user("ayse", "supervisor")
    db.session.commit()
    tablet, copy = app.test_client(), app.test_client()
    login(tablet, "ayse")
    _copy_session_cookie(tablet, copy)
    login(client, "root")
    assert client.post(f"/admin/users/{ayse.id}/password", data={"password": "brand-new-secret"}).status_code == 303
    assert _sessions_of(ayse) == 0
    assert tablet.get("/supervisor/").status_code == 302
    assert copy.get("/supervisor/").status_code == 302
    assert client.get("/admin/").status_code == 200  # the admin's own session is untouched


def test_a_role_change_ends_the_users_sessions(app, client):
    store = factories.location("IST-01")
    factories.user("root", "admin")
    ayse = factories.user("ayse", "supervisor")
    db.session.commit()
    tablet = app.test_client()
    login(tablet, "ayse")
    login(client, "root")
    response = client.post(f"/admin/users/{ayse.id}/", data={"role": "staff", "locations": [store.code],
                                                               "active": "y"})
    assert response.status_code == 303
    assert _sessions_of(ayse) == 0
    assert tablet.get("/store/").status_code == 302


def test_a_session_ends_at_its_absolute_lifetime_even_when_active(app, client):
    factories.user("root", "admin")
    db.session.commit()
    login(client, "root")
    # Signed in just over the lifetime ago, and busy until a moment ago.
    db.session.execute(update(UserSession).values(
        created_at=utcnow() - timedelta(hours=app.config["SESSION_ABSOLUTE_HOURS"], minutes=1),
        last_seen_at=utcnow()))
    db.session.commit()
    response = client.get("/admin/")
    assert response.status_code == 302 and "expired=limit" in response.headers["Location"]
    assert "time limit" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert client.get("/admin/").status_code == 302  # and it stays ended


def test_use_keeps_a_session_alive_with_at_most_one_write_a_minute(app, client):
    factories.user("root", "admin")
    db.session.commit()
    login(client, "root")
    idle = app.config["SESSION_IDLE_MINUTES"]
    almost_idle = utcnow() - timedelta(minutes=idle - 1)
    db.session.execute(update(UserSession).values(last_seen_at=almost_idle))
    db.session.commit()
    assert client.get("/admin/").status_code == 200
    db.session.rollback()
    seen = db.session.scalar(select(UserSession.last_seen_at))
    assert seen > utcnow() - timedelta(minutes=1)  # the idle clock starts again

    assert client.get("/admin/").status_code == 200
    db.session.rollback()
    assert db.session.scalar(select(UserSession.last_seen_at)) == seen  # no write within the minute
