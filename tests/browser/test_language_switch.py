"""The header's language switch in a real browser, with JavaScript off and on: pressed on page 2
of a searched list, it shows the same page of the same search in the other language (the form
posts the path; the server takes the query from the browser's Referer)."""

from __future__ import annotations

import pytest

from app.extensions import db
from tests import factories
from tests.browser.test_store_flow import sign_in

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("javascript", [False, True])
def test_switching_language_keeps_the_page_and_the_search(app, browser, live_server, javascript):
    store = factories.location("IST-01")
    factories.user("root", "admin", [store])
    for n in range(60):
        factories.product(f"CAY-{n:02}", name=f"Çay {n:02}")
    factories.product("KAHVE-1", name="Kahve")
    db.session.commit()
    context = browser.new_context(base_url=live_server, locale="en-GB", java_script_enabled=javascript)
    page = context.new_page()
    try:
        sign_in(page, "root")
        page.wait_for_url("**/admin/")
        page.goto("/admin/products/?q=%C3%A7ay&sort=name&page=2")
        assert page.locator("html").get_attribute("lang") == "en"
        page.click("form.language-switch button[value=tr]")
        page.wait_for_load_state()
        assert page.url == f"{live_server}/admin/products/?q=%C3%A7ay&sort=name&page=2"
        assert page.locator("html").get_attribute("lang") == "tr"
        body = page.locator("body").inner_text()
        assert "CAY-59" in body and "CAY-00" not in body and "KAHVE-1" not in body
        assert "Sayfa 2 / 2 · toplam 60" in body
    finally:
        context.close()
