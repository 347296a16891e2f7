"""Planned days — a purchase order's expected (or supplier-confirmed) date, a shipment's ETA — are
typed as dates and shown as dates in the reader's language ("20 Dec 2026" / "20 Ara 2026"), not as
midnight UTC moved to "03:00 +03"; one sent with a time of day over the API keeps its time."""

from __future__ import annotations

import re
from datetime import datetime

from app.extensions import db
from app.models import InboundShipment, InboundShipmentLine
from app.services.inbound.purchase_orders import run_purchase_order_command
from tests import factories
from tests.factories import PASSWORD
from tests.services.inbound.helpers import SUPERVISOR, purchase_order

TURKISH = {"Accept-Language": "tr-TR,tr;q=0.9"}


def _text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def test_expected_dates_and_etas_are_days_in_the_readers_language(app, client):
    wh = factories.location("WH-01", type="warehouse", time_zone="Europe/Istanbul")
    tea = factories.product("TEA")
    factories.user("boss", "supervisor", [wh])
    factories.user("ayse", "staff", [wh])
    po = purchase_order(wh, [(tea, 10)], state="sent")
    run_purchase_order_command(po.id, "confirm", {"expected_at": "2026-12-20"}, SUPERVISOR)
    timed = purchase_order(wh, [(tea, 5)], state="confirmed")
    timed.expected_at = datetime(2026, 12, 21, 9, 0)  # sent with a time over the API: 12:00 in Istanbul
    shipment = InboundShipment(number="CONT-1", destination=wh, status="booked", eta=datetime(2026, 12, 18))
    shipment.lines = [InboundShipmentLine(purchase_order_line=po.lines[0], quantity=4)]
    db.session.add(shipment)
    db.session.commit()

    assert client.post("/login", data={"username": "boss", "password": PASSWORD}).status_code in (302, 303)
    for url in ("/supervisor/purchase-orders/", f"/supervisor/purchase-orders/{po.id}/",
                f"/supervisor/inbound-shipments/{shipment.id}/", "/supervisor/inbound-shipments/"):
        english = _text(client.get(url, headers={"Accept-Language": "en"}))
        turkish = _text(client.get(url, headers=TURKISH))
        day, gun = ("20 Dec 2026", "20 Ara 2026") if "purchase-orders" in url else ("18 Dec 2026", "18 Ara 2026")
        assert day in english and gun in turkish, url
        assert "03:00" not in english and "03:00" not in turkish, url
    listing = _text(client.get("/supervisor/purchase-orders/", headers={"Accept-Language": "en"}))
    assert "21 Dec 2026, 12:00 +03" in listing  # a time of day stays a time, in the location's zone
    page = client.get(f"/supervisor/purchase-orders/{po.id}/").get_data(as_text=True)
    assert '<time datetime="2026-12-20">' in page

    client.post("/logout")
    assert client.post("/login", data={"username": "ayse", "password": PASSWORD}).status_code in (302, 303)
    store = _text(client.get("/store/WH-01/receiving", headers=TURKISH))
    assert "20 Ara 2026" in store and "18 Ara 2026" in store and "03:00" not in store
