"""Plain words in real Chromium, at tablet and phone sizes, with and without JavaScript: a missing
items form sent empty says what to enter, a weight typed with a decimal comma packs, success
messages say what happened, on/off settings are switches, and the supervisor's package page shows
the package's local time."""

from __future__ import annotations

from datetime import datetime

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models import Package, Setting
from tests import factories
from tests.browser.test_store_flow import sign_in, state_of
from tests.browser.test_store_handoffs import SHIRT, open_page  # noqa: F401 (a fixture)
from tests.services.builders import make_package

pytestmark = pytest.mark.browser

API_WORDS = ("whole_package", "String should", "Input should", "Field required", "Done:", "weight_kg")


def store_package(state: str = "preparing", picked: int = 0) -> int:
    store = factories.location("IST-KDK", name="Kadıköy Store")
    factories.user("ayse", "staff", [store])
    factories.product("TSHIRT-M", SHIRT, name="Cotton T-shirt, navy, M")
    db.session.commit()
    package = make_package(state, location=store, items=[("TSHIRT-M", 1)])
    package.items[0].picked_quantity = picked
    db.session.commit()
    return package.id


def assert_plain(page) -> None:
    text = page.locator("main").inner_text()
    assert not [word for word in API_WORDS if word in text], text


@pytest.mark.parametrize("size", ["tablet", "phone"])
@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_an_empty_missing_items_form_says_what_to_enter(app, open_page, size, js):  # noqa: F811
    package_id = store_package()
    page = open_page(size, js)
    page.on("dialog", lambda dialog: dialog.accept())  # "Report these units as missing?"
    sign_in(page, "ayse")
    page.wait_for_url("**/store/IST-KDK/")
    page.goto(f"/store/IST-KDK/packages/{package_id}/missing")
    page.locator("#package button[type=submit]").last.click()
    expect(page.locator("main")).to_contain_text(
        "Enter how many units are missing for at least one item, or tick Give up the whole package.")
    assert_plain(page)
    assert state_of(package_id) == "preparing"


@pytest.mark.parametrize("size", ["tablet", "phone"])
@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_a_weight_with_a_decimal_comma_packs(app, open_page, size, js):  # noqa: F811
    package_id = store_package(picked=1)
    page = open_page(size, js)
    sign_in(page, "ayse")
    page.wait_for_url("**/store/IST-KDK/")
    page.goto(f"/store/IST-KDK/packages/{package_id}")
    page.fill("#complete_packing-weight_kg", "1,5")
    page.click("button[data-command=complete_packing]")
    expect(page.locator("main")).to_contain_text("Packed. The carrier is asked for the label")
    assert_plain(page)
    assert state_of(package_id) == "waiting_cargo_label"
    db.session.rollback()
    assert float(db.session.get(Package, package_id).shipment.weight_kg) == 1.5


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_an_on_off_setting_is_a_switch(app, open_page, js):  # noqa: F811
    factories.user("root", "admin")
    db.session.commit()
    page = open_page("tablet", js)
    sign_in(page, "root")
    page.wait_for_url("**/admin/**")
    page.goto("/admin/settings/REQUIRE_SCAN_TO_PACK")
    switch = page.get_by_role("switch")
    expect(switch).not_to_be_checked()
    expect(page.locator("textarea")).to_have_count(0)  # no JSON to type
    switch.check()
    page.click("button:has-text('Save')")
    expect(page.locator("main")).to_contain_text("Saved" if js else "REQUIRE_SCAN_TO_PACK is now On")
    db.session.rollback()
    assert db.session.get(Setting, "REQUIRE_SCAN_TO_PACK").value is True


@pytest.mark.parametrize("size", ["tablet", "phone"])
def test_the_supervisor_package_page_shows_the_packages_local_time(app, open_page, size):  # noqa: F811
    store = factories.location("IST-KDK", name="Kadıköy Store", time_zone="Europe/Istanbul")
    factories.user("sup", "supervisor")
    package = make_package("waiting", location=store)
    package.created_at = datetime(2026, 12, 6, 19, 30)
    db.session.commit()
    page = open_page(size)
    sign_in(page, "sup")
    page.wait_for_url("**/supervisor/**")
    page.goto(f"/supervisor/packages/{package.id}/")
    created = page.locator("time[datetime='2026-12-06T19:30:00Z']")
    expect(created).to_have_text("6 Dec 2026, 22:30 +03")
