"""What a store-floor tester found said untruly, answered in plain words (English and Turkish):
a Finish on a delivery another tablet finished says it is already received (not "count again"),
the same counter return taken again from an old page is "Already done" (not the generic refusal,
nor a second return), and the invoice form asks for its link as required and says what to type."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import InboundShipment, InboundShipmentLine, PurchaseOrderLine, Return
from tests import factories
from tests.conftest import IsolatedClient
from tests.services.builders import make_package
from tests.services.inbound.helpers import purchase_order
from tests.threads import at_once
from tests.views.test_store_packages import reload, url
from tests.views.test_store_queue import HX, login, store_with_staff

TEA = "8690000000301"


def _turkish(username: str = "ayse") -> None:
    db.session.execute(db.text("UPDATE users SET language = 'tr' WHERE username = :u"), {"u": username})
    db.session.commit()


def _hidden(page: str, name: str) -> str:
    return re.search(rf'name="{name}" value="([^"]*)"', page).group(1)


def _delivery(kind: str):
    """A warehouse expecting 5 units of tea on a purchase order, carried by a container; the page
    of the purchase order or of the container."""
    warehouse = factories.location("WH-11", type="warehouse")
    tea = factories.product("TEA", TEA)
    factories.user("ayse", "staff", [warehouse])
    po = purchase_order(warehouse, [(tea, 5)])
    shipment = InboundShipment(number="CONT-11", destination=warehouse, status="departed")
    shipment.lines = [InboundShipmentLine(purchase_order_line=po.lines[0], quantity=5)]
    db.session.add(shipment)
    db.session.commit()
    record = po if kind == "purchase-orders" else shipment
    return f"/store/WH-11/receiving/{kind}/{record.id}", record.number


def _finish_form(client, page_url: str) -> dict[str, str]:
    page = client.get(page_url).get_data(as_text=True)
    form = {"receipt_key": _hidden(page, "receipt_key"), "version": _hidden(page, "version"),
            "count-TEA": "5", "damaged-TEA": "0", "action": "finish"}
    if 'name="basis"' in page:
        form["basis"] = _hidden(page, "basis")
    return form


def _received() -> int:
    db.session.rollback()
    return db.session.scalar(select(func.sum(PurchaseOrderLine.received)))


@pytest.mark.parametrize("kind", ["inbound-shipments", "purchase-orders"])
def test_a_finish_after_another_tablet_received_everything_says_already_received(app, client, kind):
    page_url, number = _delivery(kind)
    login(client)
    tablet = app.test_client()
    login(tablet)
    mine, theirs = _finish_form(client, page_url), _finish_form(tablet, page_url)
    assert tablet.post(page_url, data=theirs).status_code == 303  # the other tablet finished first
    assert _received() == 5

    answer = client.post(page_url, data=mine, headers=HX)
    body = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert f"Already received — {number} was received meanwhile" in body
    assert "count again" not in body and "Finish receiving" not in body  # no count to start over
    assert _received() == 5  # booked once

    _turkish()
    body = client.post(page_url, data=mine, headers=HX).get_data(as_text=True)
    assert f"Zaten teslim alındı — {number}" in body and "Already received" not in body


def test_a_finish_after_the_order_was_closed_does_not_claim_it_was_received(app, client):
    from app.services.inbound.purchase_orders import run_purchase_order_command
    from tests.services.inbound.helpers import SUPERVISOR

    page_url, number = _delivery("purchase-orders")
    login(client)
    form = _finish_form(client, page_url)
    po_id = int(page_url.rsplit("/", 1)[1])
    run_purchase_order_command(po_id, "close_short", {"reason": "supplier gone"}, SUPERVISOR)
    body = client.post(page_url, data=form, headers=HX).get_data(as_text=True)
    assert "Already received" not in body and "count again" not in body
    assert f"Nothing more is expected on {number}" in body
    assert _received() == 0


def _counter(client, code: str, number: str) -> tuple[str, dict[str, str]]:
    """The counter's form for the order `number`, as the page draws it, with one unit chosen."""
    found = client.get(f"/store/{code}/returns/new", query_string={"q": number}).get_data(as_text=True)
    order_url = re.search(r'href="([^"]*order=\d+)"', found).group(1).replace("&amp;", "&")
    page = client.get(order_url).get_data(as_text=True)
    form = {"q": number, "order": _hidden(page, "order"), "drawn_at": _hidden(page, "drawn_at"),
            "csrf_token": ""}
    quantity = re.search(r'name="(quantity-\d+)"', page).group(1)
    form[quantity] = "1"
    return f"/store/{code}/returns/new", form


