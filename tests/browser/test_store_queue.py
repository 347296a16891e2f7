"""The queue in real Chromium: search and tabs swap in place, new work shows up without a reload."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_store_flow import sign_in, tablet_store
from tests.services.builders import make_package

pytestmark = pytest.mark.browser


def test_tabs_and_search_swap_the_queue_and_a_new_package_raises_the_badge(app, page):
    store, package = tablet_store()
    sign_in(page, "ayse")
    page.wait_for_url("**/store/IST-KDK/")
    page.click("nav >> text=Packages")
    page.evaluate("window.__sameDocument = true")  # gone if anything reloads the page

    page.click("a.tab:has-text('Preparing')")
    expect(page.locator("#queue .row")).to_have_count(1)
    page.wait_for_url("**/packages?tab=preparing")  # the tab is in the address, for back and reload
    page.fill("#queue-search", "8690000000024")  # a scanned barcode finds its packages in any tab
    page.press("#queue-search", "Enter")
    expect(page.locator("#queue .row")).to_have_count(2)
    expect(page.locator("#queue")).to_contain_text(package.number)
    page.click("a:has-text('Clear')")
    expect(page.locator("#queue .row")).to_have_count(1)

    make_package("waiting", location=store, items=[("SCARF-RED", 1)])
    badge = page.locator("#new-badge a.new-badge")
    expect(badge).to_have_text("1 new", timeout=20_000)  # polled every 15 s
    assert page.evaluate("window.__sameDocument") is True
    badge.click()
    page.wait_for_url("**/store/IST-KDK/packages")
    expect(page.locator("#queue .row")).to_have_count(5)
