"""The receiving screen: returns (scan, review, finish), counter returns, supplier deliveries
through the inbound receiving service, and nothing of another store's."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import PurchaseOrder, Return
from tests import factories
from tests.services.builders import make_package, stock_of
from tests.services.inbound.helpers import purchase_order
from tests.views.test_store_queue import HX, login


def store_with_return(items=(("SKU-A", 2),)):
    package = make_package("delivered", items=items, spare=0)
    store = package.location
    factories.user("ayse", "staff", [store])
    other = factories.location("OTHER")
    factories.user("omer", "staff", [other])
    db.session.commit()
    from app.services.returns import create_return
    from tests.services.builders import staff

    ret = create_return({"order": package.order_id, "location": store.code,
                         "items": [{"sku": sku, "quantity": q} for sku, q in items]}, staff(store))
    return store, package, ret


def test_scan_review_and_finish_a_return_without_javascript(app, client):
    store, package, ret = store_with_return()
    barcode = package.items[0].product.barcode_values[0]
    login(client)
    listing = client.get(f"/store/{store.code}/receiving")
    assert listing.status_code == 200 and ret.number in listing.get_data(as_text=True)
    base = f"/store/{store.code}/receiving/returns/{ret.id}"
    for _ in range(2):
        assert client.post(f"{base}/scan", data={"barcode": barcode}).status_code == 303
    unknown = client.post(f"{base}/scan", data={"barcode": "999"}, headers=HX)
    assert unknown.status_code == 422 and "not on this return" in unknown.get_data(as_text=True)
    review = client.get(f"{base}/finish").get_data(as_text=True)
    item_id = ret.items[0].id
    assert f'name="received-{item_id}"' in review and 'value="2"' in review
    refused = client.post(f"{base}/finish", data={f"received-{item_id}": "2", f"damaged-{item_id}": "1",
                                                  "version": str(ret.version + 0)})
    assert refused.status_code == 422 and "damaged" in refused.get_data(as_text=True)
    db.session.rollback()
    version = db.session.get(Return, ret.id).version
    done = client.post(f"{base}/finish", data={f"received-{item_id}": "2", f"damaged-{item_id}": "1",
                                               f"note-{item_id}": "broken zip", "version": str(version)})
    assert done.status_code == 303
    db.session.rollback()
    assert db.session.get(Return, ret.id).state == "restocked"
    assert stock_of(store, "SKU-A") == (1, 0)
    again = client.post(f"{base}/finish", data={f"received-{item_id}": "2", f"damaged-{item_id}": "1",
                                                f"note-{item_id}": "broken zip", "version": str(version)},
                        headers=HX)
    assert again.status_code == 200 and "Already finished" in again.get_data(as_text=True)
    assert stock_of(store, "SKU-A") == (1, 0)


def test_htmx_scan_answers_with_the_row_and_counter(app, client):
    store, package, ret = store_with_return()
    login(client)
    answer = client.post(f"/store/{store.code}/receiving/returns/{ret.id}/scan",
                         data={"barcode": package.items[0].product.barcode_values[0]}, headers=HX)
    body = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert f'id="return-item-{ret.items[0].id}"' in body and 'hx-swap-oob="true"' in body
    assert "Counted 1 of 2" in body


def test_another_store_cannot_see_or_receive_the_return(app, client):
    store, package, ret = store_with_return()
    login(client, "omer")
    assert ret.number not in client.get("/store/OTHER/receiving").get_data(as_text=True)
    base = f"/store/OTHER/receiving/returns/{ret.id}"
    for response in (client.get(base), client.post(f"{base}/scan", data={"barcode": "1"}),
                     client.post(f"{base}/finish", data={}), client.get(f"/store/{store.code}/receiving")):
        assert response.status_code == 404
    db.session.rollback()
    assert db.session.get(Return, ret.id).state == "requested"


def test_a_counter_return_for_an_order_packed_elsewhere(app, client):
    package = make_package("delivered", items=(("SKU-A", 2),), spare=0)
    package.order.customer_name = "Ayşe Yılmaz"
    counter = factories.location("COUNTER")
    factories.user("ayse", "staff", [counter])
    db.session.commit()
    order_id, number = package.order_id, package.order.number
    login(client)
    found = client.get("/store/COUNTER/returns/new", query_string={"q": number}).get_data(as_text=True)
    assert number in found
    page = client.get("/store/COUNTER/returns/new", query_string={"q": number, "order": order_id})
    product_id = package.items[0].product_id
    assert f'name="quantity-{product_id}"' in page.get_data(as_text=True)
    too_many = client.post("/store/COUNTER/returns/new", data={"q": number, "order": order_id,
                                                               f"quantity-{product_id}": "3"})
    assert too_many.status_code == 422
    nothing = client.post("/store/COUNTER/returns/new", data={"q": number, "order": order_id})
    assert nothing.status_code == 422 and "at least one item" in nothing.get_data(as_text=True)
    made = client.post("/store/COUNTER/returns/new", data={"q": number, "order": order_id,
                                                           f"quantity-{product_id}": "1",
                                                           f"reason-{product_id}": "too small"})
    assert made.status_code == 303
    db.session.rollback()
    ret = db.session.scalars(select(Return)).one()
    assert (ret.source, ret.location.code, ret.items[0].quantity, ret.items[0].reason) == (
        "counter", "COUNTER", 1, "too small")
    assert made.headers["Location"].endswith(f"/store/COUNTER/receiving/returns/{ret.id}")


def test_a_purchase_order_is_counted_by_scanning_and_booked_once(app, client):
    warehouse = factories.location("WH-01", type="warehouse")
    shirt = factories.product("TSHIRT-M", "8690000000017")
    factories.user("ayse", "staff", [warehouse])
    po = purchase_order(warehouse, [(shirt, 3)])
    login(client)
    assert po.number in client.get("/store/WH-01/receiving").get_data(as_text=True)
    url = f"/store/WH-01/receiving/purchase-orders/{po.id}"
    page = client.get(url).get_data(as_text=True)
    key = page.split('name="receipt_key" value="')[1].split('"')[0]
    version = page.split('name="version" value="')[1].split('"')[0]
    form = {"receipt_key": key, "version": version, "count-TSHIRT-M": "0", "damaged-TSHIRT-M": "0"}
    for n in (1, 2):
        answer = client.post(url, data={**form, "action": "scan", "barcode": "8690000000017"}, headers=HX)
        assert answer.status_code == 200 and f'name="count-TSHIRT-M" type="number" min="0" step="1" inputmode="numeric" value="{n}"' in answer.get_data(as_text=True)
        form["count-TSHIRT-M"] = str(n)
    unknown = client.post(url, data={**form, "action": "scan", "barcode": "000"}, headers=HX)
    assert unknown.status_code == 422 and "not on this delivery" in unknown.get_data(as_text=True)
    done = client.post(url, data={**form, "action": "finish"})
    assert done.status_code == 303
    twice = client.post(url, data={**form, "action": "finish"})  # a double tap: the same receipt key
    assert twice.status_code in (303, 200, 409)
    db.session.rollback()
    assert stock_of(warehouse, "TSHIRT-M") == (2, 0)
    assert db.session.get(PurchaseOrder, po.id).state == "partially_received"


def test_a_count_typed_wrong_or_damaged_without_reason_books_nothing(app, client):
    warehouse = factories.location("WH-02", type="warehouse")
    shirt = factories.product("TSHIRT-S", "8690000000024")
    jeans = factories.product("JEANS-32", "8690000000031")
    factories.user("ayse", "staff", [warehouse])
    po = purchase_order(warehouse, [(shirt, 3), (jeans, 3)])
    login(client)
    url = f"/store/WH-02/receiving/purchase-orders/{po.id}"
    page = client.get(url).get_data(as_text=True)
    key = page.split('name="receipt_key" value="')[1].split('"')[0]
    version = page.split('name="version" value="')[1].split('"')[0]
    base = {"receipt_key": key, "version": version, "action": "finish", "count-JEANS-32": "3", "damaged-JEANS-32": "0"}
    for bad in ("-1", "x", "1.5"):
        answer = client.post(url, data={**base, "count-TSHIRT-S": bad, "damaged-TSHIRT-S": "0"})
        assert answer.status_code == 422, bad
        assert "Enter a whole number from 0 to 999,999." in answer.get_data(as_text=True)
    answer = client.post(url, data={**base, "count-TSHIRT-S": "2", "damaged-TSHIRT-S": "1", "reason-TSHIRT-S": ""})
    assert answer.status_code == 422 and "Say why the units are damaged." in answer.get_data(as_text=True)
    db.session.rollback()
    assert stock_of(warehouse, "JEANS-32") == (0, 0) and stock_of(warehouse, "TSHIRT-S") == (0, 0)
    assert db.session.get(PurchaseOrder, po.id).state != "partially_received"
    done = client.post(url, data={**base, "count-TSHIRT-S": "2", "damaged-TSHIRT-S": "1", "reason-TSHIRT-S": "box crushed"})
    assert done.status_code == 303
    db.session.rollback()
    assert stock_of(warehouse, "JEANS-32") == (3, 0) and stock_of(warehouse, "TSHIRT-S") == (1, 0)
