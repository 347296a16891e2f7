"""The webhook form in Chromium: "All events" is ticked when it opens; ticking one event unticks
it, and the webhook is saved for that event only."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.webhooks import WebhookSubscription
from app.services.settings import put_setting
from tests import factories
from tests.browser.test_admin_flows import sign_in

pytestmark = pytest.mark.browser


def test_ticking_one_event_unticks_all_events_and_saves_that_event(app, page):
    factories.user("root", "admin")
    db.session.commit()
    put_setting("WEBHOOK_ALLOW_PRIVATE_URLS", True)
    sign_in(page, "root")
    page.goto("/admin/webhooks/")
    everything = page.locator('input[name="events"][value="*"]')
    assert everything.is_checked()
    page.check('input[name="events"][value="return.created"]')
    assert not everything.is_checked()
    page.fill("#wh-url", "http://127.0.0.1:9/returns")
    page.fill("#wh-secret", "s3cret")
    page.click("text=Add webhook")
    page.wait_for_selector("text=http://127.0.0.1:9/returns")
    db.session.rollback()
    assert db.session.scalar(select(WebhookSubscription.events)) == ["return.created"]
    # ticking "All events" again clears the particular ones
    page.check('input[name="events"][value="return.created"]')
    page.check('input[name="events"][value="*"]')
    assert not page.locator('input[name="events"][value="return.created"]').is_checked()
