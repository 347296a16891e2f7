"""Receiving an incoming transfer on the receiving screen in real Chromium, with a typed
"scanner": scan what arrived, review the counts, mark damaged and extra units with a reason,
finish — short and damaged units are planned again, extras stocked here (issue 19)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.models import StockLedger, Transfer
from tests import factories
from tests.browser.test_store_flow import shoot, sign_in
from tests.services.builders import make_scenario, make_transfer, stock_of

pytestmark = pytest.mark.browser

SHIRT, CAP = "8690000000017", "8690000000024"


def test_an_incoming_transfer_is_scanned_reviewed_and_finished_with_differences(app, page):
    sender = factories.location("IST-01", name="Beşiktaş Store")
    receiver = factories.location("IST-02", name="Kadıköy Store")
    warehouse = factories.location("WH-01", name="Tuzla Warehouse", priority=9)
    factories.user("rita", "staff", [receiver])
    factories.product("TSHIRT-M", SHIRT, name="Cotton T-shirt, navy, M")
    factories.product("CAP-BLK", CAP, name="Baseball cap, black")
    make_scenario(warehouse)
    db.session.commit()
    transfer = make_transfer(items=[("TSHIRT-M", 2), ("CAP-BLK", 1)], source=sender, destination=receiver,
                             state="in_transit", spare=0)
    transfer_id, number = transfer.id, transfer.number
    shirt_id = next(ti.product_id for ti in transfer.items if ti.product.sku == "TSHIRT-M")
    cap_id = next(ti.product_id for ti in transfer.items if ti.product.sku == "CAP-BLK")

    sign_in(page, "rita")
    page.wait_for_url("**/store/IST-02/")
    page.click("nav >> text=Receiving")
    expect(page.locator(f"#transfer-row-{transfer_id}")).to_be_visible()
    page.click(f"text={number}")
    page.wait_for_url(f"**/transfers/{transfer_id}")
    expect(page.locator("#scan-field")).to_be_focused()
    for barcode in (SHIRT, SHIRT, CAP):
        page.keyboard.type(barcode, delay=5)
        page.keyboard.press("Enter")
    expect(page.locator("#transfer")).to_contain_text("3")
    page.keyboard.type(CAP, delay=5)  # a second cap came, more than was sent
    page.keyboard.press("Enter")
    expect(page.locator("#scan-feedback")).to_contain_text("already counted")

    page.click("[data-command=review]")
    page.wait_for_url(f"**/receiving/transfers/{transfer_id}/finish")
    expect(page.locator(f"#received-{shirt_id}")).to_have_value("2")
    expect(page.locator(f"#received-{cap_id}")).to_have_value("1")
    page.fill(f"#damaged-{shirt_id}", "1")
    page.fill(f"#received-{cap_id}", "2")
    page.click("button[data-command=finish]")
    # Both differences want a reason; nothing was received yet.
    expect(page.locator(f"#finish-{shirt_id} .field-error")).to_contain_text("damaged")
    expect(page.locator(f"#finish-{cap_id} .field-error")).to_contain_text("say why")
    db.session.rollback()
    assert db.session.scalar(select(Transfer.state).where(Transfer.id == transfer_id)) == "in_transit"
    shoot(page, "store-receiving-transfer")

    page.fill(f"#note-{shirt_id}", "Crushed in the van")
    page.fill(f"#note-{cap_id}", "An extra cap was in the box")
    page.click("button[data-command=finish]")
    page.wait_for_url("**/store/IST-02/receiving")
    expect(page.locator(".notice, .flash").first).to_contain_text(f"{number} received")
    expect(page.locator(f"#transfer-row-{transfer_id}")).to_have_count(0)

    db.session.rollback()
    assert db.session.scalar(select(Transfer.state).where(Transfer.id == transfer_id)) == "received"
    assert stock_of(receiver, "TSHIRT-M") == (1, 1)  # the good shirt, for the package
    assert stock_of(receiver, "CAP-BLK") == (2, 1)  # the cap for the package and the extra one
    write_off = db.session.scalars(select(StockLedger).where(StockLedger.reason == "write_off")).one()
    assert write_off.location_id == receiver.id and "Crushed in the van" in write_off.note

    # Back on the review page after finishing: nothing is counted twice.
    page.goto(f"/store/IST-02/receiving/transfers/{transfer_id}/finish")
    expect(page.locator(".flash")).to_contain_text("nothing to receive")
    db.session.rollback()
    assert stock_of(receiver, "CAP-BLK") == (2, 1)
