"""The receiving list costs the same few statements with one delivery of each kind as with many:
returns with their orders and items, transfers with their source store and items, purchase
orders with their suppliers and inbound shipments are each read in one go, never one row at a
time (an N+1 made a location with a busy dock slow to open)."""

from __future__ import annotations

from sqlalchemy import event

from app.extensions import db
from app.models import InboundShipment, InboundShipmentLine
from app.services.returns import create_return
from tests import factories
from tests.services.builders import make_package, make_transfer, staff
from tests.services.inbound.helpers import purchase_order, supplier
from tests.views.test_store_queue import login

CEILING = 25  # the statements of one receiving list, whatever is on it


def _deliveries(dock, n: int, start: int) -> None:
    for i in range(start, start + n):
        package = make_package("delivered", items=((f"SKU-R{i}", 1),), location=dock, spare=0)
        create_return({"order": package.order_id, "location": dock.code,
                       "items": [{"sku": f"SKU-R{i}", "quantity": 1}]}, staff(dock))
        make_transfer(items=((f"SKU-T{i}", 1),), source=factories.location(f"SRC-{i}"), destination=dock,
                      state="in_transit")
        product = factories.product(f"SKU-P{i}")
        po = purchase_order(dock, [(product, 3)], number=f"PO-{i}")
        po.supplier = supplier(f"SUP-{i}")
        shipment = InboundShipment(number=f"CONT-{i}", destination=dock, status="booked")
        shipment.lines = [InboundShipmentLine(purchase_order_line=po.lines[0], quantity=2)]
        db.session.add(shipment)
        db.session.commit()


def _statements(client) -> tuple[int, str]:
    seen: list[str] = []

    def count(conn, cursor, statement, *args):
        seen.append(statement)

    db.session.rollback()
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        html = client.get("/store/DOCK/receiving").get_data(as_text=True)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    return len(seen), html


def test_the_receiving_list_reads_each_kind_once_however_long_it_is(app, client):
    dock = factories.location("DOCK", type="warehouse")
    factories.user("ayse", "staff", [dock])
    db.session.commit()
    _deliveries(dock, 1, 0)
    login(client)
    client.get("/store/DOCK/receiving")  # warm: settings and the session's user are cached after it
    one, html = _statements(client)
    assert html.count('id="return-row-') == 1 and html.count('id="transfer-row-') == 1
    _deliveries(dock, 6, 1)
    # The new locations and products changed the configuration: the process's snapshot of it is
    # read again once (five statements, whatever the list holds), by whichever request comes first.
    client.get("/store/DOCK/receiving")
    seven, html = _statements(client)
    assert html.count('id="return-row-') == 7 and html.count('id="transfer-row-') == 7
    assert html.count('id="purchase-order-row-') == 7 and html.count('id="inbound-shipment-row-') == 7
    assert seven == one, f"{one} statements for one delivery of each kind, {seven} for seven"
    assert seven <= CEILING
