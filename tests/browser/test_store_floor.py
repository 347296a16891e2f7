"""What a day on the shop floor broke, in real Chromium: the queue must survive its own polling,
scanner bursts must each count once, packing unscanned must be the harder path, and Back must
never show an old queue."""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import PackageItem, TransitionLog
from app.services.packages import run_package_command
from tests.browser.test_store_flow import TABLET, sign_in, state_of, tablet_store
from tests.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.services.builders import make_package, staff

pytestmark = pytest.mark.browser

SHIRT, CAP = "8690000000017", "8690000000024"


def open_queue(page) -> None:
    sign_in(page, "ayse")
    page.wait_for_url("**/store/IST-KDK/")
    page.click("nav >> text=Packages")
    page.wait_for_url("**/store/IST-KDK/packages")


# --- 1. the queue and its "new work" badge -----------------------------------------------------

def test_the_queue_keeps_its_rows_while_it_polls_and_the_badge_appears_beside_them(app, page, monkeypatch):
    monkeypatch.setitem(app.config, "STORE_POLL_SECONDS", 1)
    store, _ = tablet_store()
    open_queue(page)
    rows = page.locator("#queue .row")
    expect(rows).to_have_count(4)

    for _ in range(2):  # two polls with nothing new
        with page.expect_response(lambda r: "/packages/new" in r.url, timeout=20_000):
            pass
    page.wait_for_timeout(200)  # let the swap settle
    expect(rows).to_have_count(4)
    expect(page.locator("#queue #new-badge")).to_be_attached()

    make_package("waiting", location=store, items=[("SCARF-RED", 1)])
    badge = page.locator("#queue #new-badge a.new-badge")
    expect(badge).to_have_text("1 new", timeout=10_000)
    expect(rows).to_have_count(4)  # the list is still there, the badge beside it
    badge.click()
    expect(rows).to_have_count(5)
    expect(page.locator("#queue #new-badge a.new-badge")).to_have_count(0)


# --- 2. scanner bursts --------------------------------------------------------------------------

@pytest.mark.parametrize("burst", [
    [SHIRT, SHIRT, CAP],
    [SHIRT] * 6 + [CAP] * 4,
])
def test_scans_typed_in_a_burst_each_count_once_in_order_with_network_latency(app, page, burst):
    store, _ = tablet_store()
    shirts, caps = burst.count(SHIRT), burst.count(CAP)
    package = make_package("preparing", location=store, items=[("TSHIRT-M", shirts), ("CAP-BLK", caps)])
    package_id = package.id
    sent = []  # the barcode of every scan request, in the order the browser sent them
    page.on("request", lambda r: sent.append(r.post_data) if r.url.endswith("/scan") else None)
    sign_in(page, "ayse")
    page.wait_for_url("**/store/IST-KDK/")
    page.goto(f"/store/IST-KDK/packages/{package_id}")
    expect(page.locator("[data-scan-field]")).to_be_focused()
    network = page.context.new_cdp_session(page)
    network.send("Network.enable")
    network.send("Network.emulateNetworkConditions", {
        "offline": False, "latency": 400, "downloadThroughput": -1, "uploadThroughput": -1})

    for barcode in burst:  # as a keyboard-wedge scanner: no pause between keys or scans
        page.keyboard.type(barcode, delay=0)
        page.keyboard.press("Enter")

    total = len(burst)
    expect(page.locator("#pick-progress")).to_contain_text(f"Picked {total} of {total}", timeout=30_000)
    expect(page.locator("#scan-feedback")).not_to_contain_text("Scan a barcode")
    expect(page.locator("[data-scan-field]")).to_have_value("")
    db.session.rollback()
    picked = db.session.scalars(select(PackageItem.picked_quantity).where(PackageItem.package_id == package_id))
    assert sum(picked) == total
    assert [parse_qs(body or "").get("barcode") for body in sent] == [[b] for b in burst]  # in order, once each


# --- 3. packing without scanning ---------------------------------------------------------------

def _unscanned_logs(package_id: int) -> list[dict]:
    db.session.rollback()
    return [log.params for log in db.session.scalars(select(TransitionLog).where(
        TransitionLog.entity_type == "package", TransitionLog.entity_id == package_id,
        TransitionLog.command.like("complete_packing%")))]


