"""Settings edited as JSON validated per key; stock adjustments with a ledger reason."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Setting, StockLedger
from tests import factories
from tests.services.builders import row_counts, stock_of
from tests.views.test_auth import signed_in_admin


@pytest.fixture
def admin(app, client):
    return signed_in_admin(client)


def test_settings_list_shows_every_known_key_with_its_value(admin):
    html = admin.get("/admin/settings/").get_data(as_text=True)
    for key in ("ORDER_FILTERING", "REPLAN_INTERVAL_MINUTES", "REQUIRE_SCAN_TO_PACK", "IS_OTP_ENABLED"):
        assert key in html


def test_a_setting_is_saved_as_json(admin):
    response = admin.post("/admin/settings/REPLAN_INTERVAL_MINUTES", data={"value": "15"})
    assert response.status_code == 303
    db.session.rollback()
    assert db.session.get(Setting, "REPLAN_INTERVAL_MINUTES").value == 15


@pytest.mark.parametrize(("key", "value", "message"), [
    ("REPLAN_INTERVAL_MINUTES", "0", "Must be a whole number above 0."),
    ("TIME_ZONE", "Mars/Olympus", "is not a time zone we know"),
    ("REPLAN_INTERVAL_MINUTES", "soon", "Enter a whole number"),
    ("ORDER_FILTERING", '{"accepted_statuses": "approved"}', "accepted_statuses must be a list"),
    ("ORDER_FILTERING", "{not json", "This is not valid JSON"),
    ("ORDER_FILTERING", '{"accepted_statuses": ["approved"], "x": -Infinity}', "It contains -Infinity"),
])
def test_invalid_setting_values_are_refused_next_to_the_field(admin, key, value, message):
    response = admin.post(f"/admin/settings/{key}", data={"value": value}, headers={"HX-Request": "true"})
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    db.session.rollback()
    assert db.session.get(Setting, key) is None


def test_on_off_settings_are_a_switch_not_json(admin):
    html = admin.get("/admin/settings/REQUIRE_SCAN_TO_PACK").get_data(as_text=True)
    assert 'type="checkbox"' in html and 'role="switch"' in html and "JSON" not in html
    assert admin.post("/admin/settings/REQUIRE_SCAN_TO_PACK", data={"value": "y"}).status_code == 303
    db.session.rollback()
    assert db.session.get(Setting, "REQUIRE_SCAN_TO_PACK").value is True
    # An unticked checkbox sends nothing: that is "off", not an error.
    response = admin.post("/admin/settings/REQUIRE_SCAN_TO_PACK", data={}, follow_redirects=True)
    assert "REQUIRE_SCAN_TO_PACK is now Off" in response.get_data(as_text=True)
    db.session.rollback()
    assert db.session.get(Setting, "REQUIRE_SCAN_TO_PACK").value is False


def test_time_zone_setting_is_a_plain_name(admin):
    assert admin.post("/admin/settings/TIME_ZONE", data={"value": " Europe/Istanbul "}).status_code == 303
    db.session.rollback()
    assert db.session.get(Setting, "TIME_ZONE").value == "Europe/Istanbul"
    assert "Europe/Istanbul" in admin.get("/admin/settings/").get_data(as_text=True)


def test_unknown_setting_is_404(admin):
    assert admin.get("/admin/settings/NOPE").status_code == 404


def test_stock_adjustment_sets_on_hand_and_writes_the_reason_to_the_ledger(admin):
    loc = factories.location("IST-01")
    factories.product("MUG-1")
    db.session.commit()
    response = admin.post("/admin/stock/adjust", data={"location": "IST-01", "sku": "MUG-1", "quantity": "12",
                                                      "reason": "count", "note": "Yearly count"})
    assert response.status_code == 303
    db.session.rollback()
    assert stock_of(loc, "MUG-1") == (12, 0)
    entry = db.session.scalar(select(StockLedger).order_by(StockLedger.id.desc()))
    assert (entry.on_hand_delta, entry.reason, entry.note, entry.actor) == (12, "count", "Yearly count", "user:root")
    page = admin.get("/admin/stock/?location=IST-01").get_data(as_text=True)
    assert "MUG-1" in page and "Yearly count" in page


@pytest.mark.parametrize(("data", "message"), [
    ({"location": "IST-01", "sku": "NOPE", "quantity": "3", "reason": "count"}, "Unknown SKU"),
    ({"location": "IST-01", "sku": "MUG-1", "quantity": "-1", "reason": "count"}, "Enter 0 or more."),
    ({"location": "IST-01", "sku": "MUG-1", "quantity": "", "reason": "count"}, "Enter the counted units."),
    ({"location": "IST-01", "sku": "MUG-1", "quantity": "1", "reason": "count"}, "reserved"),
])
def test_stock_adjustment_errors_are_shown_in_place_and_nothing_is_written(admin, data, message):
    loc = factories.location("IST-01")
    mug = factories.product("MUG-1")
    factories.stock(loc, mug, on_hand=5, reserved=3)
    db.session.commit()
    db.session.rollback()
    before = row_counts()
    response = admin.post("/admin/stock/adjust", data=data, headers={"HX-Request": "true"})
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    db.session.rollback()
    assert row_counts() == before and stock_of(loc, "MUG-1") == (5, 3)


@pytest.mark.parametrize(("key", "english", "turkish_word"), [
    ("REPLAN_INTERVAL_MINUTES", "Re-plan out-of-stock packages every 1 to 10080 minutes", "10080"),
    ("REQUISITION_INTERVAL_MINUTES", "Propose what to order every 1 to 10080 minutes", "10080"),
])
def test_an_absurd_interval_is_refused_in_the_settings_own_words_and_nothing_is_saved(admin, key, english,
                                                                                        turkish_word):
    response = admin.post(f"/admin/settings/{key}", data={"value": "99999999999999999999"})
    assert response.status_code == 422
    assert english in response.get_data(as_text=True)
    assert "Saved" not in response.get_data(as_text=True)
    db.session.rollback()
    assert db.session.get(Setting, key) is None
    turkish = admin.post(f"/admin/settings/{key}", data={"value": "10081"},
                         headers={"Accept-Language": "tr"}).get_data(as_text=True)
    assert turkish_word in turkish and english not in turkish
    assert admin.post(f"/admin/settings/{key}", data={"value": "10080"}).status_code == 303
    db.session.rollback()
    assert db.session.get(Setting, key).value == 10080
    assert "1e+20" not in admin.get("/admin/settings/").get_data(as_text=True)


def test_a_value_stored_before_it_was_checked_is_shown_with_the_default_that_is_used(admin):
    db.session.add(Setting(key="REPLAN_INTERVAL_MINUTES", value=10**20))
    db.session.commit()
    html = admin.get("/admin/settings/").get_data(as_text=True)
    row = html.split("REPLAN_INTERVAL_MINUTES</a>")[1].split("</tr>")[0]
    # SQLite's JSON gives the number back as 1e+20, PostgreSQL's as the integer
    assert ("100000000000000000000" in row or "1e+20" in row) and "Not usable: 30 is used until you change it." in row
