"""Turkish pages say what a cancel button does: a package's, a transfer's, a purchase order's and
an inbound shipment's "Cancel" cancels it ("… iptal et"), while a form's "Cancel" that only
leaves it keeps "Vazgeç" (the catalogue's plain "Cancel" is that dismissal)."""

from __future__ import annotations

import html
import re

import pytest
from flask_babel import force_locale

from app.extensions import db
from app.models import InboundShipment
from app.services.errors import Conflict
from app.services.inbound.purchase_orders import run_purchase_order_command
from tests import factories
from tests.services.builders import make_package, make_transfer
from tests.services.inbound.helpers import SUPERVISOR, purchase_order
from tests.views.test_auth import login


def _turkish_supervisor(client):
    sender = factories.location("IST-01", name="Gönderen Mağaza")
    receiver = factories.location("IST-02", name="Alan Mağaza")
    warehouse = factories.location("WH-01", type="warehouse")
    tea = factories.product("TEA", name="Siyah çay")
    factories.user("sorumlu", "supervisor")
    db.session.execute(db.text("UPDATE users SET language = 'tr' WHERE username = 'sorumlu'"))
    db.session.commit()
    login(client, "sorumlu")
    return sender, receiver, warehouse, tea


def _page(client, url: str) -> str:
    answer = client.get(url)
    assert answer.status_code == 200, url
    return html.unescape(answer.get_data(as_text=True))


def _cancel_button(page: str) -> str:
    found = re.search(r'<button[^>]*data-command="cancel"[^>]*>([^<]*)</button>', page)
    assert found, "no cancel button"
    return found.group(1).strip()


def test_each_cancel_button_says_it_cancels_in_turkish(app, client):
    sender, receiver, warehouse, tea = _turkish_supervisor(client)
    package = make_package("waiting", location=sender)
    transfer = make_transfer(source=sender, destination=receiver)
    po = purchase_order(warehouse, [(tea, 3)], state="sent")
    shipment = InboundShipment(number="CONT-1", destination=warehouse, status="booked")
    db.session.add(shipment)
    db.session.commit()

    package_page = _page(client, f"/store/IST-01/packages/{package.id}")
    assert _cancel_button(package_page) == "Paketi iptal et"
    assert 'data-confirm="Paketi iptal et? Bu geri alınamaz."' in package_page
    transfer_page = _page(client, f"/store/IST-01/transfers/{transfer.id}")
    assert _cancel_button(transfer_page) == "Transferi iptal et"
    assert _cancel_button(_page(client, f"/supervisor/purchase-orders/{po.id}/")) == "Satın alma siparişini iptal et"
    assert _cancel_button(_page(client, f"/supervisor/inbound-shipments/{shipment.id}/")) == "Sevkiyatı iptal et"
    for page in (package_page, transfer_page):
        assert "Vazgeç" not in page

    # A form's way out is still a dismissal.
    missing = _page(client, f"/store/IST-01/packages/{package.id}/missing")
    assert re.search(r'<a class="btn btn-big"[^>]*>Vazgeç</a>', missing)


def test_a_refused_purchase_order_cancel_names_the_step_in_turkish(app):
    warehouse = factories.location("WH-01", type="warehouse")
    po = purchase_order(warehouse, [(factories.product("TEA"), 3)], state="in_transit")
    with force_locale("tr"), pytest.raises(Conflict) as refused:
        run_purchase_order_command(po.id, "cancel", {"reason": "tedarikçi vazgeçti"}, SUPERVISOR)
    assert "'Satın alma siparişini iptal et'" in refused.value.message and "Vazgeç" not in refused.value.message
