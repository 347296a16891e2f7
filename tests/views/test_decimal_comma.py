"""Decimal numbers in the admin and supervisor forms in the user's language (SPEC §15): a Turkish
user types "0,5" and "1.234,50" and sees stored values written that way in the boxes; an English
user keeps "0.5" and "1,234.50"; anything else is refused in plain words and changes nothing."""

from __future__ import annotations

import html as html_lib
import re
from decimal import Decimal

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from app.extensions import db
from app.models import Product, PurchaseOrder, StockLocation
from app.services.typed_numbers import AmbiguousNumber, read_decimal, show_decimal
from tests import factories
from tests.services.inbound.helpers import supplier
from tests.views.test_auth import login


def _user(client, role: str, language: str):
    user = factories.user("boss", role)
    user.language = language
    db.session.commit()
    login(client, "boss")
    return client


def _box(html: str, name: str) -> str:
    found = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
    assert found, f"no {name} box on the page"
    return found.group(0)


def _product(sku: str) -> Product | None:
    db.session.rollback()  # see what the request committed
    return db.session.scalar(select(Product).where(Product.sku == sku))


@pytest.mark.parametrize("language, typed, stored, shown", [
    ("tr", "0,5", Decimal("0.5"), 'value="0,5"'),
    ("tr", "1.234,25", Decimal("1234.25"), 'value="1234,25"'),
    ("tr", "0.75", Decimal("0.75"), 'value="0,75"'),  # a point cannot be thousands here: the decimal sign
    ("en", "0.5", Decimal("0.5"), 'value="0.5"'),
    ("en", "1,234.25", Decimal("1234.25"), 'value="1234.25"'),
])
def test_the_product_form_reads_and_shows_the_weight_in_the_users_language(app, client, language, typed, stored, shown):
    admin = _user(client, "admin", language)
    response = admin.post("/admin/products/new", data={"sku": "MUG-1", "name": "Kupa", "weight_kg": typed})
    assert response.status_code == 303, response.get_data(as_text=True)
    assert _product("MUG-1").weight_kg == stored
    box = _box(admin.get("/admin/products/MUG-1/edit").get_data(as_text=True), "weight_kg")
    assert shown in box and 'inputmode="decimal"' in box and 'type="text"' in box


@pytest.mark.parametrize("typed", ["yarım", "0,5kg", "1.2.3", "1e3", "NaN", "١٢"])
def test_a_weight_that_is_not_a_number_is_refused_in_turkish_and_changes_nothing(app, client, typed):
    name = factories.product("MUG-1", weight_kg=Decimal("0.25")).name
    admin = _user(client, "admin", "tr")
    response = admin.post("/admin/products/MUG-1/edit", data={"sku": "MUG-1", "name": "Yeni ad", "weight_kg": typed})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    field = html.split('id="field-weight_kg"')[1].split("</div>")[0]
    assert "Bir sayı girin, örneğin 1,5." in field and f'value="{typed}"' in field
    product = _product("MUG-1")
    assert (product.name, product.weight_kg) == (name, Decimal("0.25"))


@pytest.mark.parametrize("language, typed, whole, decimal", [("tr", "1.234", "1234", "1,234"),
                                                             ("en", "1,234", "1234", "1.234")])
def test_a_lone_thousands_group_is_refused_as_ambiguous_and_changes_nothing(app, client, language, typed, whole,
                                                                           decimal):
    """"1.234" is a thousand and more in Turkish but one and a bit as a Turkish admin with an
    English keyboard habit means it: a weight 1,000 times too big is not guessed at."""
    factories.product("MUG-1", weight_kg=Decimal("0.25"))
    admin = _user(client, "admin", language)
    response = admin.post("/admin/products/MUG-1/edit", data={"sku": "MUG-1", "name": "Kupa", "weight_kg": typed})
    assert response.status_code == 422
    field = html_lib.unescape(response.get_data(as_text=True).split('id="field-weight_kg"')[1].split("</div>")[0])
    assert typed in field and whole in field and decimal in field
    assert field.count('class="field-error"') <= 1 and ("0 ya da daha" not in field and "0 or more" not in field)
    assert _product("MUG-1").weight_kg == Decimal("0.25")
    with pytest.raises(AmbiguousNumber):
        with force_locale(language):
            read_decimal(typed)


