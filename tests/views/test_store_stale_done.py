"""A double tap (or a second tab) on a step that WAS done says "Already done" and shows the work
order as it is now — also when the step keeps the state (Refresh label, Update invoice), returns
to the remembered state (Unblock), or when the work order moved on after it (Complete packing,
then the label job moved the package on to packed). A step that was not done still says so."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.services.carriers.base import CarrierShipment
from app.services.shipments import label_ready
from tests.services.builders import make_package
from tests.views.test_store_packages import reload, transitions, url
from tests.views.test_store_queue import HX, login, store_with_staff
from tests.views.test_store_stale_same_step import drawn_form

DONE = "Already done — here is the current state."
NOT_DONE = "Someone changed this meanwhile (a colleague, or you in another tab), so “{}” was not done."


def _tap_twice(client, package, command, form):
    first = client.post(url(package, f"/commands/{command}"), data=form, headers=HX)
    assert first.status_code == 200 and DONE not in first.get_data(as_text=True)
    return first


def test_complete_packing_tapped_again_after_the_label_moved_the_package_on_says_done(app, client):
    store = store_with_staff()
    package = make_package("preparing", location=store, items=[("TSHIRT-M", 1)])
    login(client)
    client.post(url(package, "/scan"), data={"barcode": package.items[0].product.barcode_values[0]}, headers=HX)
    form = {"version": reload(package).version}
    _tap_twice(client, package, "complete_packing", form)
    assert reload(package).state == "waiting_cargo_label"
    # The label job's answer arrives before the second tap: the package moves on to packed.
    shipment_id = reload(package).shipment.id
    db.session.rollback()
    label_ready(shipment_id, CarrierShipment("TRK-9", "", b"%PDF-1.4", "^XA^XZ", "R-9"), "carrier")
    assert reload(package).state == "packed"
    for headers in (HX, {}):
        again = client.post(url(package, "/commands/complete_packing"), data=form, headers=headers)
        body = again.get_data(as_text=True) if headers else client.get(again.headers["Location"]).get_data(as_text=True)
        assert DONE in body and NOT_DONE.format("Complete packing") not in body
        assert "TRK-9" in body  # how it is now: packed, with its tracking number
    assert transitions(package, "complete_packing") == 1


@pytest.mark.parametrize(("state", "command", "label", "fields", "then"), [
    ("blocked", "unblock", "Unblock", None, lambda p: p.state == "waiting"),
    ("packed", "refresh_label", "Refresh label", {}, lambda p: p.state == "packed"),
    ("packed", "update_invoice", "Update invoice",
     {"number": "INV-7", "date": "2026-12-01", "url": "https://invoices.example/7"},
     lambda p: p.invoice.number == "INV-7"),
], ids=["unblock", "refresh_label", "update_invoice"])
def test_a_step_tapped_twice_says_done(app, client, state, command, label, fields, then):
    """Unblock returns to the remembered state (its page has no moment: the version tells);
    Refresh label and Update invoice keep the state (their forms carry the moment drawn)."""
    store = store_with_staff()
    package = make_package(state, location=store)
    login(client)
    form = {"version": package.version} if fields is None else drawn_form(client, package, **fields)
    _tap_twice(client, package, command, form)
    again = client.post(url(package, f"/commands/{command}"), data=form, headers=HX).get_data(as_text=True)
    assert DONE in again and NOT_DONE.format(label) not in again
    assert then(reload(package)) and transitions(package, command) == 1


def test_a_stale_refresh_label_after_another_step_was_not_done(app, client):
    """Refresh label drawn before a colleague updated the invoice: the label was not asked for."""
    store = store_with_staff()
    package = make_package("packed", location=store)
    login(client)
    old = package.version
    client.post(url(package, "/commands/update_invoice"), data={"version": old, "number": "INV-8",
                                                              "date": "2026-12-01", "url": "https://invoices.example/7"}, headers=HX)
    again = client.post(url(package, "/commands/refresh_label"), data={"version": old}, headers=HX)
    body = again.get_data(as_text=True)
    assert NOT_DONE.format("Refresh label") in body and DONE not in body
    assert reload(package).state == "packed" and transitions(package, "refresh_label") == 0


def test_a_stale_unblock_after_a_colleague_cancelled_was_not_done(app, client):
    from tests import factories
    store = store_with_staff()
    factories.user("mert", "supervisor", [store])
    db.session.commit()
    package = make_package("blocked", location=store)
    old = package.version
    login(client, "mert")
    client.post(url(package, "/commands/cancel"), data={"version": old, "reason": "customer", "confirm": "1"},
                headers=HX)
    assert reload(package).state == "cancelled"
    body = client.post(url(package, "/commands/unblock"), data={"version": old}, headers=HX).get_data(as_text=True)
    assert NOT_DONE.format("Unblock") in body and DONE not in body
