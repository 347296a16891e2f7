"""The demo's denial reasons are stored in English like the rest of master data, and their
titles are catalogue sentences: said through the catalogue they read in Turkish, while a brand's
own title is said as it was typed."""

from __future__ import annotations

from flask_babel import force_locale
from sqlalchemy import select

from app.extensions import db
from app.models import DenialReason
from app.services import said
from app.services.demo import DENIAL_REASONS, seed_demo
from tests import factories

TURKISH = {"damaged": "Ürün hasarlı", "not_found": "Ürün mağazada bulunamadı",
           "store_busy": "Mağaza hazırlayamayacak kadar yoğun", "wrong_item": "Rafta yanlış ürün var"}


def _titles() -> dict[str, str]:
    return dict(db.session.execute(select(DenialReason.code, DenialReason.title)).tuples().all())


def test_the_demo_reasons_read_in_turkish_and_stay_english_in_english(app):
    seed_demo()
    stored = _titles()
    assert stored == {code: title for code, title, _priority in DENIAL_REASONS}
    with app.test_request_context(), force_locale("tr"):
        assert {code: said.text(said.said(title)) for code, title in stored.items()} == TURKISH
    with app.test_request_context(), force_locale("en"):
        assert {code: said.text(said.said(title)) for code, title in stored.items()} == stored


def test_a_brands_own_title_is_said_as_typed(app):
    factories.denial_reason("kirik", title="Kırık şişe %d")
    db.session.commit()
    with app.test_request_context(), force_locale("tr"):
        assert said.text(said.said(_titles()["kirik"])) == "Kırık şişe %d"
