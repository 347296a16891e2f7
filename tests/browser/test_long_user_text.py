"""Text people type with no spaces (a block reason of 500 × "Ş") wraps inside its box on a phone:
neither the store's package page (the "Blocked:" banner) nor the supervisor's package page (the
"Blocked because" fact) scrolls sideways."""

from __future__ import annotations

import pytest

from app.extensions import db
from tests import factories
from tests.browser.test_store_flow import sign_in
from tests.browser.test_store_phone import PHONE, phone  # noqa: F401  (the phone page fixture)
from tests.services.builders import make_package

pytestmark = pytest.mark.browser

LONG_REASON = "Ş" * 500  # the longest block reason there is (packages.block_reason is 500 long)


def _blocked_package():
    store = factories.location("IST-KDK", name="Kadıköy Store")
    factories.user("ayse", "staff", [store])
    factories.user("sup", "supervisor")
    db.session.commit()
    package = make_package("blocked", location=store, items=[("BELT-BLA-85", 2)])
    package.block_reason = LONG_REASON
    db.session.commit()
    return store, package


def _width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def test_a_long_block_reason_wraps_on_the_store_and_supervisor_package_pages(app, phone):  # noqa: F811
    store, package = _blocked_package()
    sign_in(phone, "ayse")
    phone.goto(f"/store/{store.code}/packages/{package.id}")
    assert phone.get_by_text("Blocked: ŞŞŞ").is_visible()
    assert _width(phone) <= PHONE["width"], f"store package page scrolls sideways ({_width(phone)} px)"

    phone.context.clear_cookies()
    sign_in(phone, "sup")
    phone.goto(f"/supervisor/packages/{package.id}/")
    assert phone.get_by_text(LONG_REASON).is_visible()
    assert _width(phone) <= PHONE["width"], f"supervisor package page scrolls sideways ({_width(phone)} px)"
