"""After a purchase order's or an inbound shipment's command, the supervisor reads what happened
in a sentence of its own ("… was sent to the supplier."), in English and Turkish, never the
button's words again ("PO1: Send to supplier.")."""

from __future__ import annotations

import html

from sqlalchemy import select

from app.extensions import db
from app.models import InboundShipment, InboundShipmentLine, Product, User
from tests.services.inbound.helpers import purchase_order
from tests.views.test_supervisor_inbound import _setup


def _done(client, url: str, **data: str) -> str:
    answer = client.post(url, data=data, follow_redirects=True)
    assert answer.status_code == 200
    return html.unescape(answer.get_data(as_text=True))


def test_purchase_order_commands_say_what_happened(app, client):
    wh = _setup(client)
    tea = db.session.scalar(select(Product).where(Product.sku == "TEA"))
    po = purchase_order(wh, [(tea, 3)], state="draft")
    url = f"/supervisor/purchase-orders/{po.id}/commands"
    number = po.number
    page = _done(client, f"{url}/send")
    assert f"Purchase order {number} was sent to the supplier." in page and "Send to supplier." not in page
    assert f"Purchase order {number} was confirmed by the supplier." in _done(client, f"{url}/confirm")
    assert f"Purchase order {number} was marked as on the way." in _done(client, f"{url}/mark_in_transit")
    assert (f"Purchase order {number} was closed short: its missing units are no longer expected."
            in _done(client, f"{url}/close_short", reason="Supplier is out of tea"))

    db.session.rollback()  # end the test's read snapshot before writing
    other = purchase_order(wh, [(tea, 1)], number="PO-TR", state="draft")
    db.session.scalars(select(User).where(User.username == "boss")).one().language = "tr"
    db.session.commit()
    assert "PO-TR satın alma siparişi tedarikçiye gönderildi." in _done(
        client, f"/supervisor/purchase-orders/{other.id}/commands/send")
    assert "PO-TR satın alma siparişi iptal edildi." in _done(
        client, f"/supervisor/purchase-orders/{other.id}/commands/cancel", reason="late")


def test_inbound_shipment_commands_say_what_happened(app, client):
    wh = _setup(client)
    tea = db.session.scalar(select(Product).where(Product.sku == "TEA"))
    po = purchase_order(wh, [(tea, 3)], state="confirmed")
    shipment = InboundShipment(number="CONT-1", destination=wh, carrier="Sea Lines", status="booked")
    shipment.lines = [InboundShipmentLine(purchase_order_line=po.lines[0], quantity=3)]
    db.session.add(shipment)
    db.session.commit()
    url = f"/supervisor/inbound-shipments/{shipment.id}/commands"
    assert "The expected arrival of inbound shipment CONT-1 was changed." in _done(
        client, f"{url}/update_eta", eta="2026-12-30")
    page = _done(client, f"{url}/depart")
    assert "Inbound shipment CONT-1 was marked as departed." in page and "CONT-1: Departed." not in page
    assert "Inbound shipment CONT-1 was marked as arrived." in _done(client, f"{url}/arrive")
