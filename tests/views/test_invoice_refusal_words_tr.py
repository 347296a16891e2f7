"""A refused invoice answer on the failed-jobs page: the answer's fields and pydantic's details
are said in the reader's language, as the forms say them (the job's own record stays English)."""

from __future__ import annotations

from rq import Queue

from app.extensions import db
from app.queues import redis_connection
from tests import factories
from tests.tasks.test_carriers_jobs import build_shipment, enqueue_label, run_worker
from tests.tasks.test_invoice_jobs import invoice_service  # noqa: F401
from tests.views.test_auth import login
from tests.views.test_turkish_carrier_invoice_webhook_words import _page, _turkish

BAD_DATE = {"number": "F-1", "date": "yesterday", "url": "https://invoices.example/F-1"}


def _refused(invoice_service) -> int:  # noqa: F811 — the fixture's value
    invoice_service.answer = BAD_DATE
    shipment = build_shipment()
    package_id = shipment.package_id
    enqueue_label(shipment.id)
    run_worker()
    return package_id


def test_a_refused_invoice_answers_field_details_read_in_turkish(app, client, invoice_service):  # noqa: F811
    _refused(invoice_service)
    _turkish(client)
    page = _page(client, "/supervisor/jobs/failed")
    assert ("fatura sisteminin yanıtı kaydedilmedi: Komut bilgileri geçerli değil. "
            "Tarih: Bir tarih girin, örneğin 2026-12-31.") in page
    assert "Input should be" not in page and "Enter a date" not in page and "not valid" not in page


def test_the_same_refusal_reads_in_english_for_an_english_reader_and_in_the_jobs_record(app, client,
                                                                                        invoice_service):  # noqa: F811
    package_id = _refused(invoice_service)
    english = ("invoice service answer not stored: The command parameters are not valid. "
               "Date: Enter a date, for example 2026-12-31.")
    job = Queue("carriers", connection=redis_connection()).fetch_job(f"invoice-{package_id}")
    assert english in job.latest_result().exc_string
    factories.user("boss", "supervisor")
    db.session.commit()
    login(client, "boss")
    assert english in _page(client, "/supervisor/jobs/failed")
