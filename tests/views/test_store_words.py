"""What staff read after a step: plain words with what to do next, never the API's field paths,
command names or pydantic texts (the JSON API keeps those)."""

from __future__ import annotations

import re

from app.extensions import db
from app.models import Package
from tests.services.builders import make_package
from tests.views.test_store_queue import HX, login, store_with_staff

API_WORDS = re.compile(r"whole_package|String should|Input should|Field required|items\.\d|assignments\.\d|"
                       r"Done: |The command parameters|weight_kg|_[a-z]+_")


def url(package, tail=""):
    return f"/store/{package.location.code}/packages/{package.id}{tail}"


def _text(response) -> str:
    """The words on the page, not the markup (attribute names such as data-command are fine)."""
    return re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))


def test_reporting_missing_items_without_any_says_what_to_enter(app, client):
    store = store_with_staff()
    package = make_package("preparing", location=store)
    login(client)
    response = client.post(url(package, "/missing"), data={"version": package.version}, headers=HX)
    words = _text(response)
    assert response.status_code == 422
    assert "Enter how many units are missing for at least one item, or tick Give up the whole package." in words
    assert not API_WORDS.search(words)
    # Without JavaScript: the same words as a flash message on the form's page.
    response = client.post(url(package, "/missing"), data={"version": package.version}, follow_redirects=True)
    assert "tick Give up the whole package" in _text(response)


def test_a_missing_quantity_that_is_not_a_number_is_said_plainly(app, client):
    store = store_with_staff()
    package = make_package("preparing", location=store)
    login(client)
    data = {"version": package.version, f"quantity-{package.items[0].id}": "two"}
    words = _text(client.post(url(package, "/missing"), data=data, headers=HX))
    assert "Units missing of SKU-A: enter a whole number from 0 to 1." in words and not API_WORDS.search(words)


def test_a_missing_count_below_0_names_the_item_and_its_range_at_the_field(app, client):
    store = store_with_staff()
    package = make_package("preparing", location=store, items=[("TSHIRT-M", 3), ("CAP", 1)])
    shirt = next(i for i in package.items if i.product.sku == "TSHIRT-M")
    login(client)
    data = {"version": package.version, f"quantity-{shirt.id}": "-1", f"reason-{shirt.id}": "not_found"}
    for headers in (HX, {}):  # without JavaScript the form comes back too, with the field marked
        response = client.post(url(package, "/missing"), data=data, headers=headers)
        body = response.get_data(as_text=True)
        assert response.status_code == 422
        assert "Check the field marked in red: nothing was done." in body
        field = body.split(f'id="quantity-{shirt.id}"')[1].split("</div>")[0]
        assert 'aria-invalid="true"' in field
        assert "Units missing of TSHIRT-M: enter a whole number from 0 to 3." in field
        assert 'value="-1"' in field and "1 or more" not in body and not API_WORDS.search(_text(response))
    db.session.rollback()
    assert db.session.get(Package, package.id).state == "preparing"


def test_a_required_field_left_empty_says_fill_it_in(app, client):
    store = store_with_staff()
    package = make_package("waiting", location=store)
    login(client)
    response = client.post(url(package, "/commands/block"), data={"version": package.version, "reason": ""},
                           headers=HX)
    words = _text(response)
    assert response.status_code == 422 and "This field is required. Fill it in." in words
    assert not API_WORDS.search(words)


def test_weight_with_a_decimal_comma_is_accepted(app, client):
    store = store_with_staff()
    package = make_package("preparing", location=store, items=[("TSHIRT-M", 1)])
    login(client)
    client.post(url(package, "/scan"), data={"barcode": package.items[0].product.barcode_values[0]}, headers=HX)
    db.session.rollback()
    version = db.session.get(Package, package.id).version
    response = client.post(url(package, "/commands/complete_packing"),
                           data={"version": version, "boxes": "1", "weight_kg": "1,5"}, headers=HX)
    assert response.status_code == 200, _text(response)
    db.session.rollback()
    packed = db.session.get(Package, package.id)
    assert packed.state == "waiting_cargo_label" and float(packed.shipment.weight_kg) == 1.5
    assert "Packed. The carrier is asked for the label" in _text(response)


def test_a_weight_that_is_not_a_number_says_how_to_type_it(app, client):
    store = store_with_staff()
    package = make_package("preparing", location=store, items=[("TSHIRT-M", 1)])
    login(client)
    data = {"version": package.version, "boxes": "1", "weight_kg": "heavy", "confirm_unscanned": "1"}
    response = client.post(url(package, "/commands/complete_packing"), data=data, headers=HX)
    words = _text(response)
    assert response.status_code == 422 and "Enter a number, for example 1.5." in words
    assert not API_WORDS.search(words)


def test_every_success_message_says_what_happened_without_command_names(app, client):
    store = store_with_staff()
    package = make_package("waiting", location=store)
    login(client)
    response = client.post(url(package, "/commands/prepare"), data={"version": package.version},
                           follow_redirects=True)
    words = _text(response)
    assert "Started. Scan each item as you take it." in words and "Done:" not in words


def test_shipping_before_the_label_says_to_wait_without_status_codes(app, client):
    store = store_with_staff()
    package = make_package("packed", location=store, items=[("TSHIRT-M", 1)])
    package.shipment.status = "pending"
    db.session.commit()
    login(client)
    response = client.post(url(package, "/commands/ship"), data={"version": package.version}, headers=HX)
    words = _text(response)
    assert response.status_code == 409 and "The label is not ready yet: wait until Print label appears." in words
    assert "pending" not in words and not API_WORDS.search(words)
