"""Store staff on a 768x1024 tablet in real Chromium: the whole packing day, with and without JavaScript."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from flask import current_app
from playwright.sync_api import expect
from rq import Queue, SimpleWorker
from sqlalchemy import select

from app.extensions import db
from app.models import Package, TransitionLog
from app.queues import redis_connection
from tests import factories
from tests.factories import PASSWORD
from tests.services.builders import make_package

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
TABLET = {"width": 768, "height": 1024}


def screenshots_dir() -> Path:
    """Where `shoot` writes: the test app's temporary instance directory, or the directory that
    PACKLINE_SCREENSHOTS_DIR names (`docs/screenshots` refreshes the screenshots the docs show)."""
    asked = os.environ.get("PACKLINE_SCREENSHOTS_DIR")
    return ROOT / asked if asked else Path(current_app.instance_path) / "screenshots"


def shoot(page, name: str) -> Path:
    directory = screenshots_dir()
    directory.mkdir(parents=True, exist_ok=True)
    # caret="initial": hiding the caret injects a <style>, which our CSP (rightly) blocks.
    page.screenshot(path=str(directory / f"{name}.png"), caret="initial")
    return directory / f"{name}.png"


def sign_in(page, username: str) -> None:
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")


def run_carrier_jobs() -> None:
    """Work the carriers queue here; jobs share the test's session, so end its read snapshot first."""
    db.session.rollback()
    conn = redis_connection()
    SimpleWorker([Queue("carriers", connection=conn)], connection=conn).work(burst=True)


def state_of(package_id: int) -> str:
    db.session.rollback()  # see what the server committed
    return db.session.scalar(select(Package.state).where(Package.id == package_id))


def tablet_store():
    """A store with a realistic morning queue; returns (store, the package we will pack)."""
    store = factories.location("IST-KDK", name="Kadıköy Store", address="Moda Cd. 10", city="İstanbul",
                               target_packaging_minutes=120)
    factories.user("ayse", "staff", [store])
    factories.product("TSHIRT-M", "8690000000017", name="Cotton T-shirt, navy, M")
    factories.product("CAP-BLK", "8690000000024", name="Baseball cap, black")
    factories.product("SCARF-RED", "8690000000031", name="Wool scarf, red")
    factories.product("SOCKS-3", "8690000000048", name="Socks, 3-pack")
    db.session.commit()
    package = make_package("waiting", location=store, items=[("TSHIRT-M", 2), ("CAP-BLK", 1)])
    for name, sku in (("Mehmet Demir", "SCARF-RED"), ("Elif Şahin", "SOCKS-3"), ("Can Aydın", "CAP-BLK")):
        other = make_package("waiting", location=store, items=[(sku, 1)])
        other.order.customer_name = name
    make_package("preparing", location=store, items=[("SOCKS-3", 2)])
    db.session.commit()
    return store, package


def scan(page, barcode: str) -> None:
    field = page.locator("[data-scan-field]")
    field.fill(barcode)
    field.press("Enter")


