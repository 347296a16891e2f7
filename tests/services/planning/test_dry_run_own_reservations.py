"""A dry run of an order already planned shows how it would be planned from scratch: the stock
its own packages and transfers reserve, and its own open packages against a store's quota, are
its own to use — another order's are not."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models import Reservation, Stock, Transfer
from app.services.planning import dry_run, plan_order
from tests import factories
from tests.services.planning.network import order, packages_of, placement, scenario, shirts_at_a_store, site
from tests.views.test_auth import login


def _reserved() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.coalesce(func.sum(Reservation.quantity), 0)))


def _package_sites(result) -> list[str]:
    return sorted(p["location"] for p in result["packages"])


def test_an_order_holding_the_last_units_still_fits_where_it_holds_them(app):
    _store, shirt = shirts_at_a_store(2, [{"location_type": "store"}])
    o = order([(shirt, 2)])
    plan_order(o.id)
    assert placement(o.id) == {"KDK": {"SHIRT": 2}} and _reserved() == 2

    result = dry_run({"order_id": o.id})

    assert result["outcome"] == "planned", result["explanation"]
    assert _package_sites(result) == ["KDK"]
    assert _reserved() == 2 and placement(o.id) == {"KDK": {"SHIRT": 2}}  # nothing written


def test_its_transfer_reservation_at_the_source_counts_for_it_too(app):
    site("KDK", 40.99, 29.03)
    warehouse = site("WH", 40.81, 29.30, type="warehouse")
    shirt = factories.product("SHIRT")
    factories.stock(warehouse, shirt, 3)
    scenario(warehouse, [{"location_type": "store", "transferable": True, "transfer_sources": ["WH"]}])
    o = order([(shirt, 3)])
    plan_order(o.id)
    (package,) = packages_of(o.id)
    assert package.location.code == "KDK" and package.state == "waiting_for_transfer"
    assert db.session.scalar(select(func.count(Transfer.id))) == 1 and _reserved() == 3

    result = dry_run({"order_id": o.id})

    assert result["outcome"] == "transfer", result["explanation"]  # not out of stock
    assert _package_sites(result) == ["KDK"]


def test_its_own_open_package_does_not_fill_the_store_quota(app):
    _store, shirt = shirts_at_a_store(5, [{"location_type": "store", "use_quota": True}], max_quota=1)
    o = order([(shirt, 1)])
    plan_order(o.id)
    assert placement(o.id) == {"KDK": {"SHIRT": 1}}

    result = dry_run({"order_id": o.id})

    assert result["outcome"] == "planned", result["explanation"]
    assert _package_sites(result) == ["KDK"]


def test_another_orders_reservation_stays_taken(app):
    store, shirt = shirts_at_a_store(2, [{"location_type": "store"}])
    first = order([(shirt, 2)])
    plan_order(first.id)
    second = order([(shirt, 2)])
    plan_order(second.id)
    assert [p.state for p in packages_of(second.id)] == ["out_of_stock"]

    result = dry_run({"order_id": second.id})  # its units are held by its parked package

    assert result["outcome"] == "out_of_stock"
    assert db.session.scalar(select(Stock.reserved).where(Stock.location_id == store.id)) == 2


def test_the_admin_dry_run_panel_says_an_order_in_progress_fits(app, client):
    _store, shirt = shirts_at_a_store(1, [{"location_type": "store"}])
    o = order([(shirt, 1)])
    plan_order(o.id)
    factories.user("root", "admin")
    db.session.commit()
    login(client, "root")

    response = client.post("/admin/scenarios/dry-run", data={"order_number": o.number}, headers={"HX-Request": "true"})

    page = response.get_data(as_text=True)
    assert response.status_code == 200 and 'data-outcome="planned"' in page and "KDK" in page
