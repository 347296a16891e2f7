"""Validation problems on the admin and supervisor forms in the page's language (SPEC §15), each
naming its field as the form labels it ("Lead time (days): Enter 0 or more.", "Row 1, Unit cost"),
never the API's key ("lead_time_days:", "lines.0.unit_cost:")."""

from __future__ import annotations

import re

import pytest
from flask_babel import force_locale

from app.extensions import db
from app.services.human_input import field_label, say
from tests import factories
from tests.services.inbound.helpers import supplier
from tests.views.test_auth import login

ENGLISH = {"Accept-Language": "en"}
TURKISH = {"Accept-Language": "tr-TR,tr;q=0.9"}


def problems(html: str) -> list[str]:
    block = re.search(r'id="form-errors">(.*?)</div>', html, re.S)
    assert block, "the form shows no list of problems"
    return [" ".join(re.sub(r"<[^>]+>", "", item).split()) for item in re.findall(r"<li[^>]*>(.*?)</li>", block.group(1), re.S)]


@pytest.fixture
def supervisor(app, client):
    factories.location("WH-01", type="warehouse")
    factories.product("TEA", name="Black tea")
    supplier()
    factories.user("boss", "admin")  # suppliers are kept by admins
    db.session.commit()
    login(client, "boss")
    return client


@pytest.mark.parametrize("headers, expected", [
    (ENGLISH, "Lead time (days): Enter 0 or more."),
    (TURKISH, "Teslim süresi (gün): 0 ya da daha fazla girin."),
])
def test_a_supplier_form_names_the_field_as_labelled_in_the_pages_language(supervisor, headers, expected):
    response = supervisor.post("/supervisor/suppliers/", headers=headers,
                               data={"code": "BEE", "name": "Bee", "lead_time_days": "-4", "active": "1"})
    assert response.status_code == 422
    found = problems(response.get_data(as_text=True))
    assert found == [expected]
    assert "lead_time_days" not in " ".join(found)


@pytest.mark.parametrize("headers, expected", [
    (ENGLISH, ["Code: This field is required. Fill it in.", "Name: This field is required. Fill it in."]),
    (TURKISH, ["Kod: Bu alan zorunlu. Lütfen doldurun.", "Ad: Bu alan zorunlu. Lütfen doldurun."]),
])
def test_a_supplier_without_code_or_name_is_told_they_are_required(supervisor, headers, expected):
    response = supervisor.post("/supervisor/suppliers/", headers=headers,
                               data={"code": "", "name": "  ", "lead_time_days": "3", "active": "1"})
    assert response.status_code == 422
    assert problems(response.get_data(as_text=True)) == expected  # never "This value has the wrong form."


@pytest.mark.parametrize("headers, row_problem, date_problem", [
    (ENGLISH, "Row 1, Unit cost: Enter a number, for example 1.5.", "Expected on: Choose a date between 2000 and 2100."),
    (TURKISH, "Satır 1, Birim maliyet: Bir sayı girin, örneğin 1,5.",
     "Beklenen tarih: 2000 ile 2100 arasında bir tarih seçin."),
])
def test_a_purchase_order_form_names_the_row_and_column(supervisor, headers, row_problem, date_problem):
    response = supervisor.post("/supervisor/purchase-orders/new", headers=headers, data={
        "number": "PO-9", "supplier": "ACME", "destination": "WH-01", "expected_at": "1900-01-01",
        "sku-0": "TEA", "quantity-0": "2", "unit_cost-0": "cheap"})
    assert response.status_code == 422
    found = problems(response.get_data(as_text=True))
    assert row_problem in found and date_problem in found, found
    assert not any(re.search(r"\b(lines|expected_at|unit_cost)\b", text) for text in found)


def test_field_labels_and_messages_in_both_languages(app):
    with app.test_request_context():
        for language, wanted in (("en", ("Row 3, SKU", "Document 2, Link", "Lead time (days)", "Enter 0 or more.",
                                          "Choose a date between 2000 and 2100.", "Use at most 5 characters.")),
                                 ("tr", ("Satır 3, SKU", "Belge 2, Bağlantı", "Teslim süresi (gün)",
                                         "0 ya da daha fazla girin.", "2000 ile 2100 arasında bir tarih seçin.",
                                         "En fazla 5 karakter kullanın."))):
            with force_locale(language):
                got = (field_label("lines.2.sku"), field_label("documents.1.url"), field_label("lead_time_days"),
                       say("Input should be greater than or equal to 0", "lead_time_days"),
                       say("Choose a date between 2000 and 2100."), say("String should have at most 5 characters"))
                assert got == wanted, language


def test_an_admin_form_says_its_problems_in_turkish(app, client):
    factories.user("root", "admin")
    db.session.commit()
    login(client, "root")
    # A problem the service finds (the SKU's pattern) and one the form finds (WTForms' URL check).
    for data, turkish, english in (({"sku": "NEW 1", "name": "Kupa"}, "Boşluk ya da eğik çizgi kullanmayın.", "No spaces"),
                                   ({"sku": "NEW-1", "name": "Kupa", "image_url": "not a url"},
                                    "https:// ile başlayan tam bir web adresi girin.", "web address")):
        response = client.post("/admin/products/new", headers=TURKISH, data=data)
        html = response.get_data(as_text=True)
        assert response.status_code == 422
        assert turkish in html and english not in html


def test_user_password_zone_and_sku_problems_in_turkish(app):
    """Messages the services write themselves (not a form's or pydantic's) reach a Turkish
    admin in Turkish (user test: they were English on Turkish pages)."""
    import pytest

    from app.services import users
    from app.services.errors import ValidationFailed
    from app.services.inbound.data import products_by_sku
    from app.services.local_times import zone_problem
    from app.services.passwords import password_problem

    with app.test_request_context(), force_locale("tr"):
        assert password_problem("kisa") == "En az 12 karakter kullanın."
        assert zone_problem("Mars/Olympus") == ("“Mars/Olympus” bildiğimiz bir saat dilimi değil. "
                                                 "\"Europe/Istanbul\" ya da \"UTC\" gibi bir saat dilimi adı girin.")
        with pytest.raises(ValidationFailed) as refused:
            users.create_user("", "staff", "kisa", [])
        assert refused.value.details == {"username": "Bir kullanıcı adı girin.", "password": "En az 12 karakter kullanın.",
                                         "locations": "Mağaza çalışanlarının en az bir konumu olmalı."}
        with pytest.raises(ValidationFailed) as refused:
            products_by_sku([("lines.0.sku", "NOPE")])
        assert refused.value.details == {"lines.0.sku": "NOPE SKU’lu bir ürün yok."}
