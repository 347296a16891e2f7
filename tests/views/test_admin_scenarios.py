"""Scenario editor: rules added, removed and reordered in place without saving, errors next to
their fields with nothing written, save and update, and the dry-run panel."""

from __future__ import annotations

import html
import json

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.models import Scenario
from tests import factories
from tests.services.builders import get_product, make_order, row_counts, set_stock
from tests.views.test_auth import login


@pytest.fixture
def admin(app, client):
    factories.location("WH-01")
    factories.location("IST-01")
    factories.channel("web")
    factories.user("root", "admin")
    db.session.commit()
    login(client, "root")
    return client


def form(**extra) -> dict:
    data = {"name": "Web", "priority": "10", "active": "y", "default_location": "WH-01", "channels": ["web"],
            "rules-0-name": "Stores first", "rules-0-location_type": "store", "rules-0-sort-0-by": "stock",
            "rules-0-sort-0-order": "desc", "rules-0-sort-1-by": "priority", "rules-0-max_packages": "1",
            "rules-1-name": "Warehouse", "rules-1-locations": "WH-01", "rules-1-max_packages": "1",
            "rules-1-sort-0-by": "priority"}
    data.update(extra)
    return data


def _rule_names(html: str) -> list[str]:
    import re

    return re.findall(r'<li class="card rule" data-rule="([^"]*)"', html)


def test_rules_are_added_moved_and_removed_in_place_without_saving(admin):
    before = row_counts()
    moved = admin.post("/admin/scenarios/new", data=form(op="down-0"), headers={"HX-Request": "true"})
    assert moved.status_code == 200 and _rule_names(moved.get_data(as_text=True)) == ["Warehouse", "Stores first"]
    html = moved.get_data(as_text=True)
    assert 'name="rules-1-sort-0-by"' in html and "<html" not in html
    added = admin.post("/admin/scenarios/new", data=form(op="add"), headers={"HX-Request": "true"})
    assert _rule_names(added.get_data(as_text=True)) == ["Stores first", "Warehouse", "Rule 3"]
    removed = admin.post("/admin/scenarios/new", data=form(op="remove-0"))
    assert removed.status_code == 200 and _rule_names(removed.get_data(as_text=True)) == ["Warehouse"]
    db.session.rollback()
    assert row_counts() == before


def test_saving_stores_conditions_rules_in_order_and_sort_keys(admin):
    response = admin.post("/admin/scenarios/new", data=form(op="save"))
    assert response.status_code == 303
    db.session.rollback()
    scenario = db.session.scalar(select(Scenario))
    assert scenario.conditions["channels"] == ["web"] and scenario.default_location.code == "WH-01"
    assert [(r.position, r.name, r.location_type) for r in scenario.rules] == [
        (1, "Stores first", "store"), (2, "Warehouse", None)]
    assert scenario.rules[0].sort == [{"by": "stock", "order": "desc"}, {"by": "priority", "order": "asc"}]
    page = admin.get(response.headers["Location"]).get_data(as_text=True)
    assert _rule_names(page) == ["Stores first", "Warehouse"]
    reordered = admin.post(response.headers["Location"], data=form(op="save", **{
        "rules-0-name": "Warehouse", "rules-0-locations": "WH-01", "rules-0-location_type": "",
        "rules-1-name": "Stores first", "rules-1-locations": "", "rules-1-location_type": "store"}))
    assert reordered.status_code == 303
    db.session.rollback()
    assert [r.name for r in db.session.scalar(select(Scenario)).rules] == ["Warehouse", "Stores first"]


@pytest.mark.parametrize(("extra", "field_id", "message"), [
    ({"name": ""}, "name", "This field is required. Fill it in."),
    ({"default_location": ""}, "default_location", ""),
    ({"rules-1-locations": "NOPE-1"}, "rules-1-locations", "Unknown location code(s): NOPE-1."),
    ({"rules-0-sort-1-by": "stock"}, "rules-0-sort-0-by", "Each sort key may appear once."),
    ({"rules-1-max_packages": "0"}, "rules-1-max_packages", "Enter 1 or more."),
    ({"rules-0-transfer_sources": "IST-01"}, "rules-0-transfer_sources", "only applies when May bring missing units by transfer is ticked"),
])
def test_scenario_errors_are_shown_next_to_the_field_and_nothing_is_written(admin, extra, field_id, message):
    db.session.rollback()
    before = row_counts()
    response = admin.post("/admin/scenarios/new", data=form(op="save", **extra), headers={"HX-Request": "true"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="{field_id}" ' in html
    end = "</fieldset>" if "-sort-" in field_id else "</div>"  # sort problems sit under the sort keys
    field_html = html.split(f'id="{field_id}"')[1].split(end)[0]
    assert 'class="field-error"' in field_html and message in field_html
    db.session.rollback()
    assert row_counts() == before


def test_duplicate_scenario_name_is_refused(admin):
    assert admin.post("/admin/scenarios/new", data=form(op="save")).status_code == 303
    response = admin.post("/admin/scenarios/new", data=form(op="save"))
    assert response.status_code == 409 and "Choose another name." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Scenario)) == 1


def test_dry_run_plans_an_existing_or_pasted_order_and_writes_nothing(admin):
    admin.post("/admin/scenarios/new", data=form(op="save"))
    store = db.session.scalar(select(factories.StockLocation).where(factories.StockLocation.code == "IST-01"))
    set_stock(store, get_product("SKU-A"), 5)
    make_order([("SKU-A", 2)], number="WEB-9")
    db.session.commit()
    db.session.rollback()
    before = row_counts()
    response = admin.post("/admin/scenarios/dry-run", data={"order_number": "WEB-9"}, headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'data-outcome="planned"' in html
    assert "Scenario &#39;Web&#39; matches." in html and "IST-01" in html
    pasted = {"number": "X-1", "channel": "web", "placed_at": "2026-11-20T10:00:00Z",
              "shipping_address": {"city": "Istanbul"}, "items": [{"sku": "SKU-A", "quantity": 9}]}
    response = admin.post("/admin/scenarios/dry-run", data={"order_json": json.dumps(pasted)})
    assert response.status_code == 200 and 'data-outcome="out_of_stock"' in response.get_data(as_text=True)
    db.session.rollback()
    assert row_counts() == before


@pytest.mark.parametrize(("data", "message"), [
    ({"order_number": "NOPE"}, "No order numbered NOPE."),
    ({"order_json": "{bad"}, "This is not valid JSON"),
    ({"order_json": "{\"items\": NaN}"}, "It contains NaN, which JSON does not allow"),
    ({"order_json": '{"number": "X"}'}, "The order is not valid."),
    ({}, "Enter an order number"),
])
def test_dry_run_input_errors_are_shown_in_place(admin, data, message):
    response = admin.post("/admin/scenarios/dry-run", data=data, headers={"HX-Request": "true"})
    assert response.status_code == 422 and message in response.get_data(as_text=True)


@pytest.mark.parametrize(("data", "words", "english"), [
    ({"order_json": "{bad"}, "geçerli bir JSON değil", "Expecting property name"),
    ({"order_json": '{"number": "X"}'}, "Sipariş geçerli değil.", "Field required"),
])
def test_dry_run_input_errors_are_in_turkish_for_a_turkish_admin(admin, data, words, english):
    db.session.execute(db.text("UPDATE users SET language = 'tr' WHERE username = 'root'"))
    db.session.commit()
    response = admin.post("/admin/scenarios/dry-run", data=data, headers={"HX-Request": "true"})
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422 and words in page and english not in page