def test_a_weight_that_is_text_gets_one_message_not_also_a_range(app, client):
    factories.product("MUG-1", weight_kg=Decimal("0.25"))
    admin = _user(client, "admin", "tr")
    response = admin.post("/admin/products/MUG-1/edit", data={"sku": "MUG-1", "name": "Kupa", "weight_kg": "abc"})
    field = response.get_data(as_text=True).split('id="field-weight_kg"')[1].split("</div>")[0]
    assert "Bir sayı girin" in field and "0 ya da daha fazla" not in field


def test_a_turkish_admin_gives_a_location_its_coordinates_with_commas(app, client):
    admin = _user(client, "admin", "tr")
    data = {"code": "IST-09", "name": "Moda", "type": "store", "latitude": "40,9876", "longitude": "29,03",
            "priority": "10", "active": "y"}
    response = admin.post("/admin/locations/new", data=data)
    assert response.status_code == 303, response.get_data(as_text=True)
    db.session.rollback()
    loc = db.session.scalar(select(StockLocation).where(StockLocation.code == "IST-09"))
    assert (loc.latitude, loc.longitude) == (40.9876, 29.03)
    page = admin.get("/admin/locations/IST-09/edit").get_data(as_text=True)
    assert 'value="40,9876"' in _box(page, "latitude") and 'value="29,03"' in _box(page, "longitude")

    refused = admin.post("/admin/locations/IST-09/edit", data={**data, "latitude": "kuzey", "name": "Moda 2"})
    assert refused.status_code == 422 and "Bir sayı girin, örneğin 1,5." in refused.get_data(as_text=True)
    db.session.rollback()
    loc = db.session.get(StockLocation, loc.id)
    assert (loc.name, loc.latitude) == ("Moda", 40.9876)


@pytest.mark.parametrize("language, typed, shown", [("tr", "1.234,50", "1234,50"), ("tr", "2,5", "2,50"),
                                                     ("en", "1,234.50", "1234.50"), ("en", "2,50", "2.50")])
def test_a_purchase_order_reads_and_shows_unit_costs_in_the_users_language(app, client, language, typed, shown):
    factories.location("WH-01", type="warehouse")
    factories.product("TEA", name="Black tea")
    supplier()
    sup = _user(client, "supervisor", language)
    made = sup.post("/supervisor/purchase-orders/new", data={
        "number": "PO-7", "supplier": "ACME", "destination": "WH-01", "expected_at": "2026-12-20",
        "sku-0": "TEA", "quantity-0": "10", "unit_cost-0": typed})
    assert made.status_code == 303, made.get_data(as_text=True)
    db.session.rollback()
    po = db.session.scalar(select(PurchaseOrder))
    assert po.lines[0].unit_cost == Decimal(shown.replace(",", "."))
    form = sup.get(f"/supervisor/purchase-orders/{po.id}/edit").get_data(as_text=True)
    assert f'value="{shown}"' in _box(form, "unit_cost-0")

    # Another row's problem: the cost typed stays in the page's format in its box.
    again = sup.post(f"/supervisor/purchase-orders/{po.id}/edit", data={
        "supplier": "ACME", "destination": "WH-01", "expected_at": "2026-12-20", "version": str(po.version),
        "sku-0": "TEA", "quantity-0": "10", "unit_cost-0": typed, "sku-1": "GHOST", "quantity-1": "1"})
    assert again.status_code == 422
    assert f'value="{shown}"' in _box(again.get_data(as_text=True), "unit_cost-0")


def test_reading_and_showing_decimals_in_both_languages(app):
    with app.test_request_context():
        with force_locale("tr"):
            assert [read_decimal(t) for t in ("0,5", "1.234,5", "12.345.678", "0.5", "-0,5", ",5", "1.23")] == [
                Decimal("0.5"), Decimal("1234.5"), Decimal("12345678"), Decimal("0.5"), Decimal("-0.5"),
                Decimal("0.5"), Decimal("1.23")]
            assert (show_decimal(Decimal("0.500")), show_decimal(Decimal("2.5"), 2), show_decimal(41.0082)) == (
                "0,5", "2,50", "41,0082")
        with force_locale("en"):
            assert [read_decimal(t) for t in ("0.5", "1,234.5", "12,345,678", "2,50")] == [
                Decimal("0.5"), Decimal("1234.5"), Decimal("12345678"), Decimal("2.50")]
            assert show_decimal(Decimal("1234.500")) == "1234.5"
        for language in ("tr", "en"):
            with force_locale(language):
                for garbage in ("", " ", "abc", "1e3", "NaN", "Infinity", "١٢", "1.2.3", "1,2,3.4.5", "0,5 kg",
                                "--1", "1" * 41):
                    with pytest.raises(ValueError):
                        read_decimal(garbage)
