"""Connection failures shared by carriers and webhooks ("timeout after 10s", "connection
refused", "HTTP 500"), written by a job and read later by staff, are said in the reader's
language (SPEC §15, docs/languages.md): the store's shipment panel, the admin webhook deliveries
and the supervisor's failing webhooks. The stored English text (`last_error`: logs, the API)
stays as it always was; rows from before migration 0024 show it as stored.

Real parts: a real RQ worker, real sockets (a listening port that never answers, a closed port),
real HTTP receivers, the real app's pages in Turkish and English."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Shipment
from app.models.webhooks import WebhookDelivery
from tests import factories
from tests.tasks.test_carriers_jobs import build_shipment, enqueue_label
from tests.tasks.test_carriers_jobs import run_worker as run_carrier_worker
from tests.tasks.test_webhooks_flow import change_package, subscribe
from tests.tasks.test_webhooks_flow import run_worker as run_webhook_worker
from tests.views.test_auth import login


@pytest.fixture(autouse=True)
def no_retries(app, monkeypatch):
    monkeypatch.setitem(app.config, "CARRIER_RETRY_INTERVALS", [0])  # one quick retry


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections (the kernel's backlog) and never answers."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield sock.getsockname()[1]


@pytest.fixture
def closed_port() -> int:
    """A port nobody listens on: connecting is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http_cargo(port: int, timeout: float = 0.3):
    return factories.cargo_company("ARAS", name="Aras Kargo", adapter="http",
                                   config={"base_url": f"http://127.0.0.1:{port}", "api_key": "k",
                                           "timeout_seconds": timeout})


def failed_label(port: int, timeout: float = 0.3) -> tuple[Shipment, str]:
    """A package at a store whose label the carrier's gateway could not issue (a real worker)."""
    store = factories.location("IST-KDK", name="Kadıköy Mağazası")
    shipment = build_shipment(http_cargo(port, timeout), location=store)
    factories.user("ayse", "staff", [store])
    db.session.commit()
    shipment_id = shipment.id
    enqueue_label(shipment_id)
    db.session.rollback()
    run_carrier_worker()
    db.session.expire_all()
    shipment = db.session.get(Shipment, shipment_id)
    assert shipment.status == "failed"
    return shipment, f"/store/IST-KDK/packages/{shipment.package_id}"


def page_in(client, url: str, username: str, language: str) -> str:
    db.session.execute(db.text("UPDATE users SET language = :l WHERE username = :u"), {"l": language, "u": username})
    db.session.commit()
    login(client, username)
    response = client.get(url)
    assert response.status_code == 200, url
    return response.get_data(as_text=True)


def test_a_carrier_timeout_is_said_in_turkish_on_the_store_panel_and_kept_in_english(app, client, silent_port):
    shipment, url = failed_label(silent_port)
    # The API and the logs keep the English exactly as before.
    assert shipment.last_error == "carrier gateway timed out after 0.3 s (POST /shipments)"
    assert shipment.last_error_message == {
        "id": "carrier gateway timed out after %(seconds)s s (%(what)s)",
        "values": {"seconds": 0.3, "what": "POST /shipments"}}

    turkish = page_in(client, url, "ayse", "tr")
    assert "Kargo firması yanıtı: kargo sistemi 0,3 sn içinde yanıt vermedi (POST /shipments)" in turkish
    assert "timed out" not in turkish
    english = page_in(client, url, "ayse", "en")
    assert "carrier gateway timed out after 0.3 s (POST /shipments)" in english


def test_a_refused_connection_nests_the_http_clients_words_in_the_carriers(app, client, closed_port):
    shipment, url = failed_label(closed_port)
    assert shipment.last_error == "carrier gateway unreachable (POST /shipments): connection refused"
    turkish = page_in(client, url, "ayse", "tr")
    assert "kargo sistemine ulaşılamadı (POST /shipments): bağlantı reddedildi" in turkish
    assert "connection refused" not in turkish


