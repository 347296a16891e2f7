"""Typed JSON that is not JSON is said in the page's language (`json_text.problem`): on a
channel's connection page and on a master-data form (a cargo company's configuration), and
nothing is saved."""

from __future__ import annotations

import html

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import CargoCompany, Channel
from tests import factories
from tests.views.test_auth import signed_in_admin

TR = {"Accept-Language": "tr"}
CARGO = {"code": "acme", "name": "Acme", "adapter": "demo"}


@pytest.fixture
def admin(app, client):
    factories.channel("shop", adapter="api", config={})
    db.session.commit()
    return signed_in_admin(client)


def _answer(client, url: str, data: dict, headers=None) -> str:
    answer = client.post(url, data=data, headers=headers or {})
    assert answer.status_code == 422
    return html.unescape(answer.get_data(as_text=True))


@pytest.mark.parametrize(("typed", "turkish", "english"), [
    ("{oops", "Bu geçerli bir JSON değil: 1. satır, 2. sütun civarına bakın",
     "This is not valid JSON: look near line 1, column 2"),
    ('{"w": NaN}', "JSON'un izin vermediği NaN değerini içeriyor: bir sayı ya da null yazın.",
     "It contains NaN, which JSON does not allow; use a number or null."),
    ('{"w": 1e999}', "1e999 sayısı çok büyük: daha küçük bir sayı yazın.",
     "The number 1e999 is too large; use a smaller number."),
])
def test_json_problems_are_said_in_turkish_on_the_connection_page_and_a_master_data_form(admin, typed, turkish,
                                                                                         english):
    for url, data in (("/admin/integrations/shop/connection", {"adapter": "api", "config": typed}),
                      ("/admin/cargo_companies/new", {**CARGO, "config": typed})):
        page = _answer(admin, url, data, TR)
        assert turkish in page and english not in page and "Expecting" not in page, url
        assert english in _answer(admin, url, data), url
    db.session.rollback()
    assert db.session.scalar(select(Channel.config).where(Channel.code == "shop")) == {}
    assert db.session.scalar(select(CargoCompany)) is None
