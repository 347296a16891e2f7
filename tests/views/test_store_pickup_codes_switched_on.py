"""Pickup codes switched on after a click & collect package was put on the pickup shelf: the
package has no code (its customer was sent none), so no code may hand it over — it is handed over
on the name check as before, through the API and on the store page (docs/decisions.md)."""

from __future__ import annotations

import re

from app.extensions import db
from app.services.settings import put_setting
from tests.api.test_bad_input_regressions import auth
from tests.views.test_store_confirmations import click_and_collect
from tests.views.test_store_packages import reload, url
from tests.views.test_store_queue import HX, login, store_with_staff


def _codeless_package_then_codes_on(client):
    store = store_with_staff()
    package = click_and_collect(store, "packed")
    login(client)
    # Made ready while codes are off: no code is issued, the customer is sent none.
    client.post(url(package, "/commands/ready_for_pickup"), data={"version": package.version}, headers=HX)
    package = reload(package)
    assert package.state == "ready_for_pickup" and package.otp_code is None
    put_setting("IS_OTP_ENABLED", True)
    db.session.commit()
    return store, package


def test_the_api_refuses_any_code_for_a_package_without_one_and_hands_it_over_without(app, client):
    store, package = _codeless_package_then_codes_on(client)
    headers = auth("kdk", "staff", [store])
    endpoint = f"/api/v1/packages/{package.id}/commands/deliver_to_customer"
    for guess in ("0000", "1", "000000"):
        answer = client.post(endpoint, json={"otp": guess}, headers=headers)
        assert answer.status_code == 422, guess
        assert answer.get_json()["error"]["code"] == "no_pickup_code"
        assert reload(package).state == "ready_for_pickup"

    done = client.post(endpoint, json={}, headers=headers)
    assert done.status_code == 200 and reload(package).state == "delivered"


def test_the_store_page_shows_no_code_field_and_asks_for_the_name_check(app, client):
    _, package = _codeless_package_then_codes_on(client)
    page = client.get(url(package)).get_data(as_text=True)
    assert 'id="deliver_to_customer-otp"' not in page and "Customer&#39;s code" not in page
    assert "Ask for their name and check it against the order" in page

    # A form from a page drawn with a code field (or typed by hand) cannot hand it over on any code.
    typed = client.post(url(package, "/commands/deliver_to_customer"),
                        data={"version": package.version, "otp": "0000", "confirm": "1"}, headers=HX)
    assert typed.status_code == 422 and "has no pickup code" in typed.get_data(as_text=True)
    assert reload(package).state == "ready_for_pickup"

    asked = client.post(url(package, "/commands/deliver_to_customer"), data={"version": package.version}, headers=HX)
    step = re.search(r'<div id="confirm-step".*?</form>', asked.get_data(as_text=True), re.S).group(0)
    assert "Hand this package over to the customer?" in step and "<dt>Name on the order</dt><dd>Elif Şahin</dd>" in step
    assert reload(package).state == "ready_for_pickup"
    done = client.post(url(package, "/commands/deliver_to_customer"),
                       data={"version": package.version, "confirm": "1"}, headers=HX)
    assert "Handed over to the customer." in done.get_data(as_text=True) and reload(package).state == "delivered"


def test_a_package_made_ready_with_codes_on_still_needs_its_code(app, client):
    store = store_with_staff()
    put_setting("IS_OTP_ENABLED", True)
    package = click_and_collect(store, "packed")
    login(client)
    client.post(url(package, "/commands/ready_for_pickup"), data={"version": package.version}, headers=HX)
    package = reload(package)
    page = client.get(url(package)).get_data(as_text=True)
    assert 'id="deliver_to_customer-otp"' in page
    wrong = client.post(url(package, "/commands/deliver_to_customer"),
                        data={"version": package.version, "otp": "0000"}, headers=HX)
    assert wrong.status_code == 422 and reload(package).state == "ready_for_pickup"
    blank = client.post(url(package, "/commands/deliver_to_customer"),
                        data={"version": package.version, "confirm": "1"}, headers=HX)
    assert blank.status_code == 422 and reload(package).state == "ready_for_pickup"
