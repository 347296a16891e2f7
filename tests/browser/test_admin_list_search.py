"""The admin master-data lists search as you type (htmx) and put the search in the address bar, so
a reload, the language switch (which keeps the query through the Referer) and Back all show the
same filtered list with the box filled — in Chromium."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from app.extensions import db
from tests import factories
from tests.browser.test_store_flow import sign_in

pytestmark = pytest.mark.browser


def _skus(page) -> list[str]:
    return page.locator("#entity-table tbody tr td:first-child").all_inner_texts()


def _address_says(page, name: str, value: str) -> None:
    """Wait until the address bar's query has `name`=`value` (htmx pushes it after the swap)."""
    page.wait_for_function("([name, value]) => new URLSearchParams(location.search).get(name) === value",
                           arg=[name, value], timeout=5000)


def _query(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def test_a_searched_list_survives_a_reload_the_language_switch_and_back(app, browser, live_server):
    factories.user("root", "admin")
    for n in range(3):
        factories.product(f"CAY-{n}", name=f"Çay {n}")
    factories.product("KAHVE-1", name="Kahve")
    db.session.commit()
    context = browser.new_context(base_url=live_server, locale="en-GB")
    page = context.new_page()
    try:
        sign_in(page, "root")
        page.wait_for_url("**/admin/")
        page.goto("/admin/products/")
        expect(page.locator("#entity-table")).to_contain_text("KAHVE-1")

        page.fill("#q", "ÇAY")  # typed: htmx asks for the list after a pause
        expect(page.locator("#entity-table")).not_to_contain_text("KAHVE-1")
        assert _skus(page) == ["CAY-0", "CAY-1", "CAY-2"]
        _address_says(page, "q", "ÇAY")

        page.reload()
        assert page.locator("#q").input_value() == "ÇAY"
        assert _skus(page) == ["CAY-0", "CAY-1", "CAY-2"]

        page.select_option("#sort", "name")
        _address_says(page, "sort", "name")
        page.click("form.language-switch button[value=tr]")
        page.wait_for_load_state()
        assert page.locator("html").get_attribute("lang") == "tr"
        assert _query(page.url) == {"q": ["ÇAY"], "sort": ["name"]}
        assert page.locator("#q").input_value() == "ÇAY"
        assert page.locator("#sort").input_value() == "name"
        assert _skus(page) == ["CAY-0", "CAY-1", "CAY-2"]

        page.fill("#q", "kahve")
        expect(page.locator("#entity-table")).not_to_contain_text("CAY-0")
        _address_says(page, "q", "kahve")
        page.go_back()
        _address_says(page, "q", "ÇAY")
        expect(page.locator("#entity-table")).to_contain_text("CAY-2")
        assert "KAHVE-1" not in " ".join(_skus(page))
    finally:
        context.close()
