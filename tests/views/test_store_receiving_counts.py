"""Receiving counts as a Turkish store clerk sees them on the phone: a purchase order's running
count per line toward what it expects (over and short named, the scan that goes over warned at
once), a return's scan refused beyond what may come back, and a return's reason stored once."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import Return, StockLedger, User
from tests import factories
from tests.services.inbound.helpers import purchase_order
from tests.views.test_store_queue import HX, login
from tests.views.test_store_receiving import store_with_return


def _turkish(username: str = "ayse") -> None:
    db.session.scalars(select(User).where(User.username == username)).one().language = "tr"
    db.session.commit()


def test_purchase_order_count_goes_per_line_and_the_scan_over_is_warned(app, client):
    warehouse = factories.location("WH-05", type="warehouse")
    shirt = factories.product("TSHIRT-L", "8690000000109")
    jeans = factories.product("JEANS-30", "8690000000116")
    bag = factories.product("BAG-1", "8690000000123")
    factories.user("ayse", "staff", [warehouse])
    po = purchase_order(warehouse, [(shirt, 5), (jeans, 3), (bag, 4)])
    _turkish()
    login(client)
    url = f"/store/WH-05/receiving/purchase-orders/{po.id}"
    page = client.get(url).get_data(as_text=True)
    form = {"receipt_key": page.split('name="receipt_key" value="')[1].split('"')[0],
            "version": page.split('name="version" value="')[1].split('"')[0]}
    for sku in ("TSHIRT-L", "JEANS-30", "BAG-1"):
        form[f"count-{sku}"], form[f"damaged-{sku}"] = "0", "0"
    answers = []
    for sku, barcode, times in (("TSHIRT-L", "8690000000109", 5), ("JEANS-30", "8690000000116", 2),
                                ("BAG-1", "8690000000123", 5)):
        for n in range(1, times + 1):
            answer = client.post(url, data={**form, "action": "scan", "barcode": barcode}, headers=HX)
            assert answer.status_code == 200
            answers.append(answer.get_data(as_text=True))
            form[f"count-{sku}"] = str(n)
    fourth_bag, fifth_bag = answers[-2], answers[-1]
    assert "notice-warning" not in fourth_bag
    assert "notice-warning" in fifth_bag and 'role="alert"' in fifth_bag
    assert "beklenenden 1 adet fazla" in fifth_bag
    # 5 of 5 shirts, 2 of 3 jeans, 4 of 4 bags count toward the 12 expected: the fifth bag does
    # not make up for the missing jeans.
    assert "12 adetten 11 sayıldı" in fifth_bag and "12 adetten 12" not in fifth_bag
    assert 'id="inbound-line-2-short">1 eksik<' in fifth_bag
    assert 'id="inbound-line-3-over">1 fazla<' in fifth_bag
    assert "inbound-line-1-over" not in fifth_bag and "inbound-line-1-short" not in fifth_bag


def test_a_return_scan_beyond_what_may_come_back_is_refused(app, client):
    store, package, ret = store_with_return(items=(("SKU-A", 1),))
    _turkish()
    barcode = package.items[0].product.barcode_values[0]
    login(client)
    scan = f"/store/{store.code}/receiving/returns/{ret.id}/scan"
    first = client.post(scan, data={"barcode": barcode}, headers=HX)
    assert first.status_code == 200
    second = client.post(scan, data={"barcode": barcode}, headers=HX)
    body = second.get_data(as_text=True)
    assert second.status_code == 422
    assert "SKU-A ürününden bu iadeyle en çok 1 adet gelebilir" in body
    db.session.rollback()
    assert db.session.get(Return, ret.id).items[0].scanned == 1
    assert "(2 / 1)" not in body and "1 more than listed" not in body


def test_a_return_scan_over_the_list_but_within_what_was_shipped_is_counted(app, client):
    store, package, ret = store_with_return(items=(("SKU-A", 2),))
    db.session.get(Return, ret.id).items[0].quantity = 1  # the customer listed 1, both came back
    db.session.commit()
    barcode = package.items[0].product.barcode_values[0]
    login(client)
    scan = f"/store/{store.code}/receiving/returns/{ret.id}/scan"
    assert [client.post(scan, data={"barcode": barcode}, headers=HX).status_code for _ in range(3)] == [200, 200, 422]
    db.session.rollback()
    assert db.session.get(Return, ret.id).items[0].scanned == 2


def test_the_finish_reason_of_a_damaged_return_unit_is_stored_once(app, client):
    store, package, ret = store_with_return(items=(("SKU-A", 1),))
    _turkish()
    barcode = package.items[0].product.barcode_values[0]
    login(client)
    base = f"/store/{store.code}/receiving/returns/{ret.id}"
    assert client.post(f"{base}/scan", data={"barcode": barcode}, headers=HX).status_code == 200
    db.session.rollback()
    current = db.session.get(Return, ret.id)
    item_id = current.items[0].id
    done = client.post(f"{base}/finish", data={f"received-{item_id}": "1", f"damaged-{item_id}": "1",
                                               f"note-{item_id}": "Dikiş yırtık", "version": str(current.version)})
    assert done.status_code == 303
    db.session.rollback()
    finished = db.session.get(Return, ret.id)
    assert finished.state == "written_off"
    assert finished.items[0].note == "Dikiş yırtık"
    notes = db.session.scalars(select(StockLedger.note).where(StockLedger.reference == ret.number)).all()
    assert len(notes) == 1 and notes[0].count("Dikiş yırtık") == 1


def _transfer_world():
    from tests.views.test_store_transfer_receiving import _world

    receiver, transfer = _world()
    db.session.scalars(select(User).where(User.username == "rita")).one().language = "tr"
    db.session.commit()
    return receiver, transfer


def test_a_transfer_finish_says_what_happened_to_damaged_units_and_goes_to_the_receiving_list(app, client):
    receiver, transfer = _transfer_world()
    product_id, number = transfer.items[0].product_id, transfer.number
    login(client, "rita")
    url = f"/store/IST-02/receiving/transfers/{transfer.id}/finish"
    done = client.post(url, data={"version": str(transfer.version), f"received-{product_id}": "2",
                                  f"damaged-{product_id}": "2", f"note-{product_id}": "Islak koli"}, headers=HX)
    assert done.status_code == 200 and done.headers["HX-Redirect"].endswith("/store/IST-02/receiving")
    listing = client.get("/store/IST-02/receiving").get_data(as_text=True)
    assert f"{number} teslim alındı. Hasarlı 2 adet zarar yazıldı. Yeniden planlandı." in listing
    assert "stok güncellendi" not in listing
    db.session.rollback()
    assert db.session.get(type(transfer), transfer.id).state == "received"


def test_a_transfer_line_that_did_not_arrive_at_all_is_said_in_proper_turkish(app, client):
    receiver, transfer = _transfer_world()
    product_id = transfer.items[0].product_id
    login(client, "rita")
    url = f"/store/IST-02/receiving/transfers/{transfer.id}/finish"
    form = {"version": str(transfer.version), f"damaged-{product_id}": "0"}
    none = client.post(url, data={**form, f"received-{product_id}": "0"}).get_data(as_text=True)
    assert "SKU-A ürününden gönderilen 2 adedin hiçbiri gelmedi: nedenini yazın." in none
    assert "yalnızca 0" not in none
    one = client.post(url, data={**form, f"received-{product_id}": "1"}).get_data(as_text=True)
    assert "SKU-A ürününden gönderilen 2 adedin yalnızca 1 adedi geldi: nedenini yazın." in one
    db.session.rollback()
    assert db.session.get(type(transfer), transfer.id).state == "in_transit"


def test_a_partly_received_purchase_order_says_what_is_still_expected(app, client):
    warehouse = factories.location("WH-06", type="warehouse")
    shirt = factories.product("TSHIRT-XL", "8690000000130")
    factories.user("ayse", "staff", [warehouse])
    po = purchase_order(warehouse, [(shirt, 3)], number="PO-T1")
    _turkish()
    login(client)
    url = f"/store/WH-06/receiving/purchase-orders/{po.id}"
    page = client.get(url).get_data(as_text=True)
    form = {"receipt_key": page.split('name="receipt_key" value="')[1].split('"')[0],
            "version": page.split('name="version" value="')[1].split('"')[0],
            "count-TSHIRT-XL": "2", "damaged-TSHIRT-XL": "0", "action": "finish"}
    done = client.post(url, data=form, headers=HX)
    assert done.status_code == 200 and done.headers["HX-Redirect"].endswith("/store/WH-06/receiving")
    listing = client.get("/store/WH-06/receiving").get_data(as_text=True)
    assert "PO-T1 kısmen teslim alındı: 1 adet hâlâ bekleniyor." in listing
    assert "stok güncellendi" not in listing
    rest = client.get(url).get_data(as_text=True)
    form["receipt_key"] = rest.split('name="receipt_key" value="')[1].split('"')[0]
    form["version"] = rest.split('name="version" value="')[1].split('"')[0]
    form["count-TSHIRT-XL"] = "1"
    assert client.post(url, data=form).status_code == 303
    assert "PO-T1 teslim alındı: stok güncellendi." in client.get("/store/WH-06/receiving").get_data(as_text=True)


def test_a_finished_return_links_back_to_receiving_not_to_counting(app, client):
    store, package, ret = store_with_return(items=(("SKU-A", 1),))
    _turkish()
    barcode = package.items[0].product.barcode_values[0]
    login(client)
    base = f"/store/{store.code}/receiving/returns/{ret.id}"
    client.post(f"{base}/scan", data={"barcode": barcode}, headers=HX)
    db.session.rollback()
    current = db.session.get(Return, ret.id)
    item_id = current.items[0].id
    review = client.get(f"{base}/finish").get_data(as_text=True)
    assert "Saymaya dön" in review  # while it is still counted, the way back is to the counting
    done = client.post(f"{base}/finish", data={f"received-{item_id}": "1", f"damaged-{item_id}": "1",
                                               f"note-{item_id}": "Dikiş yırtık", "version": str(current.version)},
                       headers=HX)
    body = done.get_data(as_text=True)
    assert done.status_code == 200 and done.headers["HX-Replace-Url"] == base  # Back skips the form
    back = body.split('id="back-link"')[1].split("</p>")[0]
    assert 'hx-swap-oob="true"' in back and f'href="/store/{store.code}/receiving"' in back
    assert "Teslim alma" in back and "Saymaya dön" not in body
    again = client.get(f"{base}/finish", follow_redirects=True).get_data(as_text=True)  # a bookmark or Back
    assert "Saymaya dön" not in again and f'href="/store/{store.code}/receiving">← Teslim alma' in again
