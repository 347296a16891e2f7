"""A weight above what a parcel may weigh is refused with the bound written as the page writes
numbers ("9999.999", on a Turkish page "9999,999"), never in Python's form ("Decimal(9999.999)")."""

from __future__ import annotations

import html

import pytest

from app.extensions import db
from tests.services.builders import make_package
from tests.views.test_store_packages import reload, url
from tests.views.test_store_queue import HX, login, store_with_staff


@pytest.mark.parametrize("language, typed, said", [
    ("en", "12000", "Enter 9999.999 or less."),
    ("tr", "12000", "9999,999"),
    ("tr", "12000,5", "9999,999"),
])
def test_too_heavy_a_parcel_names_the_limit_in_the_pages_numbers(app, client, language, typed, said):
    store = store_with_staff()
    db.session.execute(db.text("UPDATE users SET language = :lang WHERE username = 'ayse'"), {"lang": language})
    db.session.commit()
    package = make_package("preparing", location=store)
    login(client)
    answer = client.post(url(package, "/commands/complete_packing"),
                         data={"version": package.version, "weight_kg": typed, "confirm_unscanned": "1"}, headers=HX)
    body = html.unescape(answer.get_data(as_text=True))
    assert answer.status_code == 422
    assert said in body and "Decimal" not in body
    assert reload(package).state == "preparing"
