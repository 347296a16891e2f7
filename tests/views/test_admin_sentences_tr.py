"""Whole Turkish sentences where a user test in Turkish found English or internal text: a taken
code on each master-data form, channel mappings, the scenario editor, the import report, the
dry-run's pasted JSON and the language setting."""

from __future__ import annotations

import html
import io
import json
import re

import pytest
from flask_babel import force_locale
from sqlalchemy import select

from app.extensions import db
from app.models import ChannelMapping, Setting
from app.services import records
from app.services.actors import Actor
from app.services.errors import ValidationFailed
from app.services.locations import LOCATIONS
from tests import factories
from tests.services.inbound.helpers import supplier
from tests.views.test_admin_imports import run_import
from tests.views.test_auth import signed_in_admin

TR = {"Accept-Language": "tr"}


@pytest.fixture
def admin(app, client):
    return signed_in_admin(client, "boss")


def _said(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def _words(page: str) -> str:
    return re.sub(r"<[^>]+>", " ", page)


# ------------------------------------------------------------------------- a. taken codes

@pytest.mark.parametrize(("url", "data", "turkish", "english"), [
    ("/supervisor/suppliers/", {"code": "ted1", "name": "Ted", "lead_time_days": "3", "active": "1"},
     "Bu kodu başka bir tedarikçi kullanıyor.", "Another supplier already uses this code."),
    ("/admin/locations/new", {"code": "IST-KDK", "name": "Kadıköy", "type": "store", "city": "İstanbul",
                              "priority": "1", "max_quota": "10", "active": "y"},
     "Bu kodu başka bir lokasyon kullanıyor.", "Another location already uses this code."),
    ("/admin/cargo_companies/new", {"code": "demo", "name": "Demo", "adapter": "demo"},
     "Bu kodu başka bir kargo firması kullanıyor.", "Another cargo company already uses this code."),
])
def test_a_taken_code_is_refused_in_one_turkish_sentence_per_kind(admin, url, data, turkish, english):
    factories.location("IST-KDK")
    factories.cargo_company("demo")
    db.session.commit()
    if url.startswith("/supervisor/suppliers"):
        assert admin.post(url, data=data).status_code in (200, 303)
    page = _said(admin.post(url, data=data, headers=TR))
    assert turkish in page, page
    assert "Bu code" not in page and "tarafından kullanılıyor" not in page
    assert english in _said(admin.post(url, data=data))


def test_a_changed_code_and_an_unknown_one_are_said_in_turkish(app):
    factories.location("IST-KDK")
    db.session.commit()
    with app.test_request_context(headers=TR), force_locale("tr"):
        with pytest.raises(ValidationFailed) as refused:
            records.update(LOCATIONS, "IST-KDK", {"code": "IST-XXX", "name": "X", "type": "store", "city": "I",
                                                  "priority": 1, "max_quota": 1}, Actor.system("t"), partial=False)
        assert refused.value.details == {"code": "Kod değiştirilemez."}
        with pytest.raises(Exception) as missing:
            records.get(LOCATIONS, "NOPE")
        assert missing.value.message == "NOPE lokasyonu yok."


# ------------------------------------------------------------------------ b. channel mappings

def _mapping(client, data: dict, headers=None):
    return client.post("/admin/integrations/web/mappings", data=data, headers=headers or {})


def test_mapping_problems_are_said_in_turkish_and_closed_sets_name_their_values(admin):
    factories.channel("web")
    factories.location("IST-KDK")
    db.session.commit()
    empty = _said(_mapping(admin, {"kind": "sku", "channel_value": "A", "our_value": ""}, TR))
    assert "Bu alan zorunlu" in empty and "String should" not in empty
    for kind, turkish in (("sku", "NOPE SKU'lu bir ürün yok."), ("location", "NOPE koduyla bir lokasyon yok.")):
        page = _said(_mapping(admin, {"kind": kind, "channel_value": "A", "our_value": "NOPE"}, TR))
        assert turkish in page and "There is no" not in page
    delivery = _said(_mapping(admin, {"kind": "delivery", "channel_value": "A", "our_value": "drone"}, TR))
    assert "Teslimat türlerimizden birini kullanın: cargo, click_and_collect." in delivery
    upload = {"file": (io.BytesIO(b"colour,A,B\n"), "m.csv")}
    imported = _said(admin.post("/admin/integrations/web/mappings/import", data=upload, headers=TR,
                                content_type="multipart/form-data"))
    assert "Şunlardan birini seçin" in imported and "Input should" not in imported, imported


def test_a_status_mapping_may_name_a_held_status_and_a_replaced_mapping_says_what_it_was(admin):
    factories.channel("web")
    db.session.add(Setting(key="ORDER_FILTERING", value={"accepted_statuses": ["approved", "paid"]}))
    db.session.commit()
    # A status ORDER_FILTERING does not accept is a real one: its orders wait on hold (docs/channels.md).
    held = _mapping(admin, {"kind": "status", "channel_value": "on-hold", "our_value": "awaiting_payment"})
    assert held.status_code == 303
    assert _mapping(admin, {"kind": "status", "channel_value": "Paid", "our_value": "paid"}).status_code == 303
    again = _mapping(admin, {"kind": "status", "channel_value": "Paid", "our_value": "approved"}, TR)
    page = _said(admin.get(again.headers["Location"], headers=TR))
    assert "Paid artık approved ile eşleşiyor (önceden paid idi)." in page
    assert db.session.scalar(select(ChannelMapping.our_value).where(ChannelMapping.channel_value == "Paid")) == "approved"


# ------------------------------------------------------------------------ c. scenario editor

def test_scenario_problems_are_said_in_turkish(admin):
    factories.location("WH-01")
    factories.location("IST-01")
    db.session.commit()
    data = {"name": "Web", "priority": "10", "active": "y", "default_location": "WH-01",
            "rules-0-name": "Only Istanbul", "rules-0-locations": "IST-01", "rules-0-exclude": "IST-01",
            "rules-0-max_packages": "1", "rules-0-sort-0-by": "priority"}
    page = _said(admin.post("/admin/scenarios/new", data=data, headers=TR))
    assert "Kural, Yalnızca bu lokasyonlar altında saydığı her lokasyonu dışarıda bırakıyor" in page
    assert "The scenario cannot work" not in page and "excludes every" not in page
    page = _said(admin.post("/admin/scenarios/new", data={**data, "rules-0-exclude": "", "name": ""}, headers=TR))
    assert "Bazı alanlar geçerli değil; senaryo kaydedilmedi." in page and "cannot work" not in page


# ------------------------------------------------------------------------ d. imports

def test_an_import_is_headed_by_its_kind_and_its_row_problems_are_said_in_the_readers_language(admin):
    factories.location("IST-01")
    factories.product("TSHIRT-BLA-S", barcode="8690000000012")
    factories.product("MUG-1")
    db.session.commit()
    run, _ = run_import(admin, "products", b"sku,name,barcodes\nMUG-2,Mug,8690000000012\n")
    page = _said(admin.get(f"/admin/imports/{run.id}/", headers=TR))
    assert f"Ürün içe aktarma {run.id}" in page and "products" not in page.split("<h1>")[1].split("</h1>")[0]
    assert "barcodes: Başka bir ürün kullanıyor: 8690000000012 (TSHIRT-BLA-S)." in page, page
    assert "Already used" in _said(admin.get(f"/admin/imports/{run.id}/"))
    assert run.errors[0]["message"] == "barcodes: Already used by another product: 8690000000012 (TSHIRT-BLA-S)."
    run, _ = run_import(admin, "stock", b"location,sku,quantity\nIST-01,MUG-1,-1\nIST-XXX,MUG-1,2\n")
    page = _said(admin.get(f"/admin/imports/{run.id}/", headers=TR))
    assert f"Stok içe aktarma {run.id}" in page
    assert "quantity: 0 ya da daha fazla girin." in page and "Bilinmeyen lokasyon 'IST-XXX'." in page, page
    assert "Enter 0" not in page and "Unknown location" not in page
    run, _ = run_import(admin, "stock", b"place,sku\nIST-01,MUG-1\n")
    page = _said(admin.get(f"/admin/imports/{run.id}/", headers=TR))
    assert "Eksik sütunlar: location, quantity." in page and "Missing column" not in page, page


# ------------------------------------------------------------------- e. no "root", field names

def test_the_dry_run_names_fields_in_turkish_and_never_says_root(admin):
    factories.channel("web")
    db.session.commit()
    pasted = {"number": "X-1", "channel": "web", "items": [{"sku": "A", "quantity": 1}]}
    page = _said(admin.post("/admin/scenarios/dry-run", data={"order_json": json.dumps(pasted)}, headers=TR))
    assert "Sipariş tarihi: Bu alan zorunlu" in page and "Placed at" not in page, page
    page = _said(admin.post("/admin/scenarios/dry-run", data={"order_json": "[]"}, headers=TR))
    assert "root" not in _words(page)
    assert "Bir sipariş ya da" in page


def test_the_purchase_order_form_says_a_whole_order_problem_without_root(app, client):
    factories.location("WH-01", type="warehouse")
    factories.product("TSHIRT-BLA-S")
    supplier()
    db.session.commit()
    signed_in_admin(client, "boss")
    page = _said(client.post("/supervisor/purchase-orders/new", headers=TR, data={
        "number": "PO-9", "supplier": "ACME", "destination": "WH-01",
        "sku-0": "TSHIRT-BLA-S", "quantity-0": "2", "sku-1": "TSHIRT-BLA-S", "quantity-1": "3"}))
    assert "TSHIRT-BLA-S stok kodu iki satırda var" in page, page
    assert "root" not in _words(page.split('id="form-errors"')[1].split("</div>")[0])


# ------------------------------------------------------------------------ f. language setting

def test_a_tampered_language_setting_is_refused_in_turkish(admin):
    page = _said(admin.post("/admin/settings/LANGUAGE", data={"value": "xx"}, headers=TR))
    assert 'Şunlardan birini seçin: "en" (English), "tr" (Türkçe).' in page, page
    assert "Choose one of" not in page
