"""A message column with no message holds SQL NULL, not the JSON text `null`: a cleared
failure (a label issued after a failed try, a webhook that succeeds after failing) and an inbox
entry without a reason read back as NULL with SQL (shipments, webhook_deliveries,
webhook_attempts, channel_inbox). Real services, a real RQ worker and HTTP receiver."""

from __future__ import annotations

import time

from sqlalchemy import text

from app.extensions import db
from app.services import shipments
from app.services.carriers.base import CarrierShipment
from app.services.said import N_, said
from app.tasks.webhooks import sweep
from tests import factories
from tests.tasks.test_carriers_jobs import build_shipment
from tests.tasks.test_webhooks_flow import change_package, receiver, run_worker, subscribe  # noqa: F401


def _nulls(sql: str, **params) -> list[bool]:
    db.session.expire_all()
    return list(db.session.execute(text(sql), params).scalars())


def test_a_label_issued_after_a_failed_try_clears_its_message_to_sql_null(app):
    shipment = build_shipment()
    db.session.commit()
    shipment_id = shipment.id
    shipments.label_failed(shipment_id, "HTTP 500", "test", final=False, said_as=said(N_("HTTP %(status)s"), status=500))
    assert _nulls("SELECT last_error_message IS NULL FROM shipments WHERE id = :i", i=shipment_id) == [False]
    shipments.label_ready(shipment_id, CarrierShipment("TRK1", "https://t.example/TRK1", b"%PDF-1.4", "^XA^XZ", "R1"),
                          "test")
    assert _nulls("SELECT last_error_message IS NULL FROM shipments WHERE id = :i", i=shipment_id) == [True]
    assert _nulls("SELECT last_error IS NULL FROM shipments WHERE id = :i", i=shipment_id) == [True]


def test_a_webhook_that_succeeds_after_failing_has_sql_null_messages(app, receiver, monkeypatch):  # noqa: F811
    monkeypatch.setitem(app.config, "WEBHOOK_RETRY_BASE_SECONDS", 0.2)
    subscribe(receiver.url("/flaky"), retry={"strategy": "fixed", "max_attempts": 9})
    change_package(3, "waiting", "preparing")
    run_worker()
    for _ in range(2):
        time.sleep(0.3)  # the retry is due
        sweep()
        run_worker()
    assert _nulls("SELECT status FROM webhook_deliveries") == ["succeeded"]
    assert _nulls("SELECT last_error_message IS NULL FROM webhook_deliveries") == [True]
    # the two failed attempts keep their message; the one that got through has none
    assert _nulls("SELECT error_message IS NULL FROM webhook_attempts ORDER BY number") == [False, False, True]


def test_an_inbox_entry_without_a_reason_has_sql_null(app):
    from app.models import ChannelInboxEntry

    channel = factories.channel("web")
    db.session.flush()
    db.session.add(ChannelInboxEntry(channel_id=channel.id, topic="orders/create", body="{}", reason=None,
                                     reason_message=None))
    db.session.commit()
    assert _nulls("SELECT reason_message IS NULL FROM channel_inbox") == [True]
