"""The purchase order list counts what arrived per line: an over-delivery of one line does not
hide another line's shortage (3 T-shirts + 2 hoodies ordered, 4 + 1 received is 4 of 5)."""

from __future__ import annotations

from app.extensions import db
from app.services.inbound.receiving import receive_purchase_order
from tests import factories
from tests.services.inbound.helpers import SUPERVISOR, purchase_order
from tests.views.test_auth import login


def test_an_over_delivered_line_does_not_cover_a_short_one(app, client):
    warehouse = factories.location("WH-01", type="warehouse")
    shirt = factories.product("TSHIRT-M", "8690000000201")
    hoodie = factories.product("HOODIE-M", "8690000000202")
    factories.user("sup", "supervisor")
    po = purchase_order(warehouse, [(shirt, 3), (hoodie, 2)], number="PO-SHORT")
    receive_purchase_order(po.id, [{"sku": "TSHIRT-M", "quantity": 4, "reason": "extra in the box"},
                                   {"sku": "HOODIE-M", "quantity": 1}], SUPERVISOR)
    db.session.commit()
    login(client, "sup")
    page = client.get("/supervisor/purchase-orders/").get_data(as_text=True)
    row = page.split('data-po="PO-SHORT"')[1].split("</tr>")[0]
    assert "4 / 5" in row and "5 / 5" not in row
    assert "1 more than ordered" in row
