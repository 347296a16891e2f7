"""A split order seen by the staff of one of its stores: their own package in full, another
store's package only by number and state, and no transfer that does not touch their store."""

from __future__ import annotations

from app.extensions import db
from tests import factories
from tests.api.test_bad_input_regressions import auth
from tests.services.builders import make_package


def test_staff_see_only_number_and_state_of_another_stores_package(app, client):
    mine, theirs = factories.location("IST-KDK"), factories.location("ANK-KZL")
    package = make_package("waiting", items=[("SKU-A", 1)], location=mine)
    other = make_package("preparing", location=theirs, order=package.order)
    db.session.commit()
    order_id, own_number, other_number = package.order_id, package.number, other.number

    staff = client.get(f"/api/v1/orders/{order_id}", headers=auth("ayse", "staff", [mine]))
    admin = client.get(f"/api/v1/orders/{order_id}", headers=auth("boss", "admin"))

    assert staff.status_code == admin.status_code == 200
    by_number = {p["number"]: p for p in staff.get_json()["packages"]}
    assert by_number[own_number]["location"] == "IST-KDK" and by_number[own_number]["id"] == package.id
    assert by_number[other_number] == {"id": None, "number": other_number, "state": "preparing", "location": None}
    assert {p["location"] for p in admin.get_json()["packages"]} == {"IST-KDK", "ANK-KZL"}
    assert "ANK-KZL" not in staff.get_data(as_text=True)
