"""Admin forms for locations, channels, products, cargo companies and denial reasons: they save,
and every validation error comes back next to its field with status 422 and nothing written."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import CargoCompany, Channel, DenialReason, OutboxEvent, Product, StockLocation
from tests import factories
from tests.services.builders import row_counts
from tests.views.test_auth import signed_in_admin


@pytest.fixture
def admin(app, client):
    return signed_in_admin(client)


def _counts():
    db.session.rollback()
    return row_counts()


LOCATION = {"code": "IST-09", "name": "Moda Store", "type": "store", "city": "Istanbul", "district": "Kadıköy",
            "latitude": "40.98", "longitude": "29.03", "priority": "10", "max_quota": "40",
            "target_packaging_minutes": "120", "tags": "sea, small", "is_packaging_center": "y", "active": "y"}


def test_admin_creates_and_edits_a_location(admin):
    response = admin.post("/admin/locations/new", data=LOCATION)
    assert response.status_code == 303 and response.headers["Location"].endswith("/admin/locations/IST-09/edit")
    db.session.rollback()
    loc = db.session.scalar(select(StockLocation).where(StockLocation.code == "IST-09"))
    assert (loc.name, loc.max_quota, loc.tags, loc.is_pickup_location) == ("Moda Store", 40, ["sea", "small"], False)
    form = admin.get("/admin/locations/IST-09/edit").get_data(as_text=True)
    assert 'value="Moda Store"' in form and 'value="sea, small"' in form
    response = admin.post("/admin/locations/IST-09/edit", data={**LOCATION, "max_quota": "", "name": "Moda"},
                          headers={"HX-Request": "true"})
    assert response.status_code == 200 and "Saved." in response.get_data(as_text=True)
    db.session.rollback()
    loc = db.session.get(StockLocation, loc.id)
    assert (loc.name, loc.max_quota) == ("Moda", None)
    types = db.session.scalars(select(OutboxEvent.type).order_by(OutboxEvent.id)).all()
    assert types == ["stock_location.created", "stock_location.updated"]


@pytest.mark.parametrize(("url", "data", "field_message"), [
    ("/admin/locations/new", {**LOCATION, "name": ""}, "This field is required."),
    ("/admin/locations/new", {**LOCATION, "latitude": "123"}, "Enter a number from -90 to 90."),
    ("/admin/locations/new", {**LOCATION, "code": "has space"}, "no spaces"),
    ("/admin/locations/new", {**LOCATION, "code": "IST-01"}, "Another location already uses this code."),
    ("/admin/channels/new", {"code": "", "name": "Web"}, "This field is required."),
    ("/admin/channels/new", {"code": "web", "name": "Web again"}, "Another channel already uses this code."),
    ("/admin/products/new", {"sku": "NEW-1", "name": "Mug", "barcodes": "8690000000001"}, "Already used by another product"),
    ("/admin/products/new", {"sku": "NEW 1", "name": "Mug"}, "No spaces or slashes."),
    ("/admin/products/OLD-1/edit", {"sku": "OLD-2", "name": "Mug"}, "The SKU cannot be changed."),
    ("/admin/products/new", {"sku": "NEW-1", "name": "Mug", "weight_kg": "-1"}, "Enter 0 or more."),
    ("/admin/products/new", {"sku": "NEW-1", "name": "Mug", "image_url": "not a url"}, "Enter a full web address starting with https://."),
    ("/admin/cargo_companies/new", {"code": "acme", "name": "Acme", "adapter": "demo", "config": "{oops"}, "This is not valid JSON"),
    # NaN and Infinity are Python's, not JSON's: PostgreSQL would refuse them in the JSON column (a 500)
    ("/admin/cargo_companies/new", {"code": "acme", "name": "Acme", "adapter": "demo", "config": '{"w": NaN}'},
     "It contains NaN, which JSON does not allow; use a number or null."),
    ("/admin/cargo_companies/new", {"code": "acme", "name": "Acme", "adapter": "demo", "config": '{"w": 1e999}'},
     "The number 1e999 is too large"),
    ("/admin/cargo_companies/new", {"code": "acme", "name": "Acme", "adapter": "demo", "config": "[1]"}, "JSON object"),
    ("/admin/cargo_companies/new", {"code": "acme", "name": "Acme", "adapter": "http", "config": "{}"}, "base_url must be"),
    ("/admin/denial_reasons/new", {"code": "late", "title": ""}, "This field is required."),
    ("/admin/denial_reasons/new", {"code": "late", "title": "Late", "priority": "-3"}, "Enter 0 or more."),
])
def test_every_form_error_is_shown_next_to_its_field_and_nothing_is_written(admin, url, data, field_message):
    factories.location("IST-01")
    factories.channel("web")
    factories.product("OLD-1", barcode="8690000000001")
    db.session.commit()
    before = _counts()
    for headers in ({}, {"HX-Request": "true"}):
        response = admin.post(url, data=data, headers=headers)
        assert response.status_code == 422
        html = response.get_data(as_text=True)
        assert field_message in html
        assert 'class="field-error"' in html and 'aria-invalid="true"' in html
    assert _counts() == before


def test_product_barcodes_are_edited_one_per_line(admin):
    factories.product("MUG-1", barcode="111")
    db.session.commit()
    form = admin.get("/admin/products/MUG-1/edit").get_data(as_text=True)
    assert "111" in form
    response = admin.post("/admin/products/MUG-1/edit", data={"sku": "MUG-1", "name": "Mug", "barcodes": "111\n222\n"})
    assert response.status_code == 303
    db.session.rollback()
    product = db.session.scalar(select(Product).where(Product.sku == "MUG-1"))
    assert product.barcode_values == ["111", "222"]


def test_cargo_company_config_is_saved_as_json(admin):
    response = admin.post("/admin/cargo_companies/new", data={
        "code": "gw", "name": "Gateway", "adapter": "http", "active": "y",
        "config": '{"base_url": "https://carrier.example.com", "api_key": "k"}'})
    assert response.status_code == 303
    db.session.rollback()
    company = db.session.scalar(select(CargoCompany).where(CargoCompany.code == "gw"))
    assert company.config == {"base_url": "https://carrier.example.com", "api_key": "k"}


def test_channel_and_denial_reason_forms_save(admin):
    assert admin.post("/admin/channels/new", data={"code": "ty", "name": "Trendyol",
                                                   "provides_shipping_label": "y"}).status_code == 303
    assert admin.post("/admin/denial_reasons/new", data={"code": "busy", "title": "Too busy",
                                                         "priority": "5", "active": "y"}).status_code == 303
    db.session.rollback()
    assert db.session.scalar(select(Channel.provides_shipping_label).where(Channel.code == "ty")) is True
    assert db.session.scalar(select(DenialReason.priority).where(DenialReason.code == "busy")) == 5


def test_lists_are_searchable_and_paginated(admin):
    for n in range(60):
        factories.channel(f"ch-{n:02d}", name=f"Channel {n:02d}")
    factories.channel("amazon", name="Amazon")
    db.session.commit()
    first = admin.get("/admin/channels/").get_data(as_text=True)
    assert "Page 1 of 2" in first
    found = admin.get("/admin/channels/?q=amaz", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "amazon" in found and "ch-01" not in found and "<html" not in found


def test_unknown_records_are_404(admin):
    assert admin.get("/admin/products/NOPE/edit").status_code == 404
    assert admin.get("/admin/widgets/").status_code == 404
    assert db.session.scalar(select(func.count()).select_from(Product)) == 0


def test_edit_forms_show_lists_and_json_as_text(admin):
    factories.location("IST-01", tags=["sea", "small"])
    factories.product("MUG-1", barcode="111")
    factories.cargo_company("gw", adapter="http", config={"base_url": "https://c.example.com"})
    db.session.commit()
    assert 'value="sea, small"' in admin.get("/admin/locations/IST-01/edit").get_data(as_text=True)
    product_form = admin.get("/admin/products/MUG-1/edit").get_data(as_text=True)
    assert product_form.split('name="barcodes">')[1].split("</textarea>")[0].strip() == "111"
    cargo = admin.get("/admin/cargo_companies/gw/edit").get_data(as_text=True)
    assert "&#34;base_url&#34;: &#34;https://c.example.com&#34;" in cargo and "readonly" in cargo


def test_lists_sort_by_name_in_the_turkish_alphabet(admin):
    names = ["Zeytin", "Çiçek", "Cam", "İnci", "Işık", "Şeker", "Sabun", "Ütü", "Un", "Öğle", "Oya"]
    for n, name in enumerate(names):
        factories.product(f"P-{n:02d}", name=name)
    db.session.commit()
    def shown(html: str) -> list[str]:
        return [cell for cell in re.findall(r"<td>\s*([^<]*?)\s*</td>", html) if cell in names]

    html = admin.get("/admin/products/?sort=name").get_data(as_text=True)
    assert shown(html) == ["Cam", "Çiçek", "Işık", "İnci", "Oya", "Öğle", "Sabun", "Şeker", "Un", "Ütü", "Zeytin"]
    assert '<option value="name" selected>' in html
    # By code (the default) and for any other value, as before.
    assert shown(admin.get("/admin/products/?sort=nonsense").get_data(as_text=True)) == names
    turkish = admin.get("/admin/products/?sort=name", headers={"Accept-Language": "tr"}).get_data(as_text=True)
    assert "Ürünler" in turkish and "Yeni ürün" in turkish and "Sırala" in turkish
    # Numbers in the page's language: the factory's 0.5 kg is "0,5" in Turkish.
    assert "<td>0,5</td>" in turkish and "0.500" not in turkish
