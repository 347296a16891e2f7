"""Pages are never stored by browsers or proxies (the new-token page above all); production adds
HSTS; static files keep their own caching."""

from __future__ import annotations

import secrets

import pytest

from app import create_app
from app.config import TestConfig
from app.extensions import db
from tests import factories


def _signed_in_admin(client):
    factories.user("boss", "admin")
    db.session.commit()
    client.post("/login", data={"username": "boss", "password": factories.PASSWORD})


def test_the_page_that_shows_a_new_token_is_never_stored(app, client):
    _signed_in_admin(client)
    user = factories.user("erp", "admin")
    db.session.commit()
    response = client.post(f"/admin/users/{user.id}/tokens", data={"name": "ERP"})
    assert response.status_code == 201 and "pkl_" in response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    assert "Strict-Transport-Security" not in response.headers  # not in development or tests


def test_pages_are_not_stored_but_static_files_are_cacheable(app, client):
    assert client.get("/login").headers["Cache-Control"] == "no-store"
    static = client.get("/static/css/app.css")
    assert static.status_code == 200 and static.headers.get("Cache-Control") != "no-store"


@pytest.fixture
def production_app(app):
    class ProductionConfig(TestConfig):
        ENV_NAME = "production"
        SECRET_KEY = secrets.token_urlsafe(48)
        SQLALCHEMY_DATABASE_URI = app.config["SQLALCHEMY_DATABASE_URI"]
        REDIS_URL = app.config["REDIS_URL"]

    other = create_app(ProductionConfig)
    yield other
    with other.app_context():
        db.engine.dispose()


def test_production_tells_browsers_to_use_https_only(production_app):
    response = production_app.test_client().get("/login", base_url="https://oms.example.com")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
