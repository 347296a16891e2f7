"""Turkish admin and supervisor pages say their words in Turkish: on/off settings, the settings'
JSON and API problems, the on/off switch's label, webhook hosts as typed, unknown location codes,
and the order history's commands and their parameters (a user test in Turkish found each)."""

from __future__ import annotations

import html

import pytest

from app.extensions import db
from app.models import Setting
from app.services import events
from app.services.actors import Actor
from app.services.errors import ValidationFailed
from app.services.planning.scenarios import create_scenario
from app.services.said import N_, said
from app.services.users import create_user
from tests import factories
from tests.services.builders import make_package
from tests.views.test_auth import login, signed_in_admin

TR = {"Accept-Language": "tr"}


@pytest.fixture
def admin(app, client):
    return signed_in_admin(client)


def _page(client, path: str, **kwargs) -> str:
    return html.unescape(client.get(path, headers=TR, **kwargs).get_data(as_text=True))


def test_on_off_settings_are_said_in_turkish_on_the_list_including_the_unusable_note(admin):
    db.session.add(Setting(key="IS_OTP_ENABLED", value="yes"))  # stored before it was checked
    db.session.commit()
    page = _page(admin, "/admin/settings/")
    scan = page.split("REQUIRE_SCAN_TO_PACK</a>")[1].split("</tr>")[0]
    assert "<code>Kapalı</code>" in scan and "Off" not in scan
    otp = page.split("IS_OTP_ENABLED</a>")[1].split("</tr>")[0]
    assert "Kullanılamaz: siz değiştirene kadar Açık kullanılıyor." in otp and ">On<" not in otp
    english = html.unescape(admin.get("/admin/settings/").get_data(as_text=True))
    assert "<code>Off</code>" in english.split("REQUIRE_SCAN_TO_PACK</a>")[1].split("</tr>")[0]


def test_the_switch_is_labelled_with_what_it_does_and_says_when_the_stored_value_is_unusable(admin):
    page = _page(admin, "/admin/settings/IS_OTP_ENABLED")
    switch = page.split('id="field-value"')[1].split("</div>")[0]
    assert "Müşterinin teslim alma kodunu sor" in switch and "Açık" not in switch
    assert "Kullanılamaz" not in page
    db.session.add(Setting(key="IS_OTP_ENABLED", value="yes"))
    db.session.commit()
    page = _page(admin, "/admin/settings/IS_OTP_ENABLED")
    assert "Kullanılamaz: siz değiştirene kadar Açık kullanılıyor." in page
    english = html.unescape(admin.get("/admin/settings/IS_OTP_ENABLED").get_data(as_text=True))
    assert "Ask for the customer's pickup code" in english
    assert "Not usable: On is used until you change it." in english


def test_invalid_json_in_a_setting_is_said_in_turkish_and_nothing_is_saved(admin):
    answer = admin.post("/admin/settings/ORDER_FILTERING", data={"value": "{not json"}, headers=TR)
    page = html.unescape(answer.get_data(as_text=True))
    assert answer.status_code == 422
    assert "Expecting" not in page and "This is not valid JSON" not in page
    assert "satır 1" in page or "1. satır" in page, page.split('id="field-value"')[1][:600]
    db.session.rollback()
    assert db.session.get(Setting, "ORDER_FILTERING") is None


def test_the_settings_api_says_its_message_in_turkish_and_keeps_the_code_english(app, client):
    factories.user("root", "admin")
    db.session.commit()
    token = factories.api_token("root")
    answer = client.put("/api/v1/settings/ORDER_FILTERING", json={"value": {"accepted_statuses": "approved"}},
                        headers={"Authorization": f"Token {token}", "Accept-Language": "tr"})
    body = answer.get_json()["error"]
    assert answer.status_code == 422
    assert body["message"] == "ORDER_FILTERING için geçersiz değer." and body["code"] == "validation_failed"
    english = client.put("/api/v1/settings/ORDER_FILTERING", json={"value": {"accepted_statuses": "approved"}},
                         headers={"Authorization": f"Token {token}"}).get_json()["error"]
    assert english["message"] == "Invalid value for ORDER_FILTERING."


@pytest.mark.parametrize("language", ["en", "tr"])
def test_a_webhook_host_is_shown_as_typed_not_capitalised(admin, language):
    answer = admin.post("/admin/webhooks/", data={"url": "http://localhost:9/hooks", "secret": "s", "strategy":
                                                  "exponential", "max_attempts": "10"},
                        headers={"HX-Request": "true", "Accept-Language": language})
    page = html.unescape(answer.get_data(as_text=True))
    assert answer.status_code == 422
    said = {"en": "localhost resolves to 127.0.0.1, a loopback address;", "tr": "localhost, geri döngü"}[language]
    assert f'role="alert">{said}' in page
    assert "Localhost" not in page
    # other messages still start with a capital
    bad = admin.post("/admin/webhooks/", data={"url": "ftp://x.example/hooks", "secret": "s",
                                               "strategy": "exponential", "max_attempts": "10"},
                     headers={"HX-Request": "true"})
    assert "URL must start with http:// or https://." in html.unescape(bad.get_data(as_text=True))


def test_unknown_location_codes_are_said_in_turkish(app):
    with app.test_request_context(headers=TR):
        with pytest.raises(ValidationFailed) as raised:
            create_user("veli", "staff", "a long enough pass 42", ["NOPE-1"])
    assert raised.value.details["locations"] == "Bilinmeyen lokasyon kodu: NOPE-1."


def test_scenario_rules_with_unknown_location_codes_are_said_in_turkish(app):
    root = factories.user("root", "admin")
    factories.location("IST-01")
    db.session.commit()
    with app.test_request_context(headers=TR):
        with pytest.raises(ValidationFailed) as raised:
            create_scenario({"name": "Yeni", "priority": 5, "active": True, "default_location": "IST-01",
                             "rules": [{"name": "Kural", "locations": ["NOPE-9"]}]}, Actor.for_user(root))
    assert raised.value.details.get("rules.0.locations") == "Bilinmeyen lokasyon kodu: NOPE-9.", raised.value.details


def test_the_order_history_says_commands_and_their_parameters_in_words(app, client):
    package = make_package("packed")
    shipment = package.shipment
    events.log_transition("shipment", shipment.id, "label_ready", "label_ready", "request_label",
                          {"tracking_number": "TRK-1", "version": 3}, "system:labels")
    events.log_transition("shipment", shipment.id, "cancelled", "cancelled", "cancel_at_carrier",
                          {"tracking_number": "TRK-1", "error": "HTTP 500",
                           "error_message": said(N_("The carrier did not answer."))}, "system:carrier")
    events.log_transition("order", package.order_id, "open", "cancelled", "cancel", {"reason": "Müşteri vazgeçti"},
                          "sup")
    factories.user("sup", "supervisor")
    db.session.commit()
    login(client, "sup")
    page = _page(client, f"/supervisor/orders/{package.order_id}/")
    history = page.split("<h2>Geçmiş</h2>")[1].split("</table>")[0]
    assert "=" not in history.replace('="', "")  # no raw key=value
    assert "cancel at carrier" not in history and "request label" not in history
    assert "Kargo firmasında iptal edildi" in history and "Kargo firmasından etiket istendi" in history
    assert "Takip numarası: TRK-1" in history and "Sürüm: 3" in history
    assert "İptal et" in history and "Vazgeç<" not in history
    english = html.unescape(client.get(f"/supervisor/orders/{package.order_id}/").get_data(as_text=True))
    assert "Tracking number: TRK-1" in english and "Cancelled at the carrier" in english
