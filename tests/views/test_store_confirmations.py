"""Steps that ask first and steps that come next: refusing asks on the page (so it works without
JavaScript), a ready label is printed before shipping and the no-JS page refreshes itself while
the carrier works, and click & collect speaks of pickup and asks before a handover without a code."""

from __future__ import annotations

import re

from app.extensions import db
from app.models import Setting
from tests.services.builders import make_package
from tests.views.test_store_packages import refusable_package, reload, url
from tests.views.test_store_queue import HX, login, store_with_staff

REFRESH = '<meta http-equiv="refresh" content="2">'  # TestConfig.STORE_NOSCRIPT_REFRESH_SECONDS


def test_refusing_without_javascript_asks_on_the_page_with_the_reason_then_refuses(app, client):
    package = refusable_package(client)
    page = client.get(url(package)).get_data(as_text=True)
    refuse_form = re.search(r'<form[^>]*/commands/refuse".*?</form>', page, re.S).group(0)
    # With JavaScript the browser's dialog asks and store.js enables this; a plain post leaves it out.
    assert '<input type="hidden" name="confirm" value="1" disabled data-js-confirmed>' in refuse_form

    asked = client.post(url(package, "/commands/refuse"), data={"version": package.version, "reason": "damaged"})
    body = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "<html" in body
    step = re.search(r'<div id="confirm-step".*?</form>', body, re.S).group(0)
    assert "Refuse this package?" in step and "<dt>Reason</dt><dd>Item damaged</dd>" in step
    for hidden in ('name="confirm" value="1"', 'name="reason" value="damaged"', f'name="version" value="{package.version}"'):
        assert hidden in step, hidden
    assert "btn-danger" in step and "Keep the package" in step
    assert 'data-command="refuse"' not in body.replace(step, "")  # the answer is the only way on
    assert reload(package).state == "waiting"

    done = client.post(url(package, "/commands/refuse"),
                       data={"version": package.version, "reason": "damaged", "confirm": "1"})
    assert done.status_code == 303 and reload(package).state == "refused"


def test_a_refusal_without_a_reason_is_not_asked_about_but_sent_back_to_the_form(app, client):
    store = store_with_staff()
    package = make_package("waiting", location=store)
    login(client)
    response = client.post(url(package, "/commands/refuse"), data={"version": package.version}, headers=HX)
    assert response.status_code == 422 and "confirm-step" not in response.get_data(as_text=True)


def test_an_old_refuse_form_after_a_colleague_started_says_it_was_not_done_instead_of_asking(app, client):
    package = refusable_package(client)
    client.post(url(package, "/commands/prepare"), data={"version": package.version}, headers=HX)
    stale = client.post(url(package, "/commands/refuse"), data={"version": package.version, "reason": "damaged"},
                        headers=HX)
    body = stale.get_data(as_text=True)
    assert "Already done" not in body and "confirm-step" not in body  # the refusal was not done
    assert "so “Refuse” was not done" in body and reload(package).state == "preparing"


def test_with_the_label_ready_print_label_is_the_next_step_then_ship(app, client):
    store = store_with_staff()
    package = make_package("packed", location=store)
    package.shipment.label_pdf = b"%PDF-1.4 label"
    db.session.commit()
    login(client)
    body = client.get(url(package), headers=HX).get_data(as_text=True)
    actions = re.search(r'<div id="actions".*?</div>\s*\n\s*<div class="items"', body, re.S).group(0)
    solid = re.findall(r'<(?:a|button)[^>]*btn-primary[^>]*>', actions)
    assert len(solid) == 1 and "data-print-label" in solid[0] and url(package, "/label.pdf") in solid[0]
    assert actions.index("Print label") < actions.index('data-command="ship"')
    ship = re.search(r'<button[^>]*data-command="ship"[^>]*>', actions).group(0)
    assert "btn-primary" not in ship
    assert body.count(">Print label</a>") == 1  # not repeated in the shipping box


def test_the_page_without_javascript_refreshes_itself_only_while_the_label_is_on_its_way(app, client):
    store = store_with_staff()
    waiting = make_package("waiting_cargo_label", location=store)
    assert waiting.shipment.status == "pending"
    labelled = make_package("packed", location=store)
    login(client)
    page = client.get(url(waiting)).get_data(as_text=True)
    head = page.split("</head>")[0]
    assert f"<noscript>{REFRESH}</noscript>" in head  # a scripted page polls instead of reloading
    assert "this page updates by itself" in page
    assert REFRESH not in client.get(url(waiting), headers=HX).get_data(as_text=True)
    assert REFRESH not in client.get(url(labelled)).get_data(as_text=True)


