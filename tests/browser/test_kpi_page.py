"""The KPI page in Chromium at tablet and desktop widths: the range form, the cards, every chart
drawn (as an image, with or without JavaScript), nothing wider than the screen, no CSP complaint."""

from __future__ import annotations

import pytest

from app.extensions import db
from tests import factories
from tests.factories import PASSWORD
from tests.kpi_history import build_history

pytestmark = pytest.mark.browser

SIZES = {"tablet": {"width": 768, "height": 1024}, "desktop": {"width": 1366, "height": 900}}


def open_page(browser, live_server, size: str, js: bool = True):
    context = browser.new_context(viewport=SIZES[size], base_url=live_server, java_script_enabled=js)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    return context, page, problems


def sign_in(page, username: str) -> None:
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("form:has(#password) button[type=submit]")
    page.wait_for_load_state()


def charts_drawn(page) -> list[int]:
    """The drawn width of every chart image (0 when the browser could not draw it)."""
    return page.eval_on_selector_all(".kpi-chart img", "imgs => imgs.map(i => i.complete ? i.naturalWidth : 0)")


@pytest.mark.parametrize("size, js", [("tablet", True), ("desktop", True), ("tablet", False)],
                         ids=["tablet", "desktop", "tablet-no-js"])
def test_a_supervisor_reads_the_kpis_for_chosen_days(app, browser, live_server, size, js):
    build_history()
    factories.user("boss", "supervisor")
    db.session.commit()
    context, page, problems = open_page(browser, live_server, size, js)
    try:
        sign_in(page, "boss")
        page.click("nav >> text=KPIs")
        page.wait_for_url("**/supervisor/kpis")
        page.fill("#kpi-from", "2026-11-09")
        page.fill("#kpi-to", "2026-11-12")
        page.click(".kpi-filters button[type=submit]")
        page.wait_for_url("**/supervisor/kpis?from=2026-11-09&to=2026-11-12*")
        assert page.inner_text('[data-kpi="processing_median_min"]') == "20.0 min"
        assert page.inner_text('[data-kpi="fulfilment_rate"]') == "50.0%"
        drawn = charts_drawn(page)
        assert len(drawn) == 6 and all(w > 0 for w in drawn), drawn
        assert page.locator('table[data-table="processing"] tbody tr').count() == 4  # 9-12 Nov, empty days too
        # Nothing but the tables' own scroll boxes is wider than the screen.
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        link = page.locator("#chart-hours a[download]")
        assert "/supervisor/kpis/charts/hours.svg" in link.get_attribute("href")
        # The first day after the last: a plain message, the page still works.
        page.fill("#kpi-from", "2026-11-12")
        page.fill("#kpi-to", "2026-11-01")
        page.click(".kpi-filters button[type=submit]")
        page.wait_for_load_state()
        assert "The first day is after the last day" in page.inner_text("#kpi-problem")
        assert problems == []
    finally:
        context.close()


def test_staff_read_their_store_kpis_on_a_tablet(app, browser, live_server):
    h = build_history()
    factories.user("ayse", "staff", [h.ist])
    db.session.commit()
    context, page, problems = open_page(browser, live_server, "tablet")
    try:
        sign_in(page, "ayse")
        page.goto("/store/IST/kpis?from=2026-11-09&to=2026-11-12")
        assert page.inner_text('[data-kpi="error_rate"]') == "60.0"
        assert page.locator("#kpi-location").count() == 0  # one store: nothing to choose
        assert all(w > 0 for w in charts_drawn(page))
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        assert problems == []
    finally:
        context.close()