def test_scanning_is_the_next_step_and_packing_unscanned_asks_first(app, page):
    store, package = tablet_store()  # 2 T-shirts and a cap, REQUIRE_SCAN_TO_PACK off
    package_id = package.id
    sign_in(page, "ayse")
    page.wait_for_url("**/store/IST-KDK/")
    page.goto(f"/store/IST-KDK/packages/{package_id}")
    solid = page.locator("#package .btn-primary")
    expect(solid).to_have_count(1)
    expect(solid).to_have_attribute("data-command", "prepare")
    page.click("button[data-command=prepare]")

    expect(page.locator("#pick-progress")).to_contain_text("Picked 0 of 3")
    expect(page.locator("[data-scan-field]")).to_be_focused()
    expect(solid).to_have_count(1)  # the scan field's button: scanning is the next step
    expect(page.locator("#scan-form .btn-primary")).to_have_count(1)
    pack = page.locator("#actions button[data-command=complete_packing]")
    expect(pack).to_be_visible()
    expect(pack).not_to_have_class("btn-primary")

    pack.click()
    question = page.locator("#confirm-unscanned")
    expect(question).to_contain_text("Only 0 of 3 items were scanned. Pack anyway?")
    assert state_of(package_id) == "preparing"
    page.click("#confirm-unscanned a:has-text('Keep scanning')")
    expect(question).to_have_count(0)
    expect(page.locator("[data-scan-field]")).to_be_focused()

    page.keyboard.type(SHIRT, delay=0)
    page.keyboard.press("Enter")
    expect(page.locator("#pick-progress")).to_contain_text("Picked 1 of 3")
    page.click("#actions button[data-command=complete_packing]")
    expect(question).to_contain_text("Only 1 of 3 items were scanned. Pack anyway?")
    page.click("#confirm-unscanned button:has-text('Pack anyway')")
    expect(page.locator("#package .package-head .chip")).to_have_text("Waiting cargo label")
    assert state_of(package_id) == "waiting_cargo_label"
    assert _unscanned_logs(package_id) == [{"boxes": 1, "unscanned": 2}]


def test_once_everything_is_scanned_packing_is_the_next_step_and_asks_nothing(app, page):
    store, _ = tablet_store()
    package = make_package("preparing", location=store, items=[("CAP-BLK", 1)])
    package_id = package.id
    sign_in(page, "ayse")
    page.wait_for_url("**/store/IST-KDK/")
    page.goto(f"/store/IST-KDK/packages/{package_id}")
    expect(page.locator("[data-scan-field]")).to_be_focused()
    page.keyboard.type(CAP, delay=0)
    page.keyboard.press("Enter")
    expect(page.locator("#pick-progress")).to_contain_text("Picked 1 of 1")
    pack = page.locator("#actions button[data-command=complete_packing]")
    expect(pack).to_have_class("btn btn-big btn-primary")
    pack.click()
    expect(page.locator("#package .package-head .chip")).to_have_text("Waiting cargo label")
    assert _unscanned_logs(package_id) == [{"boxes": 1}]


def test_packing_unscanned_asks_first_without_javascript_too(app, browser, live_server):
    store, package = tablet_store()
    package_id = package.id
    context = browser.new_context(java_script_enabled=False, viewport=TABLET, base_url=live_server)
    page = context.new_page()
    try:
        sign_in(page, "ayse")
        page.wait_for_url("**/store/IST-KDK/")
        page.goto(f"/store/IST-KDK/packages/{package_id}")
        page.click("button[data-command=complete_packing_without_shipment]")
        expect(page.locator("#confirm-unscanned")).to_contain_text("Only 0 of 3 items were scanned. Pack anyway?")
        assert state_of(package_id) == "waiting"
        page.click("#confirm-unscanned button:has-text('Pack anyway')")
        expect(page.locator("#package .package-head .chip")).to_have_text("Packed")
        assert _unscanned_logs(package_id) == [{"unscanned": 3}]
    finally:
        context.close()


# --- 4. Back never shows an old queue ----------------------------------------------------------

@pytest.fixture
def tablet(browser, live_server):
    """A tablet page in a Chromium with the back/forward cache on, as on the floor (Playwright
    turns it off by default, which hides what Back really shows)."""
    real = browser.browser_type.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS,
                                       ignore_default_args=["--disable-back-forward-cache"])
    page = real.new_context(viewport=TABLET, base_url=live_server).new_page()
    yield page
    real.close()


def test_back_from_a_started_package_shows_the_queue_as_it_is_now(app, tablet):
    _, package = tablet_store()
    page = tablet
    open_queue(page)
    expect(page.locator(f"#package-row-{package.id} .chip")).to_have_text("Waiting")
    page.click(f"#package-row-{package.id} a")
    page.wait_for_url(f"**/packages/{package.id}")
    page.click("button[data-command=prepare]")
    expect(page.locator("#package .package-head .chip")).to_have_text("Preparing")

    page.go_back(wait_until="commit")  # a page restored from memory fires no load event
    page.wait_for_url("**/store/IST-KDK/packages", wait_until="commit")
    expect(page.locator("a.tab:has-text('Preparing') .tab-count")).to_have_text("2")
    expect(page.locator(f"#package-row-{package.id}")).to_have_count(0)  # not "Waiting" any more
    page.click("a.tab:has-text('Preparing')")
    expect(page.locator(f"#package-row-{package.id} .chip")).to_have_text("Preparing")


def test_back_between_queue_tabs_fetches_the_queue_again(app, page):
    store, package = tablet_store()
    open_queue(page)
    expect(page.locator(f"#package-row-{package.id}")).to_have_count(1)
    page.click("a.tab:has-text('Preparing')")
    page.wait_for_url("**/packages?tab=preparing")
    run_package_command(package.id, "prepare", {}, staff(store, name="colleague"))  # a colleague starts it

    page.go_back()
    page.wait_for_url("**/store/IST-KDK/packages")
    expect(page.locator(f"#package-row-{package.id}")).to_have_count(0)
    expect(page.locator("a.tab:has-text('Preparing') .tab-count")).to_have_text("2")
