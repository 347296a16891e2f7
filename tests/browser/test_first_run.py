"""First run in real Chromium: the demo brand as a new user meets it. Store, supervisor and admin
pages log no console error and no CSP violation; supervisors act on an order (plan now, cancel
some units after a question) at tablet and phone sizes, with and without JavaScript."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import Order, OrderItem, Package
from app.services.demo import ADMIN_PASSWORD, STAFF_PASSWORD, SUPERVISOR_PASSWORD, seed_demo
from tests import factories
from tests.browser.test_store_flow import TABLET, shoot
from tests.services.builders import get_product, make_order, make_scenario, set_stock

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
SIZES = {"tablet": TABLET, "phone": PHONE}


@pytest.fixture
def open_page(browser, live_server):
    """open_page(size, js=True): a fresh page of that size whose console problems are collected in
    `page.problems` (errors, warnings, uncaught exceptions, CSP reports); closed after the test."""
    contexts = []

    def _open(size: str = "tablet", js: bool = True):
        context = browser.new_context(viewport=SIZES[size], base_url=live_server, java_script_enabled=js,
                                      is_mobile=size == "phone", has_touch=size == "phone")
        contexts.append(context)
        page = context.new_page()
        page.problems = []
        page.on("console", lambda m: page.problems.append(f"{m.type}: {m.text} ({page.url})")
                if m.type in ("error", "warning") else None)
        page.on("pageerror", lambda e: page.problems.append(f"exception: {e} ({page.url})"))
        return page

    yield _open
    for context in contexts:
        context.close()


def unexpected(problems: list[str]) -> list[str]:
    """Console problems other than the notes Chromium and htmx log when a form is answered 422 (the
    form again, with its errors next to the fields: the expected answer to a mistake)."""
    return [p for p in problems if "status of 422" not in p and "Error Code 422" not in p]


def sign_in(page, username: str, password: str) -> None:
    page.goto("/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")


def too_wide(page) -> list[str]:
    """The innermost elements reaching past the viewport's right edge, to say what made a page
    scroll sideways when that is seen only once in a while."""
    return page.evaluate("""() => [...document.querySelectorAll('body *')]
        .filter(e => e.getBoundingClientRect().right > window.innerWidth + 1
                     && ![...e.children].some(c => c.getBoundingClientRect().right > window.innerWidth + 1))
        .slice(0, 8)
        .map(e => `${e.tagName.toLowerCase()}.${e.className} ${Math.round(e.getBoundingClientRect().right)}px: `
                  + (e.textContent || '').trim().slice(0, 80))""")


def visit(page, path: str) -> None:
    response = page.goto(path)
    assert response.status < 400, (path, response.status)
    page.wait_for_load_state("networkidle")


# --- no console errors ---------------------------------------------------------------------------

@pytest.mark.parametrize("size", ["tablet", "phone"])
def test_store_pages_of_the_demo_log_no_console_error_or_csp_violation(app, open_page, size):
    seed_demo()
    package = db.session.scalar(select(Package).where(Package.state == "preparing"))
    page = open_page(size)
    sign_in(page, "staff-ist-kdk", STAFF_PASSWORD)
    for path in ("/store/IST-KDK/", "/store/IST-KDK/transfers", f"/store/IST-KDK/packages/{package.id}"):
        visit(page, path)
    visit(page, "/store/IST-KDK/packages")
    for tab in page.locator("nav.tabs a").all():  # every queue tab, as htmx swaps them
        tab.click()
        page.wait_for_load_state("networkidle")
    assert page.problems == []


def test_supervisor_and_admin_pages_of_the_demo_log_no_console_error_or_csp_violation(app, open_page):
    seed_demo()
    order = db.session.scalar(select(Order).where(Order.number == "DEMO-1009"))
    stuck = db.session.scalar(select(Package).where(Package.state == "out_of_stock"))
    page = open_page()
    sign_in(page, "supervisor", SUPERVISOR_PASSWORD)
    visit(page, "/supervisor/")
    shoot(page, "supervisor-board")
    for path in ("/supervisor/locations/IST-KDK/", "/supervisor/ageing", "/supervisor/out-of-stock",
                 "/supervisor/blocked", "/supervisor/orders/", f"/supervisor/orders/{order.id}/",
                 f"/supervisor/packages/{stuck.id}/", f"/supervisor/packages/{stuck.id}/plan",
                 "/supervisor/jobs/failed"):
        visit(page, path)
    page.context.clear_cookies()
    sign_in(page, "admin", ADMIN_PASSWORD)
    visit(page, "/admin/")
    links = sorted({href for href in page.eval_on_selector_all(
        "nav a[href^='/admin/']", "els => els.map(e => e.getAttribute('href'))")})
    for path in links:
        visit(page, path)
    assert len(links) >= 5
    assert page.problems == []


def test_every_page_names_its_icon_so_the_browser_never_asks_for_a_missing_favicon(app, open_page):
    page = open_page()
    visit(page, "/login")
    icon = page.locator("link[rel=icon]")
    expect(icon).to_have_attribute("href", re.compile(r"/static/favicon\.svg$"))
    assert page.request.get(icon.get_attribute("href")).status == 200
    assert page.problems == []


# --- supervisor order actions --------------------------------------------------------------------

def order_to_cut():
    """Order WEB-900 (3 shirts, 1 cap) planned at IST-01; a supervisor."""
    store = factories.location("IST-01", name="Kadıköy Store")
    set_stock(store, get_product("SHIRT"), 5)
    set_stock(store, get_product("CAP"), 5)
    make_scenario(store)
    order = make_order([("SHIRT", 3), ("CAP", 1)], number="WEB-900")
    factories.user("sup", "supervisor")
    db.session.commit()
    return order


def cancelled_units(order_id: int) -> dict[str, int]:
    db.session.rollback()
    return {i.sku: i.cancelled_quantity for i in db.session.scalars(select(OrderItem).where(OrderItem.order_id == order_id))}


@pytest.mark.parametrize(("size", "js"), [("tablet", True), ("phone", True), ("tablet", False), ("phone", False)])
def test_a_supervisor_plans_an_order_then_cancels_some_units_after_a_question(app, open_page, size, js):
    order = order_to_cut()
    order_id = order.id
    shirt = next(i for i in order.items if i.sku == "SHIRT")
    page = open_page(size, js)
    sign_in(page, "sup", factories.PASSWORD)
    visit(page, f"/supervisor/orders/{order_id}/")
    expect(page.locator("[data-status]").first).to_have_text("New")

    page.click("[data-action=plan]")
    expect(page.get_by_text("Order WEB-900 was planned: Planned as one package.")).to_be_visible()
    expect(page.locator("[data-status]").first).to_have_text("Planned")
    expect(page.locator("tr[data-package='WEB-900-P1']")).to_be_visible()

    page.fill(f"#units-{shirt.id}", "5")  # more than there are
    page.click("[data-action=cancel-units]")
    expect(page.locator(f"#units-{shirt.id}-error")).to_have_text("Only 3 unit(s) of SHIRT can still be cancelled: cancel 3 or fewer.")
    assert cancelled_units(order_id) == {"SHIRT": 0, "CAP": 0}

    page.fill(f"#units-{shirt.id}", "2")
    page.click("[data-action=cancel-units]")
    expect(page.get_by_role("heading", name="Cancel 2 × SHIRT of order WEB-900?")).to_be_visible()
    assert cancelled_units(order_id) == {"SHIRT": 0, "CAP": 0}  # asking changes nothing
    if size == "tablet" and js:
        shoot(page, "supervisor-order-cancel-question")
    page.click("[data-action=confirm-cancel]")
    expect(page.get_by_text("2 units of order WEB-900 are cancelled; their stock is released.")).to_be_visible()
    assert cancelled_units(order_id) == {"SHIRT": 2, "CAP": 0}
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= SIZES[size]["width"], (width, too_wide(page))
    assert unexpected(page.problems) == []
