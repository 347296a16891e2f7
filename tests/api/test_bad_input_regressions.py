"""Bad input of any kind gets a clear 4xx error and changes nothing; each test here was a 500
found by fuzzing the API (schemathesis) or probing it by hand, on SQLite or PostgreSQL."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import event, select

from app.extensions import db
from app.models import Order, OrderItem, Package, Scenario, Setting, StockLocation, TransitionLog
from app.models.base import utcnow
from app.services import workorders
from tests import factories
from tests.api.helpers import auth, count

HUGE = 2**70  # beyond SQLite's and PostgreSQL's integers


def assert_error(response, status: int, code: str | None = None) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    error = response.get_json()["error"]
    if code is not None:
        assert error["code"] == code
    return error


@pytest.mark.parametrize("path", [f"/api/v1/orders/{HUGE}", f"/api/v1/packages/{HUGE}",
                                  f"/api/v1/transfers/{HUGE}/history", f"/api/v1/scenarios/{HUGE}",
                                  f"/api/v1/webhooks/{HUGE}/deliveries/{HUGE}"])
def test_ids_beyond_the_integer_range_are_not_found(app, client, path):
    assert_error(client.get(path, headers=auth("erp")), 404, "not_found")


# huge, superscript two, Arabic-Indic three, more digits than Python turns into an int
@pytest.mark.parametrize("page", [str(10**30), "\u00b2", "\u0663", "1" * 5000])
def test_page_numbers_that_are_huge_or_not_ascii_digits_are_refused(app, client, page):
    error = assert_error(client.get("/api/v1/orders", query_string={"page": page}, headers=auth("erp")), 422)
    assert "page" in error["details"]


def test_package_order_filter_with_a_non_ascii_or_huge_number_is_just_a_number_search(app, client):
    admin = auth("erp")
    for order in ("\u00b2", str(HUGE)):
        response = client.get("/api/v1/packages", query_string={"order": order}, headers=admin)
        assert response.status_code == 200 and response.get_json()["count"] == 0


def test_if_match_that_is_not_an_ascii_version_is_refused(app, client):
    admin = auth("erp")
    for version in ("\u00b2", str(HUGE)):
        response = client.post("/api/v1/packages/1/commands/prepare", json={},
                               headers={**admin, "If-Match": version})
        assert_error(response, 422, "validation_failed")


@pytest.mark.parametrize("bound", ["placed_after", "placed_before"])
@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+23:59", "9999-12-31T23:59:59-23:59"])
def test_date_filters_that_overflow_in_utc_are_refused(app, client, bound, value):
    error = assert_error(client.get("/api/v1/orders", query_string={bound: value}, headers=auth("erp")), 422)
    assert bound in error["details"]


def test_order_placed_at_that_overflows_in_utc_is_refused_and_nothing_is_stored(app, client):
    factories.channel("web")
    factories.product("TSHIRT-M")
    db.session.commit()
    body = {"number": "WEB-1", "channel": "web", "placed_at": "0001-01-01T00:00:00+23:59",
            "shipping_address": {"city": "Istanbul"}, "items": [{"sku": "TSHIRT-M", "quantity": 1}]}
    error = assert_error(client.post("/api/v1/orders", json=body, headers=auth("erp")), 422)
    assert "placed_at" in error["details"]
    assert count(Order) == 0


def test_location_max_quota_beyond_the_integer_range_is_refused(app, client):
    body = {"code": "IST-01", "name": "Kadikoy", "max_quota": HUGE}
    error = assert_error(client.post("/api/v1/locations", json=body, headers=auth("erp")), 422)
    assert "max_quota" in error["details"]
    assert count(StockLocation) == 0


@pytest.mark.parametrize("body", [{"code": "IST-01", "name": "Kad\x00ikoy"},
                                  {"code": "IST-01", "name": "Kadikoy", "tags": ["a\x00"]},
                                  {"code": "IST-01", "name": "Kadikoy", "address\x00": "x"}])
def test_nul_characters_in_a_body_are_refused_and_nothing_is_stored(app, client, body):
    assert_error(client.post("/api/v1/locations", json=body, headers=auth("erp")), 422, "validation_failed")
    assert count(StockLocation) == 0


@pytest.mark.parametrize("url", ["/api/v1/locations/IST%0001", "/api/v1/stock?location=IST%0001",
                                 "/api/v1/orders?number=%00"])
def test_nul_characters_in_the_url_are_refused(app, client, url):
    assert_error(client.get(url, headers=auth("erp")), 400, "invalid_characters")


def test_deeply_nested_json_is_refused_not_a_recursion_error(app, client):
    admin = auth("erp")
    body = "[" * 100_000 + "]" * 100_000
    response = client.post("/api/v1/locations", data=body, content_type="application/json", headers=admin)
    assert_error(response, 400, "malformed_json")
    # Deep enough to pass the JSON parser but not a recursive walk over the parsed body.
    body = "[" * 900 + "]" * 900
    response = client.post("/api/v1/locations", data=body, content_type="application/json", headers=admin)
    assert_error(response, 422, "validation_failed")


def test_dry_run_order_id_beyond_the_integer_range_is_refused(app, client):
    error = assert_error(client.post("/api/v1/planning/dry-run", json={"order_id": HUGE}, headers=auth("erp")), 422)
    assert "order_id" in error["details"]


def waiting_package() -> Package:
    store = factories.location("IST-01")
    shirt = factories.product("TSHIRT-M", barcode="8690000000017")
    factories.stock(store, shirt, on_hand=10)
    channel = factories.channel("web")
    order = Order(number="WEB-1", channel=channel, placed_at=utcnow(), status="planned", delivery_type="cargo",
                  ship_city="Istanbul", items=[OrderItem(product=shirt, quantity=2)])
    db.session.add(order)
    db.session.flush()
    package = workorders.create_package(order, store.id, [workorders.Line(order.items[0], 2)], "waiting", "test")
    db.session.commit()
    return package


@pytest.mark.parametrize(("command", "params", "field"), [
    ("report_missing", {"items": [{"item_id": HUGE, "quantity": 1, "reason": "not_found"}]}, "items.0.item_id"),
    ("report_missing", {"items": [{"item_id": 1, "quantity": HUGE, "reason": "not_found"}]}, "items.0.quantity"),
    ("manual_plan", {"assignments": [{"item_ids": [HUGE], "location": "IST-01"}]}, "assignments.0.item_ids.0"),
])
def test_command_item_ids_and_quantities_beyond_the_integer_range_are_refused(app, client, command, params, field):
    package = waiting_package()
    admin = auth("erp")
    before = count(TransitionLog)
    response = client.post(f"/api/v1/packages/{package.id}/commands/{command}", json=params, headers=admin)
    assert field in assert_error(response, 422, "validation_failed")["details"]
    assert count(TransitionLog) == before


@pytest.mark.parametrize(("item", "field"), [({"item_id": HUGE, "quantity": 1}, "items.0.item_id"),
                                             ({"item_id": 1, "quantity": HUGE}, "items.0.quantity")])
def test_order_cancel_item_ids_and_quantities_beyond_the_integer_range_are_refused(app, client, item, field):
    package = waiting_package()
    admin = auth("erp")
    response = client.post(f"/api/v1/orders/{package.order_id}/cancel", json={"items": [item]}, headers=admin)
    assert field in assert_error(response, 422, "validation_failed")["details"]
    db.session.commit()
    assert db.session.get(Order, package.order_id).status == "planned"


# Found by schemathesis as an IntegrityError (500); fixed in app/services/planning/scenarios.py (b98cf7e).
def test_a_second_scenario_with_the_same_name_is_a_conflict(app, client):
    factories.location("WH-01", type="warehouse")
    db.session.commit()
    body = {"name": "Default", "default_location": "WH-01", "rules": [{"name": "Any store"}]}
    admin = auth("erp")
    assert client.post("/api/v1/scenarios", json=body, headers=admin).status_code == 201
    assert_error(client.post("/api/v1/scenarios", json=body, headers=admin), 409, "conflict")
    assert count(Scenario) == 1


def test_two_admins_putting_settings_at_once_both_succeed_without_waiting_out_a_lock(app, client):
    """Found by schemathesis on SQLite: put_setting read in a plain transaction and then wrote, so a
    writer committing in between made SQLite refuse the upgrade ("database is locked", 500).
    Two requests interleave for real: the second starts once the first has touched the settings
    table inside its transaction, and the first waits (briefly) for the second before it commits."""
    first, second = auth("erp"), auth("erp2")
    for headers in (first, second):  # token last-use stamps now, so the race is put_setting alone
        assert client.get("/api/v1/me", headers=headers).status_code == 200
    first_has_read, second_finished = threading.Event(), threading.Event()
    first_thread: list[threading.Thread] = []

    def pause_the_first_after_its_read(conn, cursor, statement, parameters, context, executemany):
        if (threading.current_thread() in first_thread and not first_has_read.is_set()
                and " settings" in statement):  # its read or write of the setting, inside its transaction
            first_has_read.set()
            # On SQLite the second waits for our write lock, so it cannot finish: go on after 1 s.
            second_finished.wait(1)

    responses: dict[str, object] = {}

    def put(name: str, headers: dict, key: str, wait_for: threading.Event | None) -> None:
        if wait_for is not None:
            assert wait_for.wait(10), "the first request never read the setting"
        responses[name] = app.test_client().put(f"/api/v1/settings/{key}", json={"value": True}, headers=headers)
        if name == "second":
            second_finished.set()

    threads = [threading.Thread(target=put, args=("first", first, "IS_OTP_ENABLED", None)),
               threading.Thread(target=put, args=("second", second, "REQUIRE_SCAN_TO_PACK", first_has_read))]
    first_thread.append(threads[0])
    event.listen(db.engine, "after_cursor_execute", pause_the_first_after_its_read)
    started = time.monotonic()
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        event.remove(db.engine, "after_cursor_execute", pause_the_first_after_its_read)
    elapsed = time.monotonic() - started
    assert first_has_read.is_set()
    for name in ("first", "second"):
        assert responses[name].status_code == 200, responses[name].get_data(as_text=True)
    assert elapsed < 10, f"{elapsed:.1f} s: a writer sat out a lock timeout"
    db.session.commit()  # a fresh snapshot
    assert {row.key: row.value for row in db.session.scalars(select(Setting))} == {
        "IS_OTP_ENABLED": True, "REQUIRE_SCAN_TO_PACK": True}


def test_same_order_number_in_two_channels_plans_both(app, client):
    """Found by schemathesis on PostgreSQL: order numbers are unique per channel but package numbers
    (`<order number>-P<n>`) globally, so planning the second order hit uq_packages_number (500)."""
    store = factories.location("IST-01")
    shirt = factories.product("TSHIRT-M")
    factories.stock(store, shirt, on_hand=10)
    factories.channel("web")
    factories.channel("trendyol")
    factories.cargo_company("demo")
    db.session.commit()
    admin = auth("erp")
    scenario = {"name": "Stores", "default_location": "IST-01", "rules": [{"name": "Any store"}]}
    assert client.post("/api/v1/scenarios", json=scenario, headers=admin).status_code == 201
    numbers = []
    for channel in ("web", "trendyol"):
        body = {"number": "SAME-1", "channel": channel, "placed_at": "2026-11-20T10:00:00Z", "cargo_company": "demo",
                "shipping_address": {"city": "Istanbul"}, "items": [{"sku": "TSHIRT-M", "quantity": 1}]}
        order = client.post("/api/v1/orders", json=body, headers=admin)
        assert order.status_code == 201, order.get_data(as_text=True)
        planned = client.post(f"/api/v1/orders/{order.get_json()['id']}/plan", json={}, headers=admin)
        assert planned.status_code == 200, planned.get_data(as_text=True)
        numbers += [p["number"] for p in planned.get_json()["packages"]]
    assert len(numbers) == 2 and len(set(numbers)) == 2


def test_keyed_write_to_a_path_longer_than_the_idempotency_column_is_answered(app, client):
    """Found by hand on PostgreSQL: the Idempotency-Key record stored the whole path in a
    500-character column, so a long (nonexistent) code in the URL raised DataError (500)."""
    response = client.patch(f"/api/v1/locations/{'A' * 600}", json={"name": "x"},
                            headers={**auth("erp"), "Idempotency-Key": "long-path"})
    assert_error(response, 404, "not_found")
