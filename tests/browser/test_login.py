"""A person signs in through the real form in Chromium."""

from __future__ import annotations

import pytest

from app.extensions import db
from tests import factories
from tests.factories import PASSWORD

pytestmark = pytest.mark.browser


def test_staff_signs_in_through_the_form_and_sees_her_store(app, page):
    store = factories.location("IST-KDK", name="Kadıköy Store")
    factories.user("ayse", "staff", [store])
    db.session.commit()
    page.goto("/")
    page.fill("#username", "ayse")
    page.fill("#password", "wrong-password")
    page.click("button[type=submit]")
    assert "Wrong username or password" in page.inner_text("[role=alert]")
    page.fill("#username", "ayse")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/store/IST-KDK/")
    assert "Kadıköy Store" in page.inner_text("h1")
    page.click("text=Sign out")
    page.wait_for_url("**/login")
