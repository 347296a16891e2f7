"""API tokens: created by the CLI, stored hashed, acting as their user with the user's scope."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import ApiToken
from app.services.users import revoke_token
from tests import factories


def test_token_created_by_cli_authenticates_and_is_stored_hashed(app):
    store = factories.location("IST-KDK")
    factories.user("ayse", "staff", [store])
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["tokens", "create", "ayse"])
    assert result.exit_code == 0
    raw = result.output.strip()
    assert raw.startswith("pkl_") and "\n" not in raw
    stored = db.session.scalar(select(ApiToken))
    assert raw not in (stored.token_hash, stored.prefix)
    response = app.test_client().get("/api/v1/me", headers={"Authorization": f"Token {raw}"})
    assert response.status_code == 200
    assert response.get_json() == {"username": "ayse", "role": "staff", "locations": ["IST-KDK"]}


def test_missing_malformed_invalid_and_revoked_tokens_get_401(app, client):
    factories.user("erp", "admin")
    db.session.commit()
    raw = factories.api_token("erp")
    for header in (None, "Bearer " + raw, "Token ", "Token pkl_not-a-real-token"):
        headers = {"Authorization": header} if header else {}
        response = client.get("/api/v1/me", headers=headers)
        assert response.status_code == 401
        assert set(response.get_json()["error"]) == {"code", "message", "details"}
    token = db.session.scalar(select(ApiToken))
    revoke_token(token.id)
    db.session.commit()
    assert client.get("/api/v1/me", headers={"Authorization": f"Token {raw}"}).status_code == 401


def test_token_of_a_disabled_user_stops_working(app, client):
    user = factories.user("erp", "admin")
    db.session.commit()
    raw = factories.api_token("erp")
    assert client.get("/api/v1/me", headers={"Authorization": f"Token {raw}"}).status_code == 200
    user.active = False
    db.session.commit()
    assert client.get("/api/v1/me", headers={"Authorization": f"Token {raw}"}).status_code == 401


def test_supervisor_token_with_a_subset_carries_that_scope(app, client):
    a, b = factories.location("A"), factories.location("B")
    factories.location("C")
    factories.user("sup", "supervisor", [a, b])
    factories.user("boss", "supervisor")
    db.session.commit()
    scoped = client.get("/api/v1/me", headers={"Authorization": f"Token {factories.api_token('sup')}"}).get_json()
    assert scoped["locations"] == ["A", "B"]
    everything = client.get("/api/v1/me", headers={"Authorization": f"Token {factories.api_token('boss')}"}).get_json()
    assert everything["locations"] is None


def test_api_errors_are_json_not_html(app, client):
    factories.user("erp", "admin")
    db.session.commit()
    raw = factories.api_token("erp")
    response = client.get("/api/v1/nothing-here", headers={"Authorization": f"Token {raw}"})
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"
