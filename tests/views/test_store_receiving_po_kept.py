"""A purchase order's running count on the receiving screen survives a reload, another page and
another tablet, as a return's and a transfer's do; Finish books it and the next count starts at 0."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import PurchaseOrderLine, User
from tests import factories
from tests.services.inbound.helpers import purchase_order
from tests.views.test_store_queue import HX, login


def _form(page: str) -> dict[str, str]:
    return {"receipt_key": page.split('name="receipt_key" value="')[1].split('"')[0],
            "version": page.split('name="version" value="')[1].split('"')[0]}


def test_scans_are_kept_across_a_reload_and_finish_starts_the_next_count_at_zero(app, client):
    warehouse = factories.location("WH-05", type="warehouse")
    shirt = factories.product("TSHIRT-L", "8690000000109")
    factories.user("ayse", "staff", [warehouse])
    po = purchase_order(warehouse, [(shirt, 5)])
    db.session.scalars(select(User).where(User.username == "ayse")).one().language = "tr"
    db.session.commit()
    login(client)
    url = f"/store/WH-05/receiving/purchase-orders/{po.id}"
    page = client.get(url).get_data(as_text=True)
    form = {**_form(page), "count-TSHIRT-L": "0", "damaged-TSHIRT-L": "0"}
    first = client.post(url, data={**form, "action": "scan", "barcode": "8690000000109"}, headers=HX)
    assert first.status_code == 200
    second = client.post(url, data={**form, "count-TSHIRT-L": "1", "action": "scan", "barcode": "8690000000109"},
                         headers=HX)
    assert "5 adetten 2 sayıldı" in second.get_data(as_text=True)

    reloaded = client.get(url).get_data(as_text=True)  # F5, or coming back from another page
    assert "5 adetten 2 sayıldı" in reloaded and 'name="count-TSHIRT-L" type="number" min="0" step="1" ' \
        'inputmode="numeric" value="2"' in reloaded
    tablet = app.test_client()  # a second tablet of the same store
    login(tablet)
    assert "5 adetten 2 sayıldı" in tablet.get(url).get_data(as_text=True)

    finished = client.post(url, data={**_form(reloaded), "count-TSHIRT-L": "2", "damaged-TSHIRT-L": "0",
                                      "action": "finish"})
    assert finished.status_code == 303
    db.session.rollback()
    line = db.session.scalar(select(PurchaseOrderLine).where(PurchaseOrderLine.purchase_order_id == po.id))
    assert (line.received, line.scanned) == (2, 0)
    again = client.get(url).get_data(as_text=True)
    assert "3 adetten 0 sayıldı" in again


def test_a_tablet_still_counting_from_before_a_finish_does_not_put_its_count_back(app, client):
    """Tablet B opened the count before tablet A finished it: B's next scan must not store B's old
    figures again, or the next page would start from them and book those units a second time."""
    warehouse = factories.location("WH-06", type="warehouse")
    shirt = factories.product("TSHIRT-M", "8690000000116")
    factories.user("ayse", "staff", [warehouse])
    po = purchase_order(warehouse, [(shirt, 5)])
    db.session.commit()
    login(client)
    url = f"/store/WH-06/receiving/purchase-orders/{po.id}"
    page = client.get(url).get_data(as_text=True)
    form = {**_form(page), "damaged-TSHIRT-M": "0"}
    for count in (0, 1):
        assert client.post(url, data={**form, "count-TSHIRT-M": str(count), "action": "scan",
                                      "barcode": "8690000000116"}, headers=HX).status_code == 200
    tablet = app.test_client()
    login(tablet)
    stale = _form(tablet.get(url).get_data(as_text=True))  # B starts from A's 2, at the same version
    assert client.post(url, data={**_form(client.get(url).get_data(as_text=True)), "count-TSHIRT-M": "2",
                                  "damaged-TSHIRT-M": "0", "action": "finish"}).status_code == 303

    tablet.post(url, data={**stale, "count-TSHIRT-M": "2", "damaged-TSHIRT-M": "0", "action": "scan",
                           "barcode": "8690000000116"}, headers=HX)
    db.session.rollback()
    line = db.session.scalar(select(PurchaseOrderLine).where(PurchaseOrderLine.purchase_order_id == po.id))
    assert (line.received, line.scanned) == (2, 0)  # B's 3 was not kept
    tablet.post(url, data={**stale, "count-TSHIRT-M": "3", "damaged-TSHIRT-M": "0", "action": "finish"})
    db.session.rollback()
    line = db.session.scalar(select(PurchaseOrderLine).where(PurchaseOrderLine.purchase_order_id == po.id))
    assert (line.received, line.scanned) == (2, 0)  # B's Finish from the old version booked nothing
    assert 'value="0"' in tablet.get(url).get_data(as_text=True).split('name="count-TSHIRT-M"')[1][:120]
