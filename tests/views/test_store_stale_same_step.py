"""A stale form of a step that keeps the state (Refresh label, Update invoice, Update shipment
info) says "Already done" only when that very step, with the values posted, is in the work
order's history since the form was drawn (the `drawn_at` the page carries): not for a row from
before the page was drawn, not for the same step with other values, and not for a page without
the moment (it cannot tell, so it says the step was not done)."""

from __future__ import annotations

import re

from app.extensions import db
from app.services.orders import cancel_order
from tests.services.builders import make_package, supervisor
from tests.views.test_store_packages import reload, transitions, url
from tests.views.test_store_queue import HX, login, store_with_staff

DONE = "Already done — here is the current state."
NOT_DONE = "Someone changed this meanwhile (a colleague, or you in another tab), so “{}” was not done."


def drawn_form(client, package, **values) -> dict:
    """The package page's form values as a browser would send them: its version and the moment
    it was drawn, read from the page."""
    body = client.get(url(package)).get_data(as_text=True)
    version = re.search(r'name="version" value="(\d+)"', body).group(1)
    drawn = re.search(r'name="drawn_at" value="([^"]+)"', body).group(1)
    return {"version": version, "drawn_at": drawn, **values}


INVOICE = {"date": "2026-12-01", "url": "https://invoices.example/7"}


def test_two_tabs_the_second_invoice_number_was_never_stored_and_is_not_done(app, client):
    store = store_with_staff()
    package = make_package("packed", location=store)
    login(client)
    tab_a = drawn_form(client, package, number="FTR-2", **INVOICE)
    tab_b = drawn_form(client, package, number="FTR-3", **INVOICE)
    client.post(url(package, "/commands/update_invoice"), data=tab_a, headers=HX)
    body = client.post(url(package, "/commands/update_invoice"), data=tab_b, headers=HX).get_data(as_text=True)
    assert NOT_DONE.format("Update invoice") in body and DONE not in body
    assert reload(package).invoice.number == "FTR-2" and transitions(package, "update_invoice") == 1
    # Tab A tapped twice: that was done.
    again = client.post(url(package, "/commands/update_invoice"), data=tab_a, headers=HX).get_data(as_text=True)
    assert DONE in again and NOT_DONE.format("Update invoice") not in again


def test_two_tabs_the_second_tracking_number_was_never_stored_and_is_not_done(app, client):
    store = store_with_staff()
    package = make_package("packed", location=store)
    login(client)
    tab_a = drawn_form(client, package, tracking_number="TRK-A")
    tab_b = drawn_form(client, package, tracking_number="TRK-B")
    first = client.post(url(package, "/commands/update_shipment_info"), data=tab_a, headers=HX)
    assert first.status_code == 200 and "TRK-A" in first.get_data(as_text=True)
    body = client.post(url(package, "/commands/update_shipment_info"), data=tab_b, headers=HX).get_data(as_text=True)
    assert DONE not in body and "TRK-A" in body
    again = client.post(url(package, "/commands/update_shipment_info"), data=tab_a, headers=HX).get_data(as_text=True)
    assert DONE in again


def test_a_partial_cancel_moving_the_version_by_two_reaches_no_older_row(app, client):
    """A Refresh label done this morning, a page drawn now, then a partial order cancel moves the
    package's version by two with one history row: this morning's row is not read, the stale
    Refresh label was not done."""
    store = store_with_staff()
    package = make_package("packed", location=store, items=[("SKU-A", 1), ("SKU-B", 1)])
    login(client)
    client.post(url(package, "/commands/refresh_label"), data=drawn_form(client, package), headers=HX)
    form = drawn_form(client, package)
    before = reload(package).version
    item = next(i for i in reload(package).order.items if i.product.sku == "SKU-B")
    cancel_order(package.order_id, {"items": [{"item_id": item.id, "quantity": 1}], "reason": "customer"}, supervisor())
    db.session.commit()
    assert reload(package).version > before
    body = client.post(url(package, "/commands/refresh_label"), data=form, headers=HX).get_data(as_text=True)
    assert DONE not in body
    assert reload(package).state == "packed" and transitions(package, "refresh_label") == 1


def test_a_page_without_the_moment_hears_not_done(app, client):
    store = store_with_staff()
    package = make_package("packed", location=store)
    login(client)
    form = drawn_form(client, package)
    client.post(url(package, "/commands/refresh_label"), data=form, headers=HX)
    old_page = {"version": form["version"]}
    for drawn in (None, "yesterday", "9" * 50):
        data = old_page if drawn is None else {**old_page, "drawn_at": drawn}
        response = client.post(url(package, "/commands/refresh_label"), data=data, headers=HX)
        body = response.get_data(as_text=True)
        assert response.status_code == 200 and NOT_DONE.format("Refresh label") in body, drawn
    assert reload(package).state == "packed" and transitions(package, "refresh_label") == 1
