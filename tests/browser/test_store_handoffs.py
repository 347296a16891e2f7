"""Where one step hands over to the next, in real Chromium at tablet and phone sizes, with and
without JavaScript: transfers scanned out and in that lead to the package to prepare, the label
printed before Ship (and a no-JS page that really refreshes itself), refusing that asks on the
page, and click & collect handed over with the customer's name and phone in view."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import Package, Transfer, TransferItem
from tests import factories
from tests.browser.test_store_flow import TABLET, run_carrier_jobs, sign_in, state_of, tablet_store
from tests.browser.test_store_phone import PHONE
from tests.services.builders import make_package, make_transfer

pytestmark = pytest.mark.browser

SHIRT, CAP = "8690000000017", "8690000000024"
SIZES = {"tablet": TABLET, "phone": PHONE}


@pytest.fixture
def open_page(browser, live_server):
    """open_page(size, js=True): a fresh browser page of that size; closed after the test."""
    contexts = []

    def _open(size: str, js: bool = True):
        context = browser.new_context(viewport=SIZES[size], base_url=live_server, java_script_enabled=js,
                                      is_mobile=size == "phone", has_touch=size == "phone")
        contexts.append(context)
        return context.new_page()

    yield _open
    for context in contexts:
        context.close()


def two_stores():
    sender = factories.location("IST-BSK", name="Beşiktaş Store")
    receiver = factories.location("IST-KDK", name="Kadıköy Store")
    factories.user("sam", "staff", [sender])
    factories.user("ayse", "staff", [receiver])
    factories.product("TSHIRT-M", SHIRT, name="Cotton T-shirt, navy, M")
    factories.product("CAP-BLK", CAP, name="Baseball cap, black")
    db.session.commit()
    return sender, receiver


def scan(page, barcode: str, js: bool) -> None:
    if js:  # as a keyboard-wedge scanner: no pause between keys
        page.locator("[data-scan-field]").focus()
        page.keyboard.type(barcode, delay=0)
        page.keyboard.press("Enter")
    else:
        page.fill("[data-scan-field]", barcode)
        page.click("#scan-form button[type=submit]")


def slow_network(page, latency_ms: int = 400) -> None:
    network = page.context.new_cdp_session(page)
    network.send("Network.enable")
    network.send("Network.emulateNetworkConditions", {
        "offline": False, "latency": latency_ms, "downloadThroughput": -1, "uploadThroughput": -1})


def transfer_row(transfer_id: int) -> tuple[str, list[tuple[int, int]]]:
    db.session.rollback()
    state = db.session.scalar(select(Transfer.state).where(Transfer.id == transfer_id))
    items = db.session.execute(select(TransferItem.dispatch_scanned, TransferItem.receive_scanned)
                               .where(TransferItem.transfer_id == transfer_id).order_by(TransferItem.id)).all()
    return state, [tuple(row) for row in items]


@pytest.mark.parametrize("size", ["tablet", "phone"])
@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_a_transfer_is_scanned_out_and_in_and_leads_the_receiver_to_the_package_to_prepare(app, open_page, size, js):
    sender, receiver = two_stores()
    transfer = make_transfer(items=[("TSHIRT-M", 2), ("CAP-BLK", 1)], source=sender, destination=receiver)
    transfer_id, package_id, package_number = transfer.id, transfer.package_id, transfer.package.number

    page = open_page(size, js)
    sign_in(page, "sam")
    page.wait_for_url("**/store/IST-BSK/")
    page.click("header nav >> text=Transfers")
    expect(page.locator("#transfers a.tab[aria-current=page]")).to_contain_text("Dispatch")  # where its work is
    page.click(f"text={transfer.number}")
    page.wait_for_url(f"**/transfers/{transfer_id}")
    expect(page.locator("#transfer-progress")).to_contain_text("Counted 0 of 3")
    expect(page.locator("button[data-command=dispatch]")).to_be_visible()  # whole-transfer steps stay
    expect(page.locator("#actions .btn-primary")).to_have_count(0)  # scanning comes first
    if js:
        expect(page.locator("[data-scan-field]")).to_be_focused()
        slow_network(page)  # a burst on a slow connection: the scans queue and each counts once
    for barcode in (SHIRT, SHIRT, CAP):
        scan(page, barcode, js)
    expect(page.locator("#transfer-progress")).to_contain_text("Counted 3 of 3")
    scan(page, CAP, js)  # one too many
    expect(page.locator("#scan-feedback" if js else ".flash-error")).to_contain_text("already counted")
    expect(page.locator("button[data-command=ready_for_dispatch]")).to_have_class("btn btn-big btn-primary")
    page.click("button[data-command=dispatch]")
    expect(page.locator("#transfer .package-head .chip")).to_have_text("In transit")
    expect(page.locator("#transfer")).to_contain_text("On its way to Kadıköy Store")
    page.click("header nav >> text=Transfers")
    page.click("#transfers a.tab:has-text('In transit')")
    expect(page.locator("#transfers .row")).to_contain_text(transfer.number)  # the sender still sees it
    assert transfer_row(transfer_id) == ("in_transit", [(2, 0), (1, 0)])

    page = open_page(size, js)
    sign_in(page, "ayse")
    page.wait_for_url("**/store/IST-KDK/")
    page.click("header nav >> text=Transfers")
    expect(page.locator("#transfers a.tab[aria-current=page]")).to_contain_text("Expected")
    page.click(f"text={transfer.number}")
    expect(page.locator("#transfer")).to_contain_text("Scan each item as you unpack it")
    scan(page, CAP, js)
    expect(page.locator("#transfer-progress")).to_contain_text("Counted 1 of 3")
    expect(page.locator("button[data-command=receive]")).not_to_have_class("btn btn-big btn-primary")
    page.click("button[data-command=receive]")  # the rest is in the sealed box: take it all in
    expect(page.locator("#transfer .package-head .chip")).to_have_text("Received")
    expect(page.locator("#transfer")).not_to_contain_text("Nothing to do here right now")
    expect(page.locator("#next-step")).to_contain_text("It is now in To prepare.")
    page.click(f"#next-step a:has-text('Prepare package {package_number}')")
    page.wait_for_url(f"**/store/IST-KDK/packages/{package_id}")
    expect(page.locator("button[data-command=prepare]")).to_have_class("btn btn-big btn-primary")
    assert state_of(package_id) == "waiting"
    assert transfer_row(transfer_id) == ("received", [(2, 0), (1, 1)])


@pytest.mark.parametrize("size", ["tablet", "phone"])
def test_without_javascript_the_label_page_refreshes_itself_and_print_label_comes_before_ship(app, open_page, size):
    store, _ = tablet_store()
    package = make_package("preparing", location=store, items=[("CAP-BLK", 1)])
    package_id = package.id
    page = open_page(size, js=False)
    sign_in(page, "ayse")
    page.wait_for_url("**/store/IST-KDK/")
    page.goto(f"/store/IST-KDK/packages/{package_id}")
    scan(page, CAP, js=False)
    page.click("button[data-command=complete_packing]")
    expect(page.locator("#shipment")).to_contain_text("this page updates by itself")
    run_carrier_jobs()  # the carrier answers while nobody touches the page
    label = page.locator("#actions a[data-print-label]")
    expect(label).to_be_visible(timeout=15_000)
    expect(label).to_have_class("btn btn-big btn-primary")
    ship = page.locator("#actions button[data-command=ship]")
    expect(ship).to_be_visible()
    expect(ship).not_to_have_class("btn btn-big btn-primary")
    assert page.locator("#actions a, #actions button").first.get_attribute("data-print-label") is not None
    assert page.locator("meta[http-equiv=refresh]").count() == 0  # done waiting: no more reloads
    ship.click()
    expect(page.locator("#package .package-head .chip")).to_have_text("Shipped")


def test_with_javascript_ship_becomes_the_next_step_once_the_label_was_opened(app, open_page):
    store, _ = tablet_store()
    package = make_package("packed", location=store, items=[("CAP-BLK", 1)])
    package.shipment.label_pdf = b"%PDF-1.4 label"
    db.session.commit()
    page = open_page("tablet")
    sign_in(page, "ayse")
    page.wait_for_url("**/store/IST-KDK/")
    page.goto(f"/store/IST-KDK/packages/{package.id}")
    label = page.locator("#actions a[data-print-label]")
    expect(label).to_have_class("btn btn-big btn-primary")
    with page.context.expect_page() as printed:
        label.click()
    printed.value.close()
    expect(page.locator("#actions button[data-command=ship]")).to_have_class("btn btn-big btn-primary")
    expect(label).not_to_have_class("btn btn-big btn-primary")


@pytest.mark.parametrize("size", ["tablet", "phone"])
def test_refusing_without_javascript_asks_on_the_page_before_anything_happens(app, open_page, size):
    store, package = tablet_store()
    factories.denial_reason("no_stock", title="Not in the store")
    db.session.commit()
    package_id = package.id
    page = open_page(size, js=False)
    sign_in(page, "ayse")
    page.wait_for_url("**/store/IST-KDK/")
    page.goto(f"/store/IST-KDK/packages/{package_id}")
    page.select_option("#refuse-reason", "no_stock")
    page.click("button[data-command=refuse]")
    step = page.locator("#confirm-step")
    expect(step).to_contain_text("Refuse this package?")
    expect(step).to_contain_text("Not in the store")
    assert state_of(package_id) == "waiting"
    step.locator("a:has-text('Keep the package')").click()
    expect(page.locator("#confirm-step")).to_have_count(0)
    assert state_of(package_id) == "waiting"

    page.select_option("#refuse-reason", "no_stock")
    page.click("button[data-command=refuse]")
    page.click("#confirm-step button:has-text('Refuse')")
    expect(page.locator("#package .package-head .chip")).to_have_text("Refused")
    db.session.rollback()
    assert db.session.get(Package, package_id).refuse_reason == "no_stock"


@pytest.mark.parametrize("size", ["tablet", "phone"])
@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_click_and_collect_speaks_of_pickup_and_the_handover_shows_who_collects(app, open_page, size, js):
    store, _ = tablet_store()
    package = make_package("packed", location=store, items=[("CAP-BLK", 1)], delivery_type="click_and_collect")
    package.order.customer_name, package.order.customer_phone = "Elif Şahin", "+90 555 010 20 30"
    db.session.commit()
    package_id = package.id
    page = open_page(size, js)
    sign_in(page, "ayse")
    page.wait_for_url("**/store/IST-KDK/")
    page.goto(f"/store/IST-KDK/packages/{package_id}")
    expect(page.locator("#shipment h2")).to_have_text("Pickup")
    expect(page.locator("#package")).not_to_contain_text("shipment")
    page.click("button[data-command=ready_for_pickup]")
    expect(page.locator("#package .package-head .chip")).to_have_text("Ready for pickup")
    page.click("button[data-command=deliver_to_customer]")
    step = page.locator("#confirm-step")
    expect(step).to_contain_text("Hand this package over to the customer?")
    expect(step).to_contain_text("Elif Şahin")
    expect(step).to_contain_text("+90 555 010 20 30")
    assert state_of(package_id) == "ready_for_pickup"
    step.locator("button:has-text('Hand over to customer')").click()
    expect(page.locator("#package .package-head .chip")).to_have_text("Delivered")
    page.goto("/store/IST-KDK/packages")
    expect(page.locator("#queue a.tab", has_text="Ready for pickup")).to_be_visible()