@pytest.mark.parametrize("units", [1, 3])
def test_take_the_return_sent_again_from_an_old_page_says_already_done(app, client, units):
    """1 of 1 unit: the second send would be refused (nothing left); 1 of 3: it would take a
    second return of the same unit. Either way the return was already taken."""
    package = make_package("delivered", items=[("SKU-A", units)], spare=0)
    store = package.location
    factories.user("ayse", "staff", [store])
    db.session.commit()
    login(client)
    post_url, form = _counter(client, store.code, package.order.number)
    second_tab = dict(form)
    first = client.post(post_url, data=form)
    assert first.status_code == 303
    again = client.post(post_url, data=second_tab)  # the other tab, drawn before the first was taken
    assert again.status_code == 303 and again.headers["Location"] == first.headers["Location"]
    body = client.get(again.headers["Location"]).get_data(as_text=True)
    number = f"{package.order.number}-R1"
    assert f"Already done — return {number} was already taken with these items." in body
    assert "not valid" not in body and "more units than" not in body
    db.session.rollback()
    assert db.session.scalar(select(func.count(Return.id))) == 1

    _turkish()
    body = client.get(client.post(post_url, data=second_tab).headers["Location"]).get_data(as_text=True)
    assert f"Zaten yapılmış — {number} iadesi" in body


@pytest.mark.parametrize("units", [1, 3])
def test_take_the_return_sent_twice_at_the_same_moment_takes_one_return(app, units):
    """Two tablets (or a double tap) sending the same form at once: the second waits for the
    first's lock on the order and finds its return — one return, both led to it."""
    package = make_package("delivered", items=[("SKU-A", units)], spare=0)
    store = package.location
    factories.user("ayse", "staff", [store])
    db.session.commit()
    app.test_client_class = IsolatedClient
    clients = [app.test_client(), app.test_client()]
    for each in clients:
        login(each)
    post_url, form = _counter(clients[0], store.code, package.order.number)
    answers, failures = at_once(app, [lambda c=c: c.post(post_url, data=form) for c in clients])
    assert not failures, failures
    assert [a.status_code for a in answers] == [303, 303]
    assert answers[0].headers["Location"] == answers[1].headers["Location"]
    db.session.rollback()
    assert db.session.scalar(select(func.count(Return.id))) == 1


def test_a_new_form_for_other_units_is_a_new_return(app, client):
    """Only the same form sent again is "Already done": a new page taking another unit takes it."""
    package = make_package("delivered", items=[("SKU-A", 3)], spare=0)
    store = package.location
    factories.user("ayse", "staff", [store])
    db.session.commit()
    login(client)
    post_url, form = _counter(client, store.code, package.order.number)
    assert client.post(post_url, data=form).status_code == 303
    post_url, later = _counter(client, store.code, package.order.number)
    assert client.post(post_url, data={**later, next(k for k in later if k.startswith("quantity-")): "2"}) \
        .status_code == 303
    db.session.rollback()
    assert db.session.scalar(select(func.count(Return.id))) == 2


def test_the_invoice_link_is_asked_for_as_required_and_its_absence_says_what_to_type(app, client):
    store = store_with_staff()
    package = make_package("packed", location=store)
    login(client)
    page = client.get(url(package)).get_data(as_text=True)
    label = page.split('for="update_invoice-url"')[1].split("</label>")[0]
    assert "optional" not in label and "where the invoice can be opened" in label
    assert re.search(r'id="update_invoice-url"[^>]*required', page)

    answer = client.post(url(package, "/commands/update_invoice"),
                         data={"version": package.version, "number": "FTR-1", "date": "2026-12-01"}, headers=HX)
    body = answer.get_data(as_text=True)
    assert answer.status_code == 422
    field = body.split('for="update_invoice-url"')[1].split("</div>")[0]
    assert "Type the invoice link: the web address where the invoice can be opened." in field
    assert "Give a link or a document." not in body and reload(package).invoice is None

    _turkish()
    body = client.post(url(package, "/commands/update_invoice"),
                       data={"version": package.version, "number": "FTR-1", "date": "2026-12-01"},
                       headers=HX).get_data(as_text=True)
    label = body.split('for="update_invoice-url"')[1].split("</div>")[0]
    assert "isteğe bağlı" not in label and "Type the invoice link" not in label and "Fatura bağlantısını" in label
