"""Scan feedback by sound and vibration in real Chromium: a tone for a good scan, another for a bad
one, a vibration where the device has one; on by default and switched off per user in My settings."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_store_flow import sign_in, tablet_store
from tests.browser.test_store_handoffs import SHIRT, open_page  # noqa: F401 (a fixture)
from tests.services.builders import make_package

pytestmark = pytest.mark.browser

# navigator.vibrate is the device's; record what the page asks of it (the page's own code runs as is).
RECORD_VIBRATIONS = "window.__vibrations = []; navigator.vibrate = p => { window.__vibrations.push(p); return true; };"


def scan(page, barcode: str) -> None:
    page.keyboard.type(barcode, delay=0)
    page.keyboard.press("Enter")


def cues(page) -> dict:
    return page.evaluate("({...window.packlineFeedback, vibrations: window.__vibrations.length})")


def wait_for_cues(page, **expected) -> None:
    """Poll from Python: a polling predicate inside the page would need eval, which our CSP blocks."""
    for _ in range(50):
        if all(cues(page)[kind] == n for kind, n in expected.items()):
            return
        page.wait_for_timeout(100)
    assert {kind: cues(page)[kind] for kind in expected} == expected


@pytest.mark.parametrize("size", ["tablet", "phone"])
def test_scans_sound_and_vibrate_by_default_and_stay_silent_once_switched_off(app, open_page, size):  # noqa: F811
    store, _ = tablet_store()
    package = make_package("preparing", location=store, items=[("TSHIRT-M", 2)])
    page = open_page(size)
    page.add_init_script(RECORD_VIBRATIONS)
    sign_in(page, "ayse")
    page.wait_for_url("**/store/IST-KDK/")
    page.goto(f"/store/IST-KDK/packages/{package.id}")
    expect(page.locator("body")).to_have_attribute("data-scan-feedback", "on")
    expect(page.locator("[data-scan-field]")).to_be_focused()
    scan(page, SHIRT)
    expect(page.locator("#pick-progress")).to_contain_text("Picked 1 of 2")
    wait_for_cues(page, success=1)
    scan(page, "0000")
    expect(page.locator("#scan-feedback[data-scan-error]")).to_be_visible()
    wait_for_cues(page, error=1)
    assert cues(page) == {"success": 1, "error": 1, "vibrations": 2}
    assert page.evaluate("typeof (window.AudioContext || window.webkitAudioContext)") == "function"

    page.get_by_role("link", name="My settings").click()
    page.wait_for_url("**/store/IST-KDK/settings")
    switch = page.get_by_role("switch", name="Sound and vibration for scans")
    expect(switch).to_be_checked()
    page.locator("label.switch").click()  # the switch is drawn over the checkbox
    expect(switch).not_to_be_checked()
    page.click("button:has-text('Save')")
    expect(page.locator("#settings .notice")).to_contain_text("Scans are now silent")
    expect(page.locator("body")).to_have_attribute("data-scan-feedback", "off")  # at once, from the answer

    page.goto(f"/store/IST-KDK/packages/{package.id}")
    expect(page.locator("body")).to_have_attribute("data-scan-feedback", "off")
    expect(page.locator("[data-scan-field]")).to_be_focused()
    scan(page, SHIRT)
    expect(page.locator("#pick-progress")).to_contain_text("Picked 2 of 2")
    scan(page, "0000")
    expect(page.locator("#scan-feedback[data-scan-error]")).to_be_visible()
    expect(page.locator("#scan-feedback")).to_contain_text("0000")
    assert cues(page) == {"success": 0, "error": 0, "vibrations": 0}  # the red line still says it
