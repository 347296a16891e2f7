"""Still English in Turkish pages, fixed: a carrier's refusal of a cancellation in the shipment
history, the invoice service's failures on the failed-jobs page and the webhook form's address
checks are kept as catalogue messages (or said from them) and read in the reader's language."""

from __future__ import annotations

import html

from sqlalchemy import select

from app.extensions import db
from app.models import Shipment, WebhookSubscription
from app.services.actors import Actor
from app.services.packages import run_package_command
from tests import factories
from tests.tasks.test_carriers_jobs import (  # noqa: F401 — gateway is the carrier gateway fixture
    build_shipment,
    enqueue_label,
    gateway,
    http_cargo,
    label_requested,
    run_poll,
    run_worker,
)
from tests.tasks.test_invoice_jobs import invoice_service  # noqa: F401
from tests.views.test_auth import login


def _turkish(client, role: str = "supervisor") -> None:
    factories.user("sorumlu", role)
    db.session.commit()
    login(client, "sorumlu")
    client.post("/language", data={"language": "tr"})


def _page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, url
    return html.unescape(response.get_data(as_text=True))


def test_a_carrier_refusing_a_cancellation_reads_in_turkish_in_the_shipment_history(app, client, gateway):  # noqa: F811
    gateway.cancel_answer = 409
    shipment_id, package_id = label_requested(http_cargo(gateway))
    run_package_command(package_id, "cancel", {}, Actor.system("test"))
    assert run_poll()["cancel_errors"] == 1
    order_id = db.session.get(Shipment, shipment_id).package.order_id

    _turkish(client)
    page = _page(client, f"/supervisor/orders/{order_id}/")
    assert "kargo sistemi POST /shipments/GW00000001/cancel isteğine 409 ile yanıt verdi: already handed over" in page
    assert "carrier gateway answered" not in page and "error_message" not in page


def test_the_invoice_services_failure_reads_in_turkish_on_the_failed_jobs_page(app, client, invoice_service):  # noqa: F811
    invoice_service.status, invoice_service.answer = 503, {"message": "invoicing is closed for the night"}
    shipment = build_shipment()
    enqueue_label(shipment.id)
    run_worker()

    _turkish(client)
    page = _page(client, "/supervisor/jobs/failed")
    assert "fatura sistemi 503 ile yanıt verdi: invoicing is closed for the night" in page
    assert "invoice service answered" not in page


def test_an_invoice_answer_that_is_refused_reads_in_turkish_too(app, client, invoice_service):  # noqa: F811
    invoice_service.answer = {"date": "2026-11-23"}
    shipment = build_shipment()
    enqueue_label(shipment.id)
    run_worker()

    _turkish(client)
    page = _page(client, "/supervisor/jobs/failed")
    assert "fatura sisteminin yanıtı kaydedilmedi:" in page and "invoice service answer not stored" not in page


def test_the_english_page_still_says_the_invoice_services_failure_in_english(app, client, invoice_service):  # noqa: F811
    invoice_service.status, invoice_service.answer = 503, {"message": "closed"}
    shipment = build_shipment()
    enqueue_label(shipment.id)
    run_worker()
    factories.user("boss", "supervisor")
    db.session.commit()
    login(client, "boss")
    assert "invoice service answered 503: closed" in _page(client, "/supervisor/jobs/failed")


def test_the_webhook_forms_address_checks_read_in_turkish(app, client):
    _turkish(client, "admin")
    form = {"secret": "s", "strategy": "exponential", "max_attempts": "8", "events": ["*"]}
    page = html.unescape(client.post("/admin/webhooks/", data={**form, "url": "ftp://x.example/hooks"})
                         .get_data(as_text=True))
    assert "Adres http:// ya da https:// ile başlamalı." in page and "URL must start" not in page

    page = html.unescape(client.post("/admin/webhooks/", data={**form, "url": "http://127.0.0.1:9/hooks"})
                         .get_data(as_text=True))
    assert "127.0.0.1" in page and "ayarı açık değilse" in page and "are refused unless" not in page

    page = html.unescape(client.post("/admin/webhooks/", data={**form, "url": "https://exa mple.com/h"})
                         .get_data(as_text=True))
    assert "Adreste boşluk ya da kontrol karakteri olmamalı." in page
    assert db.session.scalar(select(WebhookSubscription)) is None
