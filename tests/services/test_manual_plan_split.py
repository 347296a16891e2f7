"""Manual planning can split one line over locations: an assignment takes whole items
(`item_ids`) or some units of an item (`items`), and every unit is assigned exactly once."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.services.errors import ValidationFailed
from app.services.packages import run_package_command
from tests import factories
from tests.api.test_packages_api import auth
from tests.services.builders import get_product, make_package, row_counts, set_stock, stock_of, supervisor


def three_shirts_and_a_cap():
    """An out-of-stock package (3 shirts, 1 cap) and two stores with 2 shirts each and caps at A."""
    home = factories.location("WH-01")
    a, b = factories.location("IST-A"), factories.location("IST-B")
    package = make_package("out_of_stock", location=home, items=[("SHIRT", 3), ("CAP", 1)], spare=0)
    set_stock(a, get_product("SHIRT"), 2)
    set_stock(b, get_product("SHIRT"), 2)
    set_stock(a, get_product("CAP"), 1)
    db.session.commit()
    return package, a, b


def new_packages(package) -> list[tuple[str, str, list[tuple[str, int]]]]:
    db.session.rollback()  # see what the request committed
    return [(p.location.code, p.state, [(i.sku, i.quantity) for i in p.items])
            for p in package.order.packages if p.id != package.id]


def test_one_line_is_split_over_two_locations_with_the_units_reserved_at_each(app):
    package, a, b = three_shirts_and_a_cap()
    shirt, cap = package.items
    params = {"assignments": [{"item_ids": [cap.id], "items": [{"item_id": shirt.id, "quantity": 2}], "location": "IST-A"},
                              {"items": [{"item_id": shirt.id, "quantity": 1}], "location": "IST-B"}]}

    result = run_package_command(package.id, "manual_plan", params, supervisor())

    assert result.state == "cancelled"
    assert new_packages(package) == [("IST-A", "waiting", [("SHIRT", 2), ("CAP", 1)]),
                                     ("IST-B", "waiting", [("SHIRT", 1)])]
    assert stock_of(a, "SHIRT") == (2, 2) and stock_of(a, "CAP") == (1, 1)
    assert stock_of(b, "SHIRT") == (2, 1)


def test_units_of_one_item_named_twice_for_one_location_become_one_line(app):
    package, a, b = three_shirts_and_a_cap()
    shirt, cap = package.items
    set_stock(a, get_product("SHIRT"), 3)
    db.session.commit()
    params = {"assignments": [{"item_ids": [cap.id], "location": "IST-A",
                               "items": [{"item_id": shirt.id, "quantity": 1}, {"item_id": shirt.id, "quantity": 2}]}]}

    run_package_command(package.id, "manual_plan", params, supervisor())

    assert new_packages(package) == [("IST-A", "waiting", [("SHIRT", 3), ("CAP", 1)])]


@pytest.mark.parametrize(("assignments", "field", "words"), [
    # one shirt left over
    (lambda s, c: [{"item_ids": [c], "items": [{"item_id": s, "quantity": 2}], "location": "IST-A"}],
     "assignments", "SHIRT (2 of 3)"),
    # four shirts for a line of three: the assignment that goes over is named
    (lambda s, c: [{"item_ids": [c], "items": [{"item_id": s, "quantity": 2}], "location": "IST-A"},
                   {"items": [{"item_id": s, "quantity": 2}], "location": "IST-B"}],
     "assignments.1.items.0.quantity", "SHIRT: 4 units assigned, the package holds 3"),
    # the whole line and some of its units again
    (lambda s, c: [{"item_ids": [s, c], "location": "IST-A"}, {"items": [{"item_id": s, "quantity": 1}],
                                                                "location": "IST-B"}],
     "assignments.1.items.0.quantity", "SHIRT: 4 units assigned"),
    (lambda s, c: [{"item_ids": [s, c], "location": "IST-A"}, {"items": [{"item_id": 99999, "quantity": 1}],
                                                                "location": "IST-B"}],
     "assignments.1.items.0.item_id", "not an open item"),
])
def test_every_unit_must_be_assigned_exactly_once_and_nothing_changes_otherwise(app, assignments, field, words):
    package, a, b = three_shirts_and_a_cap()
    shirt, cap = package.items
    before = row_counts()

    with pytest.raises(ValidationFailed) as exc:
        run_package_command(package.id, "manual_plan", {"assignments": assignments(shirt.id, cap.id)}, supervisor())

    assert words in exc.value.details[field]
    assert row_counts() == before


def test_an_assignment_must_name_some_items(app):
    package, a, b = three_shirts_and_a_cap()
    with pytest.raises(ValidationFailed) as exc:
        run_package_command(package.id, "manual_plan", {"assignments": [{"location": "IST-A"}]}, supervisor())
    assert "item_ids or items" in str(exc.value.details)


def test_the_api_takes_the_split_shape_and_the_old_one(app, client):
    package, a, b = three_shirts_and_a_cap()
    shirt, cap = package.items
    headers = auth("boss", "supervisor")
    body = {"assignments": [{"item_ids": [cap.id], "items": [{"item_id": shirt.id, "quantity": 2}], "location": "IST-A"},
                            {"items": [{"item_id": shirt.id, "quantity": 1}], "location": "IST-B"}]}
    response = client.post(f"/api/v1/packages/{package.id}/commands/manual_plan", json=body, headers=headers)
    assert response.status_code == 200, response.get_json()
    assert new_packages(package) == [("IST-A", "waiting", [("SHIRT", 2), ("CAP", 1)]),
                                     ("IST-B", "waiting", [("SHIRT", 1)])]

    moved = next(p for p in package.order.packages if p.location.code == "IST-B")
    old_shape = {"assignments": [{"item_ids": [i.id for i in moved.items], "location": "IST-B"}]}
    response = client.post(f"/api/v1/packages/{moved.id}/commands/manual_plan", json=old_shape, headers=headers)
    assert response.status_code == 200, response.get_json()
