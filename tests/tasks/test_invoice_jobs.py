"""The optional invoice service, served on 127.0.0.1 by this module, called by a real RQ worker
once the package's label is ready."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

import pytest
from rq import Queue
from sqlalchemy import select

from app.extensions import db
from app.models import Package, TransitionLog
from app.queues import redis_connection
from tests.http_servers import LocalServer, QuietHandler, proxies_lead_nowhere, serving
from tests.tasks.test_carriers_jobs import build_shipment, enqueue_label, run_worker


@dataclass
class InvoiceService:
    url: str = ""
    status: int = 200
    answer: dict | bytes = field(default_factory=lambda: {"number": "INV-2026-0001", "date": "2026-11-23",
                                                          "url": "https://invoices.example.invalid/INV-2026-0001"})
    received: list[dict] = field(default_factory=list)


@pytest.fixture
def invoice_service(app, monkeypatch) -> Iterator[InvoiceService]:
    service = InvoiceService()

    class Handler(QuietHandler):
        def do_POST(self) -> None:
            service.received.append(json.loads(self.read_body()))
            body = service.answer if isinstance(service.answer, bytes) else json.dumps(service.answer).encode()
            self.reply(service.status, body, Content_Type="application/json")

    server = LocalServer(Handler)
    service.url = server.url("/invoices")
    monkeypatch.setitem(app.config, "INVOICE_SERVICE_URL", service.url)
    monkeypatch.setitem(app.config, "CARRIER_RETRY_INTERVALS", [0, 0])
    with serving(server):
        yield service


def test_invoice_service_is_asked_after_the_label_and_its_invoice_is_stored(app, invoice_service):
    shipment = build_shipment()
    shipment_id, package_id = shipment.id, shipment.package_id
    enqueue_label(shipment_id)
    run_worker()  # the label job enqueues the invoice job, which the same burst runs

    (request,) = invoice_service.received
    package = db.session.get(Package, package_id)
    assert request["package"] == {"id": package_id, "number": package.number, "location": package.location.code}
    assert request["customer"]["name"] == "Ayşe Yılmaz"
    assert request["items"][0]["quantity"] == 2 and request["items"][0]["unit_price"] == "199.90"
    invoice = package.invoice
    assert (invoice.number, invoice.date) == ("INV-2026-0001", date(2026, 11, 23))
    assert invoice.url == "https://invoices.example.invalid/INV-2026-0001"
    logged = db.session.scalars(select(TransitionLog).where(TransitionLog.command == "update_invoice")).one()
    assert logged.actor == "system:invoice"


def test_a_failing_invoice_service_is_retried_then_fails_the_job_with_its_reason(app, invoice_service):
    invoice_service.status, invoice_service.answer = 503, {"message": "invoicing is closed for the night"}
    shipment = build_shipment()
    shipment_id, package_id = shipment.id, shipment.package_id
    enqueue_label(shipment_id)
    run_worker()

    assert len(invoice_service.received) == 3
    job = Queue("carriers", connection=redis_connection()).fetch_job(f"invoice-{package_id}")
    assert job.get_status() == "failed"
    assert "invoice service answered 503: invoicing is closed for the night" in job.latest_result().exc_string
    package = db.session.get(Package, package_id)
    assert package.state == "packed" and package.invoice is None


def test_an_invoice_answer_without_a_number_is_not_stored(app, invoice_service):
    invoice_service.answer = {"date": "2026-11-23"}
    shipment = build_shipment()
    shipment_id, package_id = shipment.id, shipment.package_id
    enqueue_label(shipment_id)
    run_worker()

    assert len(invoice_service.received) == 1  # a bad answer is not worth retrying
    job = Queue("carriers", connection=redis_connection()).fetch_job(f"invoice-{package_id}")
    assert job.get_status() == "failed"
    assert "invoice service answer not stored" in job.latest_result().exc_string
    assert db.session.get(Package, package_id).invoice is None


def test_packing_without_a_carrier_also_asks_the_invoice_service(app, invoice_service):
    from app.services.packages import run_package_command
    from tests.services.builders import make_package, staff

    package = make_package("preparing")
    package_id = package.id
    run_package_command(package_id, "complete_packing_without_shipment", {}, staff(package.location))
    db.session.rollback()  # the job must see what the command committed
    run_worker()

    assert len(invoice_service.received) == 1
    db.session.expire_all()
    assert db.session.get(Package, package_id).invoice.number == "INV-2026-0001"


def test_proxies_from_the_environment_are_ignored(app, invoice_service, monkeypatch):
    proxies_lead_nowhere(monkeypatch)
    shipment = build_shipment()
    package_id = shipment.package_id
    enqueue_label(shipment.id)
    run_worker()

    assert len(invoice_service.received) == 1
    db.session.expire_all()
    assert db.session.get(Package, package_id).invoice.number == "INV-2026-0001"
