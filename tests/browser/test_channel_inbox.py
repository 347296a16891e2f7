"""The channel inbox in Chromium: an order with an unknown SKU waits as needs attention; the admin
maps the SKU, processes it again, and the order exists."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.channel_simulator.samples import shopify_order
from app.extensions import db
from app.models import Order
from tests import factories
from tests.browser.test_admin_flows import sign_in
from tests.channels.conftest import run_jobs, sim, simulator_process, world  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser


def test_admin_maps_an_unknown_sku_and_reprocesses_the_waiting_order(world, sim, live_server, page):  # noqa: F811
    factories.user("boss", "admin")
    db.session.commit()
    answer = sim.send_webhook(f"{live_server}/channels/shop/webhooks", "shopify", "orders/create",
                              shopify_order(6001, [("TS-M-RED", 2)]))
    assert answer["status"] == 200
    run_jobs()
    sign_in(page, "boss")
    page.goto("/admin/integrations/inbox?outcome=needs_attention")
    row = page.locator('#inbox tr[data-outcome="needs_attention"]')
    assert "Unknown SKU TS-M-RED" in row.inner_text()
    row.locator("a").click()
    assert "TS-M-RED" in page.inner_text("#payload")
    page.click("a[href$=\"#mappings\"]")
    page.select_option("#m-kind", "sku")
    page.fill("#m-theirs", "TS-M-RED")
    page.fill("#m-ours", "TSHIRT-M")
    page.click("#add-mapping")
    # The click posts and is redirected back: wait for the new page (reading at once can catch
    # the empty document between the two).
    expect(page.locator(".flash")).to_contain_text("Mapped TS-M-RED to TSHIRT-M")
    page.goto("/admin/integrations/inbox?outcome=needs_attention&channel=shop")
    page.click("#reprocess-all")
    assert "1 imported" in page.inner_text(".flash")
    page.goto("/admin/integrations/inbox")
    assert page.locator('#inbox tr[data-outcome="imported"]').count() == 1
    db.session.remove()
    order = db.session.scalar(select(Order))
    assert order.number == "6001" and [(i.product.sku, i.quantity) for i in order.items] == [("TSHIRT-M", 2)]
