"""Store-floor findings in real Chromium at tablet size: the queue's tabs all in sight at 768 and
1024 px (portrait and landscape), no Content-Security-Policy violation on store pages and the
fragments htmx swaps in, Back after finishing a return shows the finished return (not its form),
and a cancelled click & collect package says what to do with its items."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.services.returns import create_return
from tests import factories
from tests.browser.test_store_flow import scan, sign_in, tablet_store
from tests.services.builders import make_package, staff

pytestmark = pytest.mark.browser

# Every CSP violation the page sees (the console says the same as a warning or an error).
WATCH_CSP = ("window.__csp = []; document.addEventListener('securitypolicyviolation', "
             "e => window.__csp.push(e.violatedDirective + ' ' + (e.sample || e.blockedURI)));")


def _ayse_signed_in(page, store_code: str) -> None:
    sign_in(page, "ayse")
    page.wait_for_url(f"**/store/{store_code}/")


def _store_with_a_delivered_cap():
    """Store IST-01 where ayse works, and a delivered order of one black cap from it."""
    store = factories.location("IST-01", name="Kadıköy Store")
    factories.user("ayse", "staff", [store])
    factories.product("CAP-BLK", "8690000000024", name="Baseball cap, black")
    db.session.commit()
    return store, make_package("delivered", location=store, items=[("CAP-BLK", 1)], spare=0)


@pytest.mark.parametrize("width,height", [(768, 1024), (1024, 768), (1024, 1366)])
def test_every_queue_tab_is_in_sight_and_reachable_at_tablet_width(app, page, width, height):
    store, _package = tablet_store()
    page.set_viewport_size({"width": width, "height": height})
    _ayse_signed_in(page, "IST-KDK")
    page.goto("/store/IST-KDK/packages")
    tabs = page.locator("nav.tabs a.tab")
    assert tabs.count() == 8
    assert page.evaluate("document.documentElement.scrollWidth") <= width  # the page does not scroll sideways
    for i in range(tabs.count()):
        tab = tabs.nth(i)
        box = tab.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width, tab.inner_text()
        expect(tab).to_be_in_viewport()
    last = tabs.nth(tabs.count() - 1)  # the last one (Shipped) is one tap away, no sideways scroll
    last.click()
    page.wait_for_url("**/packages?tab=shipped")
    expect(page.locator("nav.tabs a.tab[aria-current=page]")).to_contain_text("Shipped")


def test_store_pages_and_swapped_fragments_raise_no_csp_violation(app, page):
    store, package = tablet_store()
    delivered = make_package("delivered", location=store, items=[("SCARF-RED", 1)], spare=0)
    delivered.order.customer_phone = "0532 123 45 67"
    db.session.commit()
    ret = create_return({"order": delivered.order_id, "location": "IST-KDK",
                         "items": [{"sku": "SCARF-RED", "quantity": 1}]}, staff(store))
    console: list[str] = []
    page.on("console", lambda m: console.append(m.text) if "Content Security Policy" in m.text else None)
    page.add_init_script(WATCH_CSP)
    _ayse_signed_in(page, "IST-KDK")
    violations: dict[str, list[str]] = {}

    def check(where: str) -> None:
        found = page.evaluate("window.__csp")
        if found:
            violations[where] = found

    for url in ("/store/IST-KDK/", "/store/IST-KDK/receiving", "/store/IST-KDK/transfers", "/store/IST-KDK/batches",
                "/store/IST-KDK/kpis", "/store/IST-KDK/settings"):
        page.goto(url)
        page.wait_for_load_state("networkidle")
        check(url)
    page.goto("/store/IST-KDK/packages")
    page.click("a.tab:has-text('Preparing')")  # a fragment swapped in
    expect(page.locator("a.tab[aria-current=page]")).to_contain_text("Preparing")
    check("queue tab")
    page.goto(f"/store/IST-KDK/packages/{package.id}")
    page.click("[data-command=prepare]")
    expect(page.locator("[data-scan-field]")).to_be_visible()
    scan(page, "8690000000017")
    expect(page.locator("#pick-progress")).to_contain_text("1")
    scan(page, "0000000000000")  # a refused scan: the feedback fragment
    expect(page.locator("#scan-feedback")).to_be_visible()
    check("package page")
    page.goto("/store/IST-KDK/returns/new")
    page.fill("input[name=q]", "+90 532 123 4567")
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_contain_text(delivered.order.number)
    check("return counter")
    page.goto(f"/store/IST-KDK/receiving/returns/{ret.id}")
    scan(page, "8690000000031")
    expect(page.locator("#return-progress")).to_contain_text("1")
    check("return receiving")
    assert not violations and not console, (violations, console)


def test_back_after_finishing_a_return_shows_the_finished_return_not_its_form(app, page):
    store, delivered = _store_with_a_delivered_cap()
    ret = create_return({"order": delivered.order_id, "location": "IST-01",
                         "items": [{"sku": "CAP-BLK", "quantity": 1}]}, staff(store))
    return_id = ret.id
    _ayse_signed_in(page, "IST-01")
    page.goto(f"/store/IST-01/receiving/returns/{return_id}")
    scan(page, "8690000000024")
    expect(page.locator("#return-progress")).to_contain_text("Counted 1 of 1")
    page.click("[data-command=review]")
    page.wait_for_url(f"**/receiving/returns/{return_id}/finish")
    page.click("button[data-command=finish]")
    expect(page.locator("#return")).to_contain_text("received")
    page.wait_for_url(f"**/receiving/returns/{return_id}")
    page.go_back()
    page.wait_for_load_state("load")
    expect(page.locator("#return")).to_be_visible()
    expect(page.locator("button[data-command=finish]")).to_have_count(0)  # no form to send a second time
    assert page.url.endswith(f"/receiving/returns/{return_id}")
    page.goto(f"/store/IST-01/receiving/returns/{return_id}/finish")  # a bookmark, another tab
    page.wait_for_url(f"**/receiving/returns/{return_id}")
    expect(page.locator("button[data-command=finish]")).to_have_count(0)


def test_a_cancelled_click_and_collect_package_says_to_put_its_items_back(app, page):
    store, _package = tablet_store()
    package = make_package("cancelled", location=store, delivery_type="click_and_collect", items=[("CAP-BLK", 1)])
    db.session.commit()
    _ayse_signed_in(page, "IST-KDK")
    page.goto(f"/store/IST-KDK/packages/{package.id}")
    shipment = page.locator("#shipment")
    expect(shipment).to_contain_text("Cancelled: the customer will not collect this package, so do not hand it over.")
    expect(shipment).to_contain_text("back on its shelf")
    expect(shipment).not_to_contain_text("Pack it, then tap Ready for pickup")


def take_the_cap_back_and_go_back(page, number: str) -> None:
    """At IST-01's counter: find order `number`, take its one unit back, then Back."""
    page.goto("/store/IST-01/returns/new")
    page.fill("#order-search", number)
    page.keyboard.press("Enter")
    page.click(f"a.row:has-text('{number}')")
    page.fill("input[name^=quantity-]", "1")
    page.click("button[data-command=create-return]")
    page.wait_for_url("**/receiving/returns/*")
    page.go_back()
    page.wait_for_load_state("load")


def test_back_after_taking_a_counter_return_shows_it_and_no_form_to_send_again(app, page):
    _store, delivered = _store_with_a_delivered_cap()
    number = delivered.order.number
    _ayse_signed_in(page, "IST-01")
    take_the_cap_back_and_go_back(page, number)
    expect(page.locator("#nothing-returnable")).to_contain_text("nothing more can be returned")
    expect(page.locator("[id^=started-return-] a")).to_contain_text("Open return")
    expect(page.locator("button[data-command=create-return]")).to_have_count(0)
    page.click("[id^=started-return-] a")
    page.wait_for_url("**/receiving/returns/*")
