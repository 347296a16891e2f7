"""Pickup code and missing-item refusals on a Turkish store page are said in Turkish, and each
sentence once: the top of the page says what happened, the field says what to do."""

from __future__ import annotations

import html

from app.extensions import db
from app.services.pickup_codes import PER_PACKAGE
from app.services.settings import put_setting
from tests.services.builders import make_package
from tests.views.test_store_packages import reload, url
from tests.views.test_store_queue import HX, login, store_with_staff


def _turkish_staff():
    store = store_with_staff()
    db.session.execute(db.text("UPDATE users SET language = 'tr' WHERE username = 'ayse'"))
    db.session.commit()
    return store


def _waiting_with_a_code(store):
    put_setting("IS_OTP_ENABLED", True)
    package = make_package("ready_for_pickup", location=store, delivery_type="click_and_collect")
    package.otp_code = "482913"
    db.session.commit()
    return package


def test_a_wrong_pickup_code_is_said_in_turkish_once_at_the_top_and_once_at_the_field(app, client):
    store = _turkish_staff()
    package = _waiting_with_a_code(store)
    login(client)
    answer = client.post(url(package, "/commands/deliver_to_customer"),
                         data={"version": package.version, "otp": "000000"}, headers=HX)
    body = html.unescape(answer.get_data(as_text=True))
    assert answer.status_code == 422
    assert "pickup code" not in body.lower() and "not correct" not in body
    assert body.count("Teslim kodu doğru değil: paket teslim edilmedi.") == 1  # the top
    field = body.split('id="deliver_to_customer-otp"')[1].split("</div>")[0]
    assert "Bu paketin kodu değil." in field and body.count("Bu paketin kodu değil.") == 1
    assert reload(package).state == "ready_for_pickup"


def test_a_locked_package_is_said_in_turkish(app, client):
    store = _turkish_staff()
    package = _waiting_with_a_code(store)
    login(client)
    for n in range(PER_PACKAGE + 1):
        answer = client.post(url(package, "/commands/deliver_to_customer"),
                             data={"version": package.version, "otp": f"00000{n}"}, headers=HX)
    body = html.unescape(answer.get_data(as_text=True))
    assert answer.status_code == 429
    assert "Bu paket için çok fazla yanlış teslim kodu girildi." in body and "15 dakika kilitli." in body
    assert "Too many" not in body and "Locked for" not in body


def _report_missing(client, held: int, missing: str):
    """A Turkish staff member reports `missing` units of TSHIRT-M on a package holding `held`."""
    store = _turkish_staff()
    package = make_package("preparing", location=store, items=[("TSHIRT-M", held)])
    item = package.items[0]
    login(client)
    answer = client.post(url(package, "/missing"), data={"version": package.version, f"quantity-{item.id}": missing,
                                                         f"reason-{item.id}": "not_found"}, headers=HX)
    return package, answer, html.unescape(answer.get_data(as_text=True))


def test_reporting_more_missing_units_than_the_package_holds_is_said_in_turkish(app, client):
    package, answer, body = _report_missing(client, 1, "3")
    assert answer.status_code == 422
    assert "Pakette TSHIRT-M ürününden yalnızca 1 adet var." in body and "holds only" not in body
    assert reload(package).state == "preparing"


def test_a_missing_count_below_0_is_said_in_turkish_with_the_item_and_its_range(app, client):
    package, answer, body = _report_missing(client, 2, "-1")
    assert answer.status_code == 422
    assert "TSHIRT-M eksik adedi: 0 ile 2 arasında bir tam sayı girin." in body
    assert "Komut bilgileri geçerli değil" not in body and "1 ya da daha fazla" not in body
    assert reload(package).state == "preparing"


def test_a_refused_command_field_is_said_in_turkish_without_the_vague_prefix(app, client):
    """The service's "The command parameters are not valid." adds nothing to the field's own words,
    in Turkish as in English."""
    store = _turkish_staff()
    package = make_package("waiting", location=store)
    login(client)
    answer = client.post(url(package, "/commands/block"), data={"version": package.version, "reason": "x" * 600},
                         headers=HX)
    body = html.unescape(answer.get_data(as_text=True))
    assert answer.status_code == 422 and "Komut bilgileri geçerli değil" not in body
