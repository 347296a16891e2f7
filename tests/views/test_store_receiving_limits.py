"""A count too big for a receiving form (a transfer's, a purchase order's, a return's, a counter
return's) is refused with the range the form takes, not with "0 or more", which 99999999 is."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import Return, Transfer, User
from tests.services.builders import make_package
from tests.services.inbound.helpers import purchase_order
from tests.views.test_store_queue import HX, login
from tests.views.test_store_receiving import store_with_return
from tests.views.test_store_transfer_receiving import _world as transfer_world

TOO_MANY = "99999999"
SAID = "Enter a whole number from 0 to 999,999."


def _refused(answer) -> str:
    assert answer.status_code == 422
    return answer.get_data(as_text=True)


def test_a_transfer_count_too_big_says_the_range_in_english_and_turkish(app, client):
    receiver, transfer = transfer_world()
    product_id = transfer.items[0].product_id
    login(client, "rita")
    url = f"/store/IST-02/receiving/transfers/{transfer.id}/finish"
    for field in ("received", "damaged"):
        form = {"version": str(transfer.version), f"received-{product_id}": "2", f"{field}-{product_id}": TOO_MANY}
        text = _refused(client.post(url, data=form, headers=HX))
        assert SAID in text and "0 or more" not in text
    db.session.rollback()
    db.session.scalars(select(User).where(User.username == "rita")).one().language = "tr"
    db.session.commit()
    form = {"version": str(transfer.version), f"received-{product_id}": TOO_MANY}
    assert "0 ile 999.999 arasında bir tam sayı girin." in _refused(client.post(url, data=form, headers=HX))
    db.session.rollback()
    assert db.session.get(Transfer, transfer.id).state == "in_transit"


def test_a_purchase_order_count_too_big_says_the_range(app, client):
    from tests import factories

    warehouse = factories.location("WH-02", type="warehouse")
    shirt = factories.product("TSHIRT-S", "8690000000024")
    factories.user("ayse", "staff", [warehouse])
    po = purchase_order(warehouse, [(shirt, 3)])
    login(client)
    url = f"/store/WH-02/receiving/purchase-orders/{po.id}"
    page = client.get(url).get_data(as_text=True)
    key = page.split('name="receipt_key" value="')[1].split('"')[0]
    version = page.split('name="version" value="')[1].split('"')[0]
    answer = client.post(url, data={"receipt_key": key, "version": version, "action": "finish",
                                    "count-TSHIRT-S": TOO_MANY, "damaged-TSHIRT-S": "0"})
    assert SAID in _refused(answer)


def test_a_return_count_too_big_says_the_range(app, client):
    store, package, ret = store_with_return(items=(("SKU-A", 1),))
    login(client)
    item_id = ret.items[0].id
    answer = client.post(f"/store/{store.code}/receiving/returns/{ret.id}/finish",
                         data={f"received-{item_id}": TOO_MANY, f"damaged-{item_id}": "0",
                               "version": str(ret.version)})
    assert SAID in _refused(answer)
    db.session.rollback()
    assert db.session.get(Return, ret.id).state == "requested"


def test_a_counter_return_quantity_too_big_says_the_range(app, client):
    from tests import factories

    package = make_package("delivered", items=(("SKU-A", 2),), spare=0)
    counter = factories.location("COUNTER")
    factories.user("ayse", "staff", [counter])
    db.session.commit()
    login(client)
    answer = client.post("/store/COUNTER/returns/new", data={
        "q": package.order.number, "order": package.order_id, f"quantity-{package.items[0].product_id}": TOO_MANY})
    assert SAID in _refused(answer)
