"""Paged answers link to the next page without trusting the Host header: a forged Host can never
put another site's address into a link the server hands out."""

from __future__ import annotations

import pytest

from tests import factories
from tests.api.test_bad_input_regressions import auth

EVIL = {"Host": "evil.example"}


@pytest.fixture
def two_pages(app):
    for n in range(3):
        factories.channel(f"ch-{n}")
    return auth("boss")


@pytest.fixture
def config(app):
    keys = ("ENV_NAME", "PUBLIC_URL", "TRUSTED_HOSTS")
    saved = {k: app.config.get(k) for k in keys}
    yield app.config
    app.config.update(saved)


def _next(client, headers, extra=None):
    response = client.get("/api/v1/channels?page_size=2", headers={**headers, **(extra or {})})
    return response.status_code, (response.get_json() or {}).get("next")


def test_production_without_a_public_url_links_relatively(client, two_pages, config):
    config.update(ENV_NAME="production", PUBLIC_URL=None, TRUSTED_HOSTS=None)
    status, link = _next(client, two_pages, EVIL)
    assert status == 200 and link.startswith("/api/v1/channels?") and "evil" not in link


def test_a_public_url_is_used_whatever_the_host_header_says(client, two_pages, config):
    config.update(ENV_NAME="production", PUBLIC_URL="https://oms.example.com/", TRUSTED_HOSTS=None)
    status, link = _next(client, two_pages, EVIL)
    assert status == 200 and link.startswith("https://oms.example.com/api/v1/channels?")


def test_trusted_hosts_refuse_a_forged_host_and_link_to_a_good_one(client, two_pages, config):
    config.update(ENV_NAME="production", PUBLIC_URL=None, TRUSTED_HOSTS=["oms.example.com"])
    status, _ = _next(client, two_pages, EVIL)
    assert status == 400
    status, link = _next(client, two_pages, {"Host": "oms.example.com"})
    assert status == 200 and link.startswith("http://oms.example.com/api/v1/channels?")


def test_api_answers_are_never_stored_by_caches(client, two_pages):
    for path in ("/api/v1/channels", "/api/v1/me", "/api/v1/nope"):
        assert client.get(path, headers=two_pages).headers["Cache-Control"] == "no-store"
