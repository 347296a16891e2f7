"""Supervisor package actions: block, unblock, cancel and manual planning, with their error paths."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import Package
from tests import factories
from tests.services.builders import make_package, row_counts, stock_of
from tests.views.test_auth import login


def _sup(client):
    factories.user("sup", "supervisor")
    db.session.commit()
    login(client, "sup")


def _counts() -> dict[str, int]:
    db.session.rollback()
    return row_counts()


def _fresh(package_id: int) -> Package:
    db.session.rollback()  # end the test's read transaction: SQLite would show its old snapshot
    return db.session.get(Package, package_id)


def test_block_then_unblock_returns_the_package_to_its_state(app, client):
    package = make_package("waiting")
    _sup(client)
    response = client.post(f"/supervisor/packages/{package.id}/block", data={"reason": "Customer called"})
    assert response.status_code == 303
    blocked = _fresh(package.id)
    assert blocked.state == "blocked" and blocked.block_reason == "Customer called"
    response = client.post(f"/supervisor/packages/{package.id}/unblock", data={"version": blocked.version},
                           headers={"HX-Request": "true"})
    assert response.status_code == 200 and 'data-state="waiting"' in response.get_data(as_text=True)
    assert "packages-changed" in response.headers["HX-Trigger"]
    assert _fresh(package.id).state == "waiting"


def test_block_without_a_reason_is_refused_next_to_the_field_and_writes_nothing(app, client):
    package = make_package("waiting")
    _sup(client)
    before = _counts()
    response = client.post(f"/supervisor/packages/{package.id}/block", data={"reason": "  "},
                           headers={"HX-Request": "true"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Give a reason." in html and 'id="package-actions"' in html
    assert _counts() == before and _fresh(package.id).state == "waiting"


def test_a_stale_page_cannot_block_a_package_that_moved_meanwhile(app, client):
    package = make_package("waiting")
    _sup(client)
    response = client.post(f"/supervisor/packages/{package.id}/block",
                           data={"reason": "late", "version": package.version + 5})
    assert response.status_code == 409
    assert _fresh(package.id).state == "waiting"


def test_cancel_releases_the_stock(app, client):
    loc = factories.location("IST-01")
    package = make_package("waiting", location=loc, items=[("SKU-A", 2)], spare=0)
    _sup(client)
    assert stock_of(loc, "SKU-A") == (2, 2)
    response = client.post(f"/supervisor/packages/{package.id}/cancel", data={"reason": "Duplicate order"})
    assert response.status_code == 303
    assert _fresh(package.id).state == "cancelled"
    assert stock_of(loc, "SKU-A") == (2, 0)


def test_out_of_stock_list_links_to_manual_planning_with_availability_per_location(app, client):
    home = factories.location("WH-01")
    rich = factories.location("IST-01")
    package = make_package("out_of_stock", location=home, items=[("SKU-A", 2), ("SKU-B", 1)], spare=0)
    from tests.services.builders import get_product, set_stock

    set_stock(rich, get_product("SKU-A"), 7)
    db.session.commit()
    _sup(client)
    listing = client.get("/supervisor/out-of-stock").get_data(as_text=True)
    assert package.number in listing
    page = client.get(f"/supervisor/packages/{package.id}/").get_data(as_text=True)
    assert f"/supervisor/packages/{package.id}/plan" in page
    plan = client.get(f"/supervisor/packages/{package.id}/plan").get_data(as_text=True)
    row = plan.split('data-location="IST-01"')[1].split("</tr>")[0]
    assert '<td class="ok">7</td>' in row and '<td class="short">0</td>' in row


def test_manual_plan_without_a_location_for_every_item_is_refused_and_writes_nothing(app, client):
    home = factories.location("WH-01")
    factories.location("IST-01")
    package = make_package("out_of_stock", location=home, items=[("SKU-A", 1), ("SKU-B", 1)], spare=0)
    _sup(client)
    first = package.items[0]
    before = _counts()
    response = client.post(f"/supervisor/packages/{package.id}/plan", data={f"location-{first.id}": "IST-01"},
                           headers={"HX-Request": "true"})
    assert response.status_code == 422
    assert "Choose a location for this item." in response.get_data(as_text=True)
    assert _counts() == before


def test_manual_plan_moves_an_out_of_stock_package_to_the_chosen_location(app, client):
    home = factories.location("WH-01")
    store = factories.location("IST-01")
    package = make_package("out_of_stock", location=home, items=[("SKU-A", 2)], spare=0)
    from tests.services.builders import get_product, set_stock

    set_stock(store, get_product("SKU-A"), 3)
    db.session.commit()
    _sup(client)
    response = client.post(f"/supervisor/packages/{package.id}/plan",
                           data={"all_location": "IST-01", "version": package.version})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/orders/{package.order_id}/")
    assert _fresh(package.id).state == "cancelled"
    new = db.session.scalars(select(Package).where(Package.order_id == package.order_id, Package.id != package.id)).all()
    assert [(p.location_id, p.state) for p in new] == [(store.id, "waiting")]
    assert stock_of(store, "SKU-A") == (3, 2)
    order_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Plan manually" in order_page and "user:sup" in order_page  # the command in words
