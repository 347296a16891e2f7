"""The supervisor's returns screens in real Chromium: from the navigation to the list, filter it,
open a return and read its outcome — and the other location's return stays out."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.services.returns import FinishedLine, create_return, finish_receiving
from tests import factories
from tests.browser.test_store_flow import sign_in
from tests.services.builders import make_package, staff

pytestmark = pytest.mark.browser


def test_a_supervisor_finds_a_return_and_reads_what_happened_to_it(app, page):
    north, south = factories.location("NORTH", name="Kadıköy Store"), factories.location("SOUTH")
    factories.user("nadia", "supervisor", [north])
    db.session.commit()
    made = {}
    for loc, sku, customer in ((north, "SKU-A", "Şahin Kılıç"), (north, "SKU-B", "Ayse Yilmaz"),
                               (south, "SKU-C", "Şahin Başka")):
        package = make_package("delivered", items=((sku, 1),), location=loc, spare=0)
        package.order.customer_name = customer
        db.session.commit()
        made[sku] = create_return({"order": package.order_id, "location": loc.code,
                                   "items": [{"sku": sku, "quantity": 1, "reason": "Too small"}]}, staff(loc))
    finish_receiving(made["SKU-A"].id, [FinishedLine("SKU-A", 1, 1, "Torn seam")], staff(north))
    wanted, other_here, elsewhere = made["SKU-A"].number, made["SKU-B"].number, made["SKU-C"].number

    sign_in(page, "nadia")
    page.wait_for_url("**/supervisor/")
    page.click("nav >> text=Returns")
    page.wait_for_url("**/supervisor/returns/")
    expect(page.locator(f"tr[data-return='{wanted}']")).to_be_visible()
    expect(page.locator(f"tr[data-return='{other_here}']")).to_be_visible()
    expect(page.locator(f"tr[data-return='{elsewhere}']")).to_have_count(0)  # another location's

    page.fill("#filter-q", "sahin")  # typed without Turkish letters
    page.select_option("#filter-state", "written_off")
    page.click("#return-filters button[type=submit]")
    expect(page.locator("#returns tbody tr[data-return]")).to_have_count(1)
    expect(page.locator(f"tr[data-return='{wanted}']")).to_be_visible()
    expect(page.locator("#filter-q")).to_have_value("sahin")  # the filters stay as typed

    page.click(f"text={wanted}")
    expect(page.locator("#return h1")).to_contain_text(wanted)
    expect(page.locator("#return-items")).to_contain_text("Torn seam")
    expect(page.locator("#inspection-outcome")).to_contain_text("0 back on the shelf, 1 written off as damaged")
    expect(page.locator("#return-ledger tr[data-reason='write_off']")).to_have_count(1)
    expect(page.locator("#return-history")).to_contain_text("Written off")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
