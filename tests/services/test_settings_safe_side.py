"""A security setting whose stored value is neither true nor false (only possible by writing the
settings table straight) falls to its safe side, not to its default: the click & collect
handover still asks for the customer's code, webhooks still refuse private addresses. One log
line says so; the admin's settings list shows what is used."""

from __future__ import annotations

import logging
import uuid

import pytest
from sqlalchemy import text

from app.extensions import db
from app.services.errors import ValidationFailed
from app.services.packages import run_package_command
from app.services.settings import get_setting
from tests import factories
from tests.services.builders import make_package, staff


def _write_straight(key: str, value: str) -> None:
    """What a hand-written SQL statement would leave: a JSON string, not true/false."""
    db.session.execute(text("INSERT INTO settings (key, value, updated_at) VALUES (:k, :v, CURRENT_TIMESTAMP)"),
                       {"k": key, "v": f'"{value}"'})
    db.session.execute(text("UPDATE config_versions SET token = token + 1"))  # as a saved setting does
    db.session.commit()
    db.session.remove()


@pytest.mark.parametrize(("key", "safe"), [("IS_OTP_ENABLED", True), ("WEBHOOK_ALLOW_PRIVATE_URLS", False)])
def test_an_unusable_security_setting_falls_to_its_safe_side_with_one_log_line(app, caplog, key, safe):
    value = f"maybe-{uuid.uuid4().hex[:6]}"  # a value of its own: the log line is once per process and value
    _write_straight(key, value)
    with caplog.at_level(logging.WARNING, logger="packline.settings"):
        assert get_setting(key, not safe) is safe
        db.session.remove()
        assert get_setting(key, not safe) is safe
    lines = [r.getMessage() for r in caplog.records if value in r.getMessage()]
    assert len(lines) == 1 and f"using {str(safe).lower()} (the safe side)" in lines[0], lines


def test_the_handover_still_asks_for_the_code_when_the_otp_setting_is_unusable(app):
    store = factories.location("IST-KDK")
    package = make_package("ready_for_pickup", location=store, delivery_type="click_and_collect")
    package.otp_code = "482913"
    db.session.commit()
    package_id, clerk = package.id, staff(store)
    _write_straight("IS_OTP_ENABLED", "yes please")
    with pytest.raises(ValidationFailed):  # without it, the default (off) handed it over to anyone
        run_package_command(package_id, "deliver_to_customer", {"otp": "000000"}, clerk)
    assert run_package_command(package_id, "deliver_to_customer", {"otp": "482913"}, clerk).state == "delivered"


def test_the_settings_list_says_the_safe_side_is_used(app, client):
    from tests.views.test_auth import login

    factories.user("boss", "admin")
    db.session.commit()
    _write_straight("IS_OTP_ENABLED", "perhaps")
    login(client, "boss")
    page = client.get("/admin/settings/").get_data(as_text=True)
    row = page[page.index("IS_OTP_ENABLED"):]
    row = row[: row.index("</tr>")]
    assert "perhaps" in row and "On is used until you change it" in row, row
