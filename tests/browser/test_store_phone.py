"""The store app on a phone (390x844) in real Chromium: no page ever scrolls sideways, every queue
tab is in sight and one tap away, and the header is one line."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from app.extensions import db
from tests import factories
from tests.browser.test_store_flow import shoot, sign_in, tablet_store
from tests.services.builders import make_package, make_transfer

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
# One line of header: the 56 px bar plus its padding; a second line would add at least 48 px.
ONE_LINE = 70


@pytest.fixture
def phone(browser, live_server):
    context = browser.new_context(viewport=PHONE, base_url=live_server, is_mobile=True, has_touch=True)
    page = context.new_page()
    yield page
    context.close()


def busy_store():
    """A store with work in every queue tab and transfers both ways."""
    store, package = tablet_store()
    elsewhere = factories.location("IST-BSK", name="Beşiktaş Store")
    db.session.commit()
    for state in ("packed", "blocked", "out_of_stock", "shipped"):
        make_package(state, location=store, items=[("CAP-BLK", 1)])
    make_package("packed", location=store, items=[("SOCKS-3", 1)], delivery_type="click_and_collect")
    make_package("ready_for_pickup", location=store, items=[("SOCKS-3", 1)], delivery_type="click_and_collect")
    incoming = make_transfer(items=[("TSHIRT-M", 2), ("CAP-BLK", 1)], source=elsewhere, destination=store,
                             state="in_transit")
    outgoing = make_transfer(items=[("SCARF-RED", 1)], source=store, destination=elsewhere)
    preparing = make_package("preparing", location=store, items=[("TSHIRT-M", 2), ("SCARF-RED", 1)])
    return store, package, preparing, incoming, outgoing


def assert_tappable(locator, what: str) -> None:
    """In the viewport and not clipped or covered: a tap at its centre lands on it."""
    box = locator.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], f"{what}: off screen {box}"
    hit = locator.evaluate("""el => { const r = el.getBoundingClientRect();
        const at = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
        return !!at && el.contains(at); }""")
    assert hit, f"{what}: hidden under something else or clipped"


def assert_fits_the_phone(page, what: str) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{what}: the page scrolls sideways ({width} px)"
    header = page.locator("header.topbar").bounding_box()
    assert header["height"] <= ONE_LINE, f"{what}: the header takes {header['height']} px"


def test_every_store_page_fits_a_phone_without_sideways_scrolling_and_the_header_is_one_line(app, phone):
    store, package, preparing, incoming, outgoing = busy_store()
    sign_in(phone, "ayse")
    phone.wait_for_url("**/store/IST-KDK/")
    assert_fits_the_phone(phone, "home")
    pages = {
        "queue": "/store/IST-KDK/packages",
        "queue, searching": "/store/IST-KDK/packages?q=WEB",
        "package": f"/store/IST-KDK/packages/{package.id}",
        "package, scanning": f"/store/IST-KDK/packages/{preparing.id}",
        "missing items": f"/store/IST-KDK/packages/{preparing.id}/missing",
        "transfers": "/store/IST-KDK/transfers",
        "transfers, outgoing": "/store/IST-KDK/transfers?direction=dispatch",
        "incoming transfer": f"/store/IST-KDK/transfers/{incoming.id}",
        "outgoing transfer": f"/store/IST-KDK/transfers/{outgoing.id}",
        "my settings": "/store/IST-KDK/settings",
    }
    for what, path in pages.items():
        phone.goto(path)
        expect(phone.locator("main h1").first).to_be_visible()
        assert_fits_the_phone(phone, what)
    phone.goto(f"/store/IST-KDK/packages/{preparing.id}")
    shoot(phone, "store-phone-package")
    # The store's links and My settings are in the header, on screen and tappable.
    for name in ("Home", "Packages", "Transfers"):
        assert_tappable(phone.locator("header nav a", has_text=name), name)
    assert_tappable(phone.get_by_role("link", name="My settings"), "My settings")
    phone.get_by_role("link", name="My settings").tap()
    phone.wait_for_url("**/store/IST-KDK/settings")
    phone.get_by_role("button", name="Sign out").tap()  # no room for it in the header: it is here
    phone.wait_for_url("**/login*")


def test_every_queue_tab_is_in_sight_and_one_tap_away_on_a_phone(app, phone):
    busy_store()
    sign_in(phone, "ayse")
    phone.wait_for_url("**/store/IST-KDK/")
    phone.goto("/store/IST-KDK/packages")
    tabs = phone.locator("#queue nav.tabs a.tab")
    expect(tabs).to_have_count(8)
    labels = [t.strip() for t in tabs.evaluate_all("els => els.map(e => e.firstChild.textContent)")]
    for i in range(8):
        assert_tappable(tabs.nth(i), labels[i])  # no scrolling needed to see it
        assert tabs.nth(i).bounding_box()["height"] >= 44  # a finger's width
    shoot(phone, "store-phone-queue")
    for i, label in enumerate(labels):
        with phone.expect_response(lambda r: "/packages?tab=" in r.url):
            phone.locator("#queue nav.tabs a.tab").nth(i).tap()
        expect(phone.locator("#queue nav.tabs a.tab[aria-current=page]")).to_contain_text(label)
        assert_fits_the_phone(phone, f"queue tab {label}")


def test_the_page_s_own_link_is_in_sight_in_the_header_on_a_phone_in_turkish(app, phone):
    """Turkish links do not all fit a phone's header: they scroll in their strip, and the page's
    own link is brought into view, never cut under the settings gear or off the screen."""
    busy_store()
    db.session.execute(db.text("UPDATE users SET language = 'tr' WHERE username = 'ayse'"))
    db.session.commit()
    sign_in(phone, "ayse")
    phone.wait_for_url("**/store/IST-KDK/")
    nav = phone.locator("header.topbar nav")
    assert nav.evaluate("n => n.scrollWidth > n.clientWidth")  # they do not all fit: the case at hand
    for path in ("receiving", "batches", "kpis", "transfers"):
        phone.goto(f"/store/IST-KDK/{path}")
        current = phone.locator("header.topbar nav a[aria-current=page]")
        expect(current).to_have_count(1)
        box, link = nav.bounding_box(), current.bounding_box()
        assert link["x"] >= box["x"] and link["x"] + link["width"] <= box["x"] + box["width"], (path, box, link)
        assert_tappable(current, path)