def click_and_collect(store, state, **kw):
    package = make_package(state, location=store, delivery_type="click_and_collect", **kw)
    package.order.customer_name, package.order.customer_phone = "Elif Şahin", "+90 555 010 20 30"
    db.session.commit()
    return package


def test_click_and_collect_pages_speak_of_pickup_not_shipment(app, client):
    store = store_with_staff()
    package = click_and_collect(store, "preparing", items=[("TSHIRT-M", 1)])
    login(client)
    client.post(url(package, "/scan"), data={"barcode": package.items[0].product.barcode_values[0]}, headers=HX)
    body = client.get(url(package)).get_data(as_text=True)
    assert "<h2>Pickup</h2>" in body and "<h2>Shipping</h2>" not in body and "No shipment" not in body
    assert "without shipment" not in body
    pack = re.search(r'<button[^>]*data-command="complete_packing_without_shipment"[^>]*>([^<]*)<', body)
    assert pack.group(1) == "Complete packing" and "btn-primary" in pack.group(0)  # the next step
    assert "Elif Şahin" in body and "+90 555 010 20 30" in body

    done = client.post(url(package, "/commands/complete_packing_without_shipment"),
                       data={"version": reload(package).version}, headers=HX).get_data(as_text=True)
    assert "Packed. Put it on the pickup shelf and tap Ready for pickup." in done and "carrier" not in done.lower()
    ready = re.search(r'<button[^>]*data-command="ready_for_pickup"[^>]*>([^<]*)<', done)
    assert ready.group(1) == "Ready for pickup" and "btn-primary" in ready.group(0)
    queue = client.get("/store/IST-KDK/packages?tab=ready_for_pickup").get_data(as_text=True)
    assert re.search(r'tab=ready_for_pickup"[^>]*>\s*Ready for pickup', queue)


def test_handing_over_without_a_pickup_code_asks_with_the_customers_name_and_phone(app, client):
    store = store_with_staff()
    package = click_and_collect(store, "ready_for_pickup")
    login(client)
    page = client.get(url(package)).get_data(as_text=True)
    hand_over = re.search(r'<button[^>]*data-command="deliver_to_customer"[^>]*>([^<]*)<', page)
    assert hand_over.group(1) == "Hand over to customer" and "btn-primary" in hand_over.group(0)
    assert "Customer&#39;s code" not in page  # codes are off

    for headers in (HX, {}):  # asked with and without JavaScript
        asked = client.post(url(package, "/commands/deliver_to_customer"), data={"version": package.version},
                            headers=headers)
        body = asked.get_data(as_text=True)
        assert asked.status_code == 200
        step = re.search(r'<div id="confirm-step".*?</form>', body, re.S).group(0)
        assert "Hand this package over to the customer?" in step
        assert "<dt>Name on the order</dt><dd>Elif Şahin</dd>" in step
        assert "<dt>Phone</dt><dd>+90 555 010 20 30</dd>" in step
        assert re.search(r'<button[^>]*btn-primary[^>]*>Hand over to customer</button>', step)
        assert reload(package).state == "ready_for_pickup"

    done = client.post(url(package, "/commands/deliver_to_customer"), data={"version": package.version, "confirm": "1"},
                       headers=HX)
    assert "Handed over to the customer." in done.get_data(as_text=True)
    assert reload(package).state == "delivered"


def test_with_pickup_codes_the_code_is_the_check_and_nothing_more_is_asked(app, client):
    store = store_with_staff()
    db.session.add(Setting(key="IS_OTP_ENABLED", value=True))
    db.session.commit()
    package = click_and_collect(store, "packed")
    login(client)
    client.post(url(package, "/commands/ready_for_pickup"), data={"version": package.version}, headers=HX)
    package = reload(package)
    page = client.get(url(package)).get_data(as_text=True)
    assert "Ask for the code the customer was sent" in page and package.otp_code not in page
    done = client.post(url(package, "/commands/deliver_to_customer"),
                       data={"version": package.version, "otp": package.otp_code}, headers=HX)
    assert "confirm-step" not in done.get_data(as_text=True) and reload(package).state == "delivered"