def test_staff_prepares_scans_packs_prints_the_label_and_ships(app, page):
    store, package = tablet_store()
    items = {i.product.sku: i.id for i in package.items}
    package_id = package.id  # the worker below ends this session
    problems = []  # CSP violations and script errors show up here
    page.on("console", lambda msg: problems.append(f"{msg.text} {msg.location['url']}") if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    sign_in(page, "ayse")
    page.wait_for_url("**/store/IST-KDK/")
    expect(page.locator("h1")).to_contain_text("Kadıköy Store")
    shoot(page, "store-home")

    page.click("a.count-tile:has-text('To prepare')")
    page.wait_for_url("**/packages?tab=waiting")
    expect(page.locator("#queue .row")).to_have_count(4)
    shoot(page, "store-queue")

    page.click(f"a.row:has-text('{package.number}')")
    page.wait_for_url(f"**/packages/{package.id}")
    page.click("button[data-command=prepare]")
    expect(page.locator("[data-scan-field]")).to_be_focused()

    scan(page, "1234567890")  # not in this package
    expect(page.locator("#scan-feedback[data-scan-error][role=alert]")).to_contain_text("1234567890")
    expect(page.locator("#pick-progress")).to_contain_text("Picked 0 of 3")

    scan(page, "8690000000017")
    expect(page.locator(f"#item-{items['TSHIRT-M']} .picked")).to_have_text("1")
    expect(page.locator("#pick-progress")).to_contain_text("Picked 1 of 3")
    expect(page.locator("[data-scan-field]")).to_be_focused()
    shoot(page, "store-package-scanning")
    # A scanner does not wait for the answer: two scans in a row both count, in order.
    scan(page, "8690000000017")
    scan(page, "8690000000024")
    expect(page.locator(f"#item-{items['TSHIRT-M']} .picked")).to_have_text("2")
    expect(page.locator("#pick-progress")).to_contain_text("Picked 3 of 3")
    expect(page.locator(f"#item-{items['CAP-BLK']}")).to_have_class(re.compile(r"\bitem-done\b"))

    page.click("button[data-command=complete_packing]")
    expect(page.locator("#package .notice")).to_contain_text("Packed. The carrier is asked for the label")
    run_carrier_jobs()
    label = page.locator("a:has-text('Print label')")
    expect(label).to_be_visible(timeout=15_000)  # the page polls while the carrier works
    response = page.request.get(label.get_attribute("href"))
    assert response.status == 200 and response.body().startswith(b"%PDF")
    slip = page.request.get(page.locator("a:has-text('Print packing slip')").get_attribute("href"))
    assert slip.status == 200 and slip.body().startswith(b"%PDF")

    page.click("button[data-command=ship]")
    expect(page.locator("#package .package-head .chip")).to_have_text("Shipped")
    assert state_of(package_id) == "shipped"
    # The wrong scan answers 422 on purpose (and there is no favicon); anything else is a bug.
    assert [p for p in problems if "422" not in p and "favicon.ico" not in p] == [], problems


def test_refusing_asks_for_a_reason_and_a_confirmation(app, page):
    store, package = tablet_store()
    factories.denial_reason("damaged", title="Item damaged")
    factories.denial_reason("no_stock", title="Not in the store")
    db.session.commit()
    package_id = package.id
    asked = []
    answers = iter([False, True])  # first "Cancel" in the dialog, then "OK"

    def answer(dialog) -> None:
        asked.append(dialog.message)
        dialog.accept() if next(answers) else dialog.dismiss()

    page.on("dialog", answer)
    sent = []  # every request that reached the refuse command
    page.on("request", lambda request: sent.append(request.method) if "/commands/refuse" in request.url else None)
    sign_in(page, "ayse")
    page.goto(f"/store/IST-KDK/packages/{package_id}")
    page.select_option("#refuse-reason", "no_stock")
    # A click does not return before its dialog is answered; dismissed, the button stays.
    page.click("button[data-command=refuse]")
    assert asked == ["Refuse? This cannot be undone."]
    expect(page.locator("button[data-command=refuse]")).to_be_enabled()

    page.click("button[data-command=refuse]")
    expect(page.locator("#package .package-head .chip")).to_have_text("Refused")
    expect(page.locator("button[data-command]")).to_have_count(0)
    assert len(asked) == 2
    assert sent == ["POST"], "the dismissed dialog must not have sent the command"
    assert state_of(package_id) == "refused"
    assert db.session.get(Package, package_id).refuse_reason == "no_stock"
    refusals = db.session.scalars(select(TransitionLog).where(
        TransitionLog.entity_type == "package", TransitionLog.entity_id == package_id,
        TransitionLog.command == "refuse")).all()
    assert [(log.from_state, log.to_state) for log in refusals] == [("waiting", "refused")]


def test_the_core_flow_works_without_javascript(app, browser, live_server):
    store, package = tablet_store()
    factories.cargo_company("yurtici", name="Yurtiçi Kargo")
    db.session.commit()
    context = browser.new_context(java_script_enabled=False, viewport=TABLET, base_url=live_server)
    page = context.new_page()
    try:
        sign_in(page, "ayse")
        page.wait_for_url("**/store/IST-KDK/")
        page.click("nav >> text=Packages")
        page.fill("#queue-search", package.order.number)
        page.click("button:has-text('Search')")
        page.click(f"a.row:has-text('{package.number}')")
        page.click("button[data-command=prepare]")
        expect(page.locator(".flash")).to_contain_text("Started. Scan each item as you take it.")
        scan(page, "0000")
        expect(page.locator(".flash-error")).to_be_visible()
        for barcode in ("8690000000017", "8690000000017", "8690000000024"):
            scan(page, barcode)
        expect(page.locator("#pick-progress")).to_contain_text("Picked 3 of 3")
        page.click("button[data-command=complete_packing_without_shipment]")
        expect(page.locator("#package .package-head .chip")).to_have_text("Packed")
        page.click("summary:has-text('More actions')")
        page.select_option("#ship_without_integration-cargo_company", "yurtici")
        page.fill("#ship_without_integration-tracking_number", "YK123456")
        page.click("button[data-command=ship_without_integration]")
        expect(page.locator("#package .package-head .chip")).to_have_text("Shipped")
        assert state_of(package.id) == "shipped"
    finally:
        context.close()


def test_staff_get_404_for_another_stores_urls(app, page):
    store, _ = tablet_store()
    elsewhere = factories.location("ANK-01", name="Ankara Store")
    db.session.commit()
    foreign = make_package("waiting", location=elsewhere)
    sign_in(page, "ayse")
    page.wait_for_url("**/store/IST-KDK/")
    for url in ("/store/ANK-01/", "/store/ANK-01/packages", f"/store/ANK-01/packages/{foreign.id}",
                f"/store/IST-KDK/packages/{foreign.id}", f"/store/IST-KDK/packages/{foreign.id}/label.pdf"):
        response = page.goto(url)
        assert response.status == 404, url
        expect(page.locator("body")).to_contain_text("does not exist")
        expect(page.locator("body")).not_to_contain_text("Ankara Store")
    # A forged form post from her page changes nothing either.
    status = page.evaluate(
        """async (url) => (await fetch(url, {method: 'POST', headers: {'X-CSRFToken':
             JSON.parse(document.body.getAttribute('hx-headers'))['X-CSRFToken']}})).status""",
        f"/store/IST-KDK/packages/{foreign.id}/commands/refuse")
    assert status == 404
    assert state_of(foreign.id) == "waiting"
