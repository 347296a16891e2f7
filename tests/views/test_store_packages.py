"""Store package page: buttons from the transition table, commands, scanning, missing items, PDFs."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from app.extensions import db
from app.models import Package, Shipment, TransitionLog
from tests import factories
from tests.services.builders import make_package
from tests.views.test_store_queue import HX, login, store_with_staff


def url(package, tail=""):
    return f"/store/{package.location.code}/packages/{package.id}{tail}"


def reload(package) -> Package:
    db.session.rollback()  # end the test's read transaction: see what the requests committed
    return db.session.get(Package, package.id)


def transitions(package, command) -> int:
    return db.session.scalar(select(func.count()).select_from(TransitionLog).where(
        TransitionLog.entity_type == "package", TransitionLog.entity_id == package.id,
        TransitionLog.command == command))


def test_package_page_and_fragment_show_items_and_only_the_allowed_buttons(app, client):
    store = store_with_staff()
    package = make_package("waiting", location=store, items=[("TSHIRT-M", 2)])
    login(client)
    page = client.get(url(package))
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "<html" in body and "HX-Request" in page.headers["Vary"]
    assert "TSHIRT-M" in body and package.items[0].product.barcode_values[0] in body
    assert 'data-command="prepare"' in body and "Start preparing" in body
    assert 'data-command="ship"' not in body and 'data-command="cancel"' not in body  # cancel: managers only
    assert 'data-command="refuse"' in body and 'data-confirm="Refuse? This cannot be undone."' in body
    assert f'name="version" value="{package.version}"' in body
    assert "data-scan-field" not in body  # scanning starts with "Start preparing"
    fragment = client.get(url(package), headers=HX).get_data(as_text=True)
    assert "<html" not in fragment and fragment.lstrip().startswith('<section id="package"')


def test_prepare_with_htmx_swaps_the_fragment_and_a_double_tap_applies_once(app, client):
    store = store_with_staff()
    package = make_package("waiting", location=store)
    version = package.version
    login(client)
    first = client.post(url(package, "/commands/prepare"), data={"version": version}, headers=HX)
    body = first.get_data(as_text=True)
    assert first.status_code == 200 and "<html" not in body
    assert "Started. Scan each item as you take it." in body and "data-scan-field" in body
    again = client.post(url(package, "/commands/prepare"), data={"version": version}, headers=HX)
    assert again.status_code == 200
    assert "Already done — here is the current state." in again.get_data(as_text=True)
    assert reload(package).state == "preparing"
    assert transitions(package, "prepare") == 1


def test_plain_post_redirects_back_with_a_flash_message(app, client):
    store = store_with_staff()
    package = make_package("waiting", location=store)
    login(client)
    response = client.post(url(package, "/commands/prepare"), data={"version": package.version})
    assert response.status_code == 303 and response.headers["Location"].endswith(url(package))
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Started. Scan each item as you take it." in page
    stale = client.post(url(package, "/commands/prepare"), data={"version": package.version})
    assert stale.status_code == 303
    assert "Already done" in client.get(url(package)).get_data(as_text=True)


def test_a_command_not_allowed_now_shows_a_friendly_message_and_the_current_state(app, client):
    store = store_with_staff()
    package = make_package("waiting", location=store)
    login(client)
    response = client.post(url(package, "/commands/ship"), data={"version": package.version}, headers=HX)
    body = response.get_data(as_text=True)
    assert response.status_code == 409 and 'role="alert"' in body
    assert "That is not possible now (it is waiting)." in body
    assert "Traceback" not in body and 'data-command="prepare"' in body
    unknown = client.post(url(package, "/commands/explode"), headers=HX)
    assert unknown.status_code == 404 and 'id="package"' in unknown.get_data(as_text=True)
    assert reload(package).state == "waiting"


def test_scan_counts_one_unit_and_updates_only_the_row_counters_and_buttons(app, client):
    store = store_with_staff()
    package = make_package("preparing", location=store, items=[("TSHIRT-M", 2), ("CAP", 1)])
    item = next(i for i in package.items if i.product.sku == "TSHIRT-M")
    barcode = item.product.barcode_values[0]
    login(client)
    response = client.post(url(package, "/scan"), data={"barcode": barcode}, headers=HX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert body.lstrip().startswith('<p id="scan-feedback"') and "data-scan-ok" in body
    assert f'id="item-{item.id}"' in body and 'hx-swap-oob="true"' in body
    assert re.search(r'id="pick-progress"[^>]*hx-swap-oob="true"', body)
    assert re.search(r'id="actions"[^>]*hx-swap-oob="true"', body)
    assert f'name="version" value="{reload(package).version}"' in body  # buttons carry the new version
    other = next(i for i in package.items if i.product.sku == "CAP")
    assert f'id="item-{other.id}"' not in body
    assert "Picked <strong>1</strong> of <strong>3</strong>" in body
    assert reload(package).items[0].picked_quantity + reload(package).items[1].picked_quantity == 1


def test_wrong_barcode_is_an_inline_error_with_a_cue_and_changes_nothing(app, client):
    store = store_with_staff()
    package = make_package("preparing", location=store, items=[("TSHIRT-M", 1)])
    version = package.version
    login(client)
    response = client.post(url(package, "/scan"), data={"barcode": "0000000000000"}, headers=HX)
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "data-scan-error" in body and 'role="alert"' in body and "0000000000000" in body
    assert 'id="item-' not in body and 'id="pick-progress"' not in body  # nothing counted
    assert reload(package).version == version
    empty = client.post(url(package, "/scan"), data={"barcode": " "}, headers=HX)
    assert empty.status_code == 422 and "Scan a barcode" in empty.get_data(as_text=True)


def test_scan_without_javascript_redirects_to_the_package_with_the_result(app, client):
    store = store_with_staff()
    package = make_package("preparing", location=store, items=[("TSHIRT-M", 1)])
    login(client)
    good = client.post(url(package, "/scan"), data={"barcode": package.items[0].product.barcode_values[0]})
    assert good.status_code == 303 and good.headers["Location"].endswith(url(package))
    assert "Counted" in client.get(url(package)).get_data(as_text=True)
    bad = client.post(url(package, "/scan"), data={"barcode": "nope"})
    assert bad.status_code == 303
    assert 'flash-error' in client.get(url(package)).get_data(as_text=True)


def refusable_package(client):
    """A waiting package at a store whose staff member is signed in on `client`; 'damaged' (Item
    damaged) is a reason to refuse it."""
    store = store_with_staff()
    factories.denial_reason("damaged", title="Item damaged")
    db.session.commit()
    package = make_package("waiting", location=store)
    login(client)
    return package


def test_refuse_needs_a_reason_and_then_refuses(app, client):
    package = refusable_package(client)
    page = client.get(url(package)).get_data(as_text=True)
    assert '<option value="damaged">Item damaged</option>' in page
    missing = client.post(url(package, "/commands/refuse"), data={"version": package.version}, headers=HX)
    assert missing.status_code == 422 and "notice-error" in missing.get_data(as_text=True)
    # confirm=1: the browser's dialog already asked (without JavaScript the page asks first,
    # see test_store_confirmations.py).
    done = client.post(url(package, "/commands/refuse"),
                       data={"version": package.version, "reason": "damaged", "confirm": "1"}, headers=HX)
    assert done.status_code == 200 and "Refused. The package goes to another store." in done.get_data(as_text=True)
    assert reload(package).state == "refused"


def test_missing_items_form_page_fragment_validation_and_report(app, client):
    store = store_with_staff()
    package = make_package("preparing", location=store, items=[("TSHIRT-M", 3), ("CAP", 1)])
    item = next(i for i in package.items if i.product.sku == "TSHIRT-M")
    login(client)
    page = client.get(url(package, "/missing"))
    assert page.status_code == 200 and b"<html" in page.data and b"Units missing" in page.data
    fragment = client.get(url(package, "/missing"), headers=HX)
    assert b"<html" not in fragment.data and "HX-Request" in fragment.headers["Vary"]
    nothing = client.post(url(package, "/missing"), data={"version": package.version}, headers=HX)
    assert nothing.status_code == 422 and b"Units missing" in nothing.data and b"notice-error" in nothing.data
    too_many = client.post(url(package, "/missing"), data={"version": package.version, f"quantity-{item.id}": "9",
                                                           f"reason-{item.id}": "defective"}, headers=HX)
    assert too_many.status_code == 422 and b'value="9"' in too_many.data  # the form keeps what was typed
    done = client.post(url(package, "/missing"), data={"version": package.version, f"quantity-{item.id}": "1",
                                                       f"reason-{item.id}": "defective"}, headers=HX)
    assert done.status_code == 200 and b"Missing items reported" in done.data
    db.session.expire_all()
    assert next(i for i in reload(package).items if i.product.sku == "TSHIRT-M").quantity == 2


def test_label_and_packing_slip_are_pdfs_for_this_store_only(app, client):
    store = store_with_staff()
    package = make_package("packed", location=store)
    shipment = db.session.scalar(select(Shipment).where(Shipment.package_id == package.id))
    shipment.label_pdf = b"%PDF-1.4 test label"
    db.session.commit()
    login(client)
    page = client.get(url(package)).get_data(as_text=True)
    assert "Print label" in page and "Print packing slip" in page
    label = client.get(url(package, "/label.pdf"))
    assert label.status_code == 200 and label.mimetype == "application/pdf" and label.data.startswith(b"%PDF")
    slip = client.get(url(package, "/packing-slip.pdf"))
    assert slip.status_code == 200 and slip.data.startswith(b"%PDF")
    waiting = make_package("waiting", location=store)
    not_ready = client.get(url(waiting, "/label.pdf"))
    assert not_ready.status_code == 404 and b"not ready yet" in not_ready.data


def test_another_stores_package_is_404_on_every_route(app, client):
    store_with_staff()
    elsewhere = factories.location("ANK-01")
    db.session.commit()
    foreign = make_package("preparing", location=elsewhere)
    mine_code = "IST-KDK"
    login(client)
    for tail in ("", "/missing", "/label.pdf", "/packing-slip.pdf"):
        assert client.get(f"/store/ANK-01/packages/{foreign.id}{tail}").status_code == 404, tail
        # Through my own store's URL too: the package must belong to the location.
        assert client.get(f"/store/{mine_code}/packages/{foreign.id}{tail}").status_code == 404, tail
    for tail in ("/commands/prepare", "/scan", "/missing"):
        for code in ("ANK-01", mine_code):
            response = client.post(f"/store/{code}/packages/{foreign.id}{tail}", data={"barcode": "x"}, headers=HX)
            assert response.status_code == 404, (code, tail)
    assert reload(foreign).state == "preparing"


def test_click_and_collect_ready_for_pickup_then_handover_with_the_customers_code(app, client):
    from app.models import Setting

    store = store_with_staff()
    db.session.add(Setting(key="IS_OTP_ENABLED", value=True))
    db.session.commit()
    package = make_package("packed", location=store, delivery_type="click_and_collect")
    login(client)
    page = client.get(url(package)).get_data(as_text=True)
    assert 'data-command="ready_for_pickup"' in page and 'data-command="ship"' not in page
    ready = client.post(url(package, "/commands/ready_for_pickup"), data={"version": package.version}, headers=HX)
    body = ready.get_data(as_text=True)
    assert ready.status_code == 200 and 'data-command="deliver_to_customer"' in body
    assert 'id="deliver_to_customer-otp"' in body  # the code field appears because OTP is on
    package = reload(package)
    code, version = package.otp_code, package.version
    assert code and code not in body  # staff ask the customer; the page never shows it
    wrong = client.post(url(package, "/commands/deliver_to_customer"), data={"version": version, "otp": "000000x"},
                        headers=HX)
    assert wrong.status_code == 422 and "The pickup code is not correct" in wrong.get_data(as_text=True)
    assert wrong.get_data(as_text=True).count("The pickup code is not correct") == 1  # said once
    done = client.post(url(package, "/commands/deliver_to_customer"), data={"version": version, "otp": code},
                       headers=HX)
    assert done.status_code == 200 and "Handed over to the customer." in done.get_data(as_text=True)
    assert reload(package).state == "delivered"


def test_a_rejected_form_keeps_what_was_typed_and_says_which_field_is_wrong(app, client):
    store = store_with_staff()
    factories.cargo_company("yurtici", name="Yurtiçi Kargo")
    db.session.commit()
    package = make_package("packed", location=store, with_shipment=False)
    login(client)
    response = client.post(url(package, "/commands/ship_without_integration"), headers=HX, data={
        "version": package.version, "cargo_company": "yurtici", "tracking_number": "YK-1",
        "tracking_url": "not a link"})
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and 'class="field-error"' in body
    assert 'value="YK-1"' in body and '<option value="yurtici" selected>' in body
    assert reload(package).state == "packed"


def test_a_scan_on_a_package_a_colleague_already_packed_redraws_the_whole_package(app, client):
    store = store_with_staff()
    package = make_package("packed", location=store)
    login(client)
    response = client.post(url(package, "/scan"), data={"barcode": package.items[0].product.barcode_values[0]},
                           headers=HX)
    body = response.get_data(as_text=True)
    assert response.status_code == 409
    assert response.headers["HX-Retarget"] == "#package" and response.headers["HX-Reswap"] == "outerHTML"
    assert body.lstrip().startswith('<section id="package"') and "That is not possible now (it is packed)." in body
    assert "data-scan-field" not in body


def test_packing_with_units_unscanned_asks_first_and_carries_what_was_typed(app, client):
    store = store_with_staff()
    package = make_package("preparing", location=store, items=[("TSHIRT-M", 2), ("CAP", 1)])
    login(client)
    page = client.get(url(package)).get_data(as_text=True)
    pack_button = re.search(r'<button[^>]*data-command="complete_packing"[^>]*>', page).group(0)
    assert "btn-primary" not in pack_button  # scanning is the next step, not packing
    form = {"version": package.version, "boxes": "2", "weight_kg": "1.5"}

    asked = client.post(url(package, "/commands/complete_packing"), data=form, headers=HX)
    body = asked.get_data(as_text=True)
    assert asked.status_code == 200 and body.lstrip().startswith('<section id="package"')
    assert "Only 0 of 3 items were scanned. Pack anyway?" in body
    question = re.search(r'<div id="confirm-unscanned".*?</form>', body, re.S).group(0)
    for hidden in ('name="confirm_unscanned" value="1"', 'name="boxes" value="2"', 'name="weight_kg" value="1.5"',
                   f'name="version" value="{package.version}"'):
        assert hidden in question, hidden
    assert reload(package).state == "preparing" and transitions(package, "complete_packing") == 0

    plain = client.post(url(package, "/commands/complete_packing"), data=form)  # without JavaScript
    assert plain.status_code == 200 and "<html" in plain.get_data(as_text=True)
    assert "Only 0 of 3 items were scanned. Pack anyway?" in plain.get_data(as_text=True)

    packed = client.post(url(package, "/commands/complete_packing"), data={**form, "confirm_unscanned": "1"})
    assert packed.status_code == 303
    package = reload(package)
    assert (package.state, package.shipment.boxes) == ("waiting_cargo_label", 2)
    log = db.session.scalar(select(TransitionLog.params).where(
        TransitionLog.entity_type == "package", TransitionLog.entity_id == package.id,
        TransitionLog.command == "complete_packing"))
    assert log == {"boxes": 2, "weight_kg": "1.5", "unscanned": 3}


def test_packing_everything_scanned_is_the_next_step_and_asks_nothing(app, client):
    store = store_with_staff()
    package = make_package("preparing", location=store, items=[("TSHIRT-M", 1)])
    login(client)
    client.post(url(package, "/scan"), data={"barcode": package.items[0].product.barcode_values[0]}, headers=HX)
    page = client.get(url(package)).get_data(as_text=True)
    assert re.search(r'<button[^>]*data-command="complete_packing"[^>]*btn-primary', page)
    done = client.post(url(package, "/commands/complete_packing"), data={"version": reload(package).version},
                       headers=HX)
    assert "Packed. The carrier is asked for the label" in done.get_data(as_text=True)
    assert reload(package).state == "waiting_cargo_label"


def test_a_double_tap_on_pack_anyway_packs_once(app, client):
    store = store_with_staff()
    package = make_package("waiting", location=store, items=[("TSHIRT-M", 1)])
    login(client)
    form = {"version": package.version, "confirm_unscanned": "1"}
    first = client.post(url(package, "/commands/complete_packing_without_shipment"), data=form, headers=HX)
    again = client.post(url(package, "/commands/complete_packing_without_shipment"), data=form, headers=HX)
    assert "Packed." in first.get_data(as_text=True)
    assert "Already done — here is the current state." in again.get_data(as_text=True)
    assert "Pack anyway" not in again.get_data(as_text=True)
    assert reload(package).state == "packed" and transitions(package, "complete_packing_without_shipment") == 1
