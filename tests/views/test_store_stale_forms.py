"""A form drawn before a colleague changed the work order (a stale tab) says "Already done" only
when its step really is in place; otherwise that the step was NOT done, with the current state."""

from __future__ import annotations

from app.extensions import db
from tests import factories
from tests.services.builders import make_package
from tests.views.test_store_packages import reload, url
from tests.views.test_store_queue import HX, login, store_with_staff

NOT_DONE = "Someone changed this meanwhile (a colleague, or you in another tab), so “Refuse” was not done."


def _waiting(store):
    factories.denial_reason("damaged", title="Item damaged")
    db.session.commit()
    return make_package("waiting", location=store, items=[("TSHIRT-M", 2)])


def test_a_stale_tab_refusing_after_a_colleague_scanned_says_the_refusal_was_not_done(app, client):
    store = store_with_staff()
    package = _waiting(store)
    old_version = package.version  # tab B drew its Refuse form now
    login(client)
    # Tab A: start preparing and scan one unit.
    client.post(url(package, "/commands/prepare"), data={"version": old_version}, headers=HX)
    client.post(url(package, "/scan"), data={"barcode": package.items[0].product.barcode_values[0]}, headers=HX)

    for headers in (HX, {}):  # with JavaScript (the browser asked already) and without
        answer = client.post(url(package, "/commands/refuse"),
                             data={"version": old_version, "reason": "damaged", "confirm": "1"}, headers=headers)
        body = (answer.get_data(as_text=True) if headers
                else client.get(answer.headers["Location"]).get_data(as_text=True))
        assert "Already done" not in body
        assert NOT_DONE in body
        assert 'data-command="complete_packing' in body  # the current state: still preparing
        assert reload(package).state == "preparing"


def test_a_double_tap_on_refuse_still_says_already_done(app, client):
    store = store_with_staff()
    package = _waiting(store)
    version = package.version
    login(client)
    form = {"version": version, "reason": "damaged", "confirm": "1"}
    first = client.post(url(package, "/commands/refuse"), data=form, headers=HX)
    assert "Refused." in first.get_data(as_text=True)
    again = client.post(url(package, "/commands/refuse"), data=form, headers=HX).get_data(as_text=True)
    assert "Already done — here is the current state." in again and NOT_DONE not in again
    assert reload(package).state == "refused"