def test_the_label_api_keeps_the_english_error_whatever_the_language(app, client, closed_port):
    shipment, _url = failed_label(closed_port)
    token = factories.api_token("ayse")
    answer = client.get(f"/api/v1/packages/{shipment.package_id}/label",
                        headers={"Authorization": f"Token {token}", "Accept-Language": "tr"})
    assert answer.status_code == 404
    body = answer.get_json()["error"]
    assert body["code"] == "no_label"
    assert "carrier gateway unreachable (POST /shipments): connection refused" in body["message"]


def test_a_shipment_failed_before_the_messages_shows_its_stored_english(app, client, closed_port):
    shipment, url = failed_label(closed_port)
    shipment.last_error, shipment.last_error_message = "carrier gateway unreachable: something old", None
    db.session.commit()
    turkish = page_in(client, url, "ayse", "tr")
    assert "Kargo firması yanıtı: carrier gateway unreachable: something old" in turkish


def test_a_carrier_error_said_through_the_catalogue_is_kept_as_its_message(app, client):
    # The worker says "base_url must be ..." through _(): listening, the label job keeps its id.
    cargo = factories.cargo_company("BROKEN", adapter="http", config={"base_url": "ftp://nowhere"})
    store = factories.location("IST-KDK", name="Kadıköy Mağazası")
    shipment = build_shipment(cargo, location=store)
    factories.user("ayse", "staff", [store])
    db.session.commit()
    shipment_id, package_id = shipment.id, shipment.package_id
    enqueue_label(shipment_id)
    db.session.rollback()
    run_carrier_worker()
    db.session.expire_all()
    shipment = db.session.get(Shipment, shipment_id)
    assert shipment.last_error_message == {"id": "http carrier: base_url must be an http:// or https:// URL"}
    turkish = page_in(client, f"/store/IST-KDK/packages/{package_id}", "ayse", "tr")
    assert "must be an http" not in turkish


def test_a_label_that_succeeds_again_clears_the_message_with_the_text(app, silent_port):
    shipment, _url = failed_label(silent_port)
    from app.services.carriers import CarrierShipment
    from app.services.shipments import label_ready

    shipment.status = "pending"
    db.session.commit()
    label_ready(shipment.id, CarrierShipment("TRK1", "", b"%PDF-1", "^XA^XZ", ""), "test")
    db.session.expire_all()
    shipment = db.session.get(Shipment, shipment.id)
    assert (shipment.last_error, shipment.last_error_message) == (None, None)


# --- webhooks ---------------------------------------------------------------------------------------


def test_a_webhook_delivery_refused_is_said_in_turkish_to_admins_and_supervisors(app, client, closed_port):
    factories.user("root", "admin")
    factories.user("sup", "supervisor")
    db.session.commit()
    subscription_id = subscribe(f"http://127.0.0.1:{closed_port}/hook")
    change_package(7, "waiting", "preparing")
    run_webhook_worker()
    db.session.expire_all()
    delivery = db.session.scalar(select(WebhookDelivery))
    assert delivery.status == "retrying"
    assert delivery.last_error == "connection refused"  # the API's text, as before
    assert delivery.last_error_message == {"id": "connection refused"}
    # Its retries run out later (hours of backoff): the supervisor's list shows failed ones.
    delivery.status, delivery.completed_at = "failed", delivery.created_at
    db.session.commit()

    admin_page = page_in(client, f"/admin/webhooks/{subscription_id}", "root", "tr")
    assert "bağlantı reddedildi" in admin_page and "connection refused" not in admin_page
    client.get("/logout")
    jobs_page = page_in(client, "/supervisor/jobs/failed", "sup", "tr")
    assert "bağlantı reddedildi" in jobs_page and "connection refused" not in jobs_page
    client.get("/logout")
    english = page_in(client, f"/admin/webhooks/{subscription_id}", "root", "en")
    assert "connection refused" in english


def test_the_webhook_api_keeps_the_english_error(app, client, closed_port):
    factories.user("root", "admin")
    db.session.commit()
    subscription_id = subscribe(f"http://127.0.0.1:{closed_port}/hook")
    change_package(7, "waiting", "preparing")
    run_webhook_worker()
    token = factories.api_token("root")
    answer = client.get(f"/api/v1/webhooks/{subscription_id}/deliveries",
                        headers={"Authorization": f"Token {token}", "Accept-Language": "tr"})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    [row] = answer.get_json()["results"]
    assert row["last_error"] == "connection refused"

