"""A label the carrier could not issue, on the store's shipment panel in real Chromium on a tablet
whose browser asks for Turkish: the carrier gateway refused the connection (a real closed port,
asked by a real RQ worker), and the panel says so in Turkish — the HTTP client's words inside the
gateway's sentence — with no English of ours left (leftover of issue 20)."""

from __future__ import annotations

import socket

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models import Shipment
from tests import factories
from tests.browser.test_store_flow import run_carrier_jobs, sign_in
from tests.browser.test_store_turkish import TABLET, english_fragments
from tests.tasks.test_carriers_jobs import build_shipment, enqueue_label

pytestmark = pytest.mark.browser


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_failed_label_is_said_in_turkish_on_the_store_panel(app, browser, live_server, monkeypatch):
    monkeypatch.setitem(app.config, "CARRIER_RETRY_INTERVALS", [0])
    store = factories.location("IST-KDK", name="Kadıköy Mağazası", address="Moda Cd. 10", city="İstanbul")
    factories.user("ayse", "staff", [store])
    cargo = factories.cargo_company("ARAS", name="Aras Kargo", adapter="http",
                                    config={"base_url": f"http://127.0.0.1:{closed_port()}", "api_key": "k",
                                            "timeout_seconds": 0.5})
    shipment = build_shipment(cargo, location=store)
    shipment_id, package_id = shipment.id, shipment.package_id
    enqueue_label(shipment_id)
    run_carrier_jobs()
    db.session.expire_all()
    failed = db.session.get(Shipment, shipment_id)
    assert failed.status == "failed"
    assert failed.last_error == "carrier gateway unreachable (POST /shipments): connection refused"

    context = browser.new_context(viewport=TABLET, base_url=live_server, locale="tr-TR")
    page = context.new_page()
    try:
        sign_in(page, "ayse")
        page.wait_for_url("**/store/IST-KDK/")
        page.goto(f"/store/IST-KDK/packages/{package_id}")
        alert = page.locator("#shipment .alert-error")
        expect(alert).to_have_text(
            "Kargo firması yanıtı: kargo sistemine ulaşılamadı (POST /shipments): bağlantı reddedildi")
        assert page.locator("html").get_attribute("lang") == "tr"
        panel = page.locator("#shipment").inner_text()
        assert "connection refused" not in panel and "unreachable" not in panel
        assert sorted({p.pattern for p in english_fragments() if p.search(panel)}) == []
    finally:
        context.close()
