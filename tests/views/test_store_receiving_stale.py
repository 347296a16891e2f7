"""Receiving screens answer a stale form truthfully: "Already finished" only when the return is
finished; a return changed first (marked sent, cancelled) was NOT finished and says so; a
delivery whose order changed meanwhile says nothing was booked without claiming that someone
received it."""

from __future__ import annotations

from app.extensions import db
from app.models import PurchaseOrderLine, Return
from app.services.inbound.purchase_orders import run_purchase_order_command
from app.services.returns import run_return_command
from tests import factories
from tests.services.builders import stock_of
from tests.services.inbound.helpers import SUPERVISOR, purchase_order
from tests.views.test_store_queue import HX, login
from tests.views.test_store_receiving import store_with_return

NOT_FINISHED = "Someone changed this return meanwhile (a colleague, or you in another tab), so it was not finished."


def _finish(client, store, ret, version, headers):
    item_id = ret.items[0].id
    return client.post(f"/store/{store.code}/receiving/returns/{ret.id}/finish",
                       data={f"received-{item_id}": "2", f"damaged-{item_id}": "0", "version": str(version)},
                       headers=headers)


def _state(ret) -> str:
    db.session.rollback()
    return db.session.get(Return, ret.id).state


def test_a_finish_form_drawn_before_the_return_was_marked_sent_was_not_finished(app, client):
    store, package, ret = store_with_return()
    old = ret.version
    run_return_command(ret.id, "ship", {}, SUPERVISOR)  # the customer's parcel was handed to the carrier
    login(client)
    for headers in (HX, {}):
        answer = _finish(client, store, ret, old, headers)
        body = (answer.get_data(as_text=True) if headers
                else client.get(answer.headers["Location"]).get_data(as_text=True))
        assert "Already finished" not in body and NOT_FINISHED in body
        assert f"/receiving/returns/{ret.id}/finish" in body  # still to count and finish: the way there is shown
    assert _state(ret) == "in_transit" and stock_of(store, "SKU-A") == (0, 0)


def test_a_finish_form_on_a_return_cancelled_meanwhile_says_cancelled(app, client):
    store, package, ret = store_with_return()
    old = ret.version
    run_return_command(ret.id, "cancel", {"reason": "customer kept it"}, SUPERVISOR)
    login(client)
    body = _finish(client, store, ret, old, HX).get_data(as_text=True)
    assert "Already finished" not in body and "This return was cancelled meanwhile, so nothing was received" in body
    assert _state(ret) == "cancelled"


def test_a_double_tap_on_finish_still_says_already_finished(app, client):
    store, package, ret = store_with_return()
    login(client)
    assert _finish(client, store, ret, ret.version, HX).status_code == 200
    again = _finish(client, store, ret, ret.version, HX).get_data(as_text=True)
    assert "Already finished — here is the return as it is now." in again and NOT_FINISHED not in again
    assert _state(ret) == "restocked" and stock_of(store, "SKU-A") == (2, 0)


def test_a_delivery_changed_meanwhile_does_not_claim_someone_received_it(app, client):
    warehouse = factories.location("WH-07", type="warehouse")
    tea = factories.product("TEA", "8690000000201")
    factories.user("ayse", "staff", [warehouse])
    po = purchase_order(warehouse, [(tea, 5)], state="confirmed")
    login(client)
    url = f"/store/WH-07/receiving/purchase-orders/{po.id}"
    page = client.get(url).get_data(as_text=True)
    form = {"receipt_key": page.split('name="receipt_key" value="')[1].split('"')[0],
            "version": page.split('name="version" value="')[1].split('"')[0]}
    run_purchase_order_command(po.id, "mark_in_transit", {}, SUPERVISOR)  # the order changed, nothing arrived
    answer = client.post(url, data={**form, "count-TEA": "2", "damaged-TEA": "0", "action": "finish"}, headers=HX)
    body = answer.get_data(as_text=True)
    assert answer.status_code == 409
    assert "Someone else received" not in body and "nothing was booked" in body
    db.session.rollback()
    assert db.session.get(PurchaseOrderLine, po.lines[0].id).received == 0
