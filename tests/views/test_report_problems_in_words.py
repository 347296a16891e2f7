"""The report screens' filter problems in the viewer's language, each naming its filter as the form
labels it ("Moment (the location’s time): …", "Rows per page: …"), never the parameter ("at:",
"sku:", "size:"); the API keeps its parameter names (SPEC §15)."""

from __future__ import annotations

import html as html_lib
import re

import pytest

from app.extensions import db
from tests import factories
from tests.api.test_master_data_api import auth
from tests.views.test_auth import login


def problems(html: str) -> list[str]:
    block = re.search(r'id="filter-problems">(.*?)</div>', html, re.S)
    assert block, "the page shows no list of filter problems"
    return [html_lib.unescape(" ".join(re.sub(r"<[^>]+>", "", item).split())) for item in re.findall(r"<li[^>]*>(.*?)</li>", block.group(1), re.S)]


@pytest.fixture
def viewer(app, client):
    """An admin (who sees every report) reading in `language`: `viewer("tr")`."""
    factories.location("IST-01")
    factories.product("MUG-1")
    user = factories.user("boss", "admin")
    db.session.commit()
    login(client, "boss")

    def speaking(language: str):
        db.session.get(type(user), user.id).language = language
        db.session.commit()
        return client
    return speaking


def _raw_keys(found: list[str]) -> list[str]:
    return [p for p in found if re.match(r"(at|sku|location|size|from|to|after|q|actor)\s*:", p)]


@pytest.mark.parametrize("language, expected", [
    ("en", ["SKU: There is no product with SKU NOPE.",
            "Moment (the location’s time): Enter the moment as YYYY-MM-DDTHH:MM in the location's time, "
            "for example 2026-11-30T18:00."]),
    ("tr", ["SKU: NOPE SKU’lu bir ürün yok.",
            "An (konumun saatiyle): Anı konumun saatiyle YYYY-AA-GGTSS:DD biçiminde girin, örneğin 2026-11-30T18:00."]),
])
def test_stock_at_a_past_moment_names_its_fields_as_labelled_in_the_viewers_language(viewer, language, expected):
    client = viewer(language)
    response = client.get("/reports/ledger/at?location=IST-01&sku=NOPE&at=yesterday")
    assert response.status_code == 422
    found = problems(response.get_data(as_text=True))
    assert sorted(found) == sorted(expected)
    assert _raw_keys(found) == []


def test_a_moment_out_of_range_and_a_missing_location_in_turkish(viewer):
    client = viewer("tr")
    response = client.get("/reports/ledger/at?sku=MUG-1&at=1800-01-01T10:00")
    assert response.status_code == 422
    found = problems(response.get_data(as_text=True))
    assert found == ["Lokasyon: Bir lokasyon seçin.", "An (konumun saatiyle): 2000 ile 2100 arasında bir an seçin."], found


def test_the_ledger_and_audit_filters_name_the_date_and_page_size_fields_in_turkish(viewer, app):
    client = viewer("tr")
    response = client.get("/reports/ledger/?from=soon&size=0&sku=" + "x" * 101)
    assert response.status_code == 422
    found = problems(response.get_data(as_text=True))
    assert sorted(found) == ["Başlangıç: Tarihi YYYY-AA-GG olarak girin, örneğin 2026-11-30.",
                             "SKU: En fazla 100 karakter kullanın.",
                             "Sayfa başına satır: Sayfa başına 1 ile 200 arası satır gösterin."], found

    response = client.get("/reports/audit/?to=later")
    found = problems(response.get_data(as_text=True))
    assert response.status_code == 422 and found == ["Bitiş: Tarihi YYYY-AA-GG olarak girin, örneğin 2026-11-30."], found


def test_the_api_keeps_its_parameter_names(app, client):
    factories.location("IST-01")
    factories.product("MUG-1")
    headers = auth("erp")
    body = client.get("/api/v1/stock/at?location=IST-01&sku=NOPE&at=yesterday",
                      headers={**headers, "Accept-Language": "tr"}).get_json()
    assert set(body["error"]["details"]) == {"sku", "at"}


def test_a_moment_still_to_come_is_answered_as_now_and_says_so(viewer):
    client = viewer("tr")
    future = client.get("/reports/ledger/at?location=IST-01&sku=MUG-1&at=2099-01-01T10:00")
    assert future.status_code == 200 and 'id="future-moment"' in future.get_data(as_text=True)
    past = client.get("/reports/ledger/at?location=IST-01&sku=MUG-1&at=2026-01-01T10:00")
    assert past.status_code == 200 and 'id="future-moment"' not in past.get_data(as_text=True)
