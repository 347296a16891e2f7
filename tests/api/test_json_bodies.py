"""API bodies are standard JSON: NaN, Infinity and numbers too large for a float are refused with
a 400 that says so, never stored (PostgreSQL answered 500; SQLite stored them and then answered
JSON no client can read)."""

from __future__ import annotations

import json

import pytest

from app.models import CargoCompany, Setting
from tests.api.test_bad_input_regressions import assert_error, auth, count


@pytest.mark.parametrize(("body", "named"), [
    ('{"value": NaN}', "NaN"),
    ('{"value": Infinity}', "Infinity"),
    ('{"value": [1, -Infinity]}', "-Infinity"),
    ('{"value": {"x": 1e999}}', "1e999"),
])
def test_a_setting_of_nan_or_infinity_is_refused(app, client, body, named):
    admin = auth("erp")
    response = client.put("/api/v1/settings/PARCEL_LIMITS", data=body,
                          headers={**admin, "Content-Type": "application/json"})
    error = assert_error(response, 400, "malformed_json")
    assert named in error["message"]
    assert count(Setting) == 0
    assert json.loads(client.get("/api/v1/settings/PARCEL_LIMITS", headers=admin).get_data(as_text=True))


def test_a_cargo_company_config_with_nan_is_refused(app, client):
    admin = auth("erp")
    response = client.post("/api/v1/cargo-companies", data='{"code": "yk", "name": "Yurtici", "config": {"x": NaN}}',
                           headers={**admin, "Content-Type": "application/json"})
    error = assert_error(response, 400, "malformed_json")
    assert error["message"] == "The body contains NaN, which JSON does not allow; send a number or null."
    assert count(CargoCompany) == 0


def test_ordinary_numbers_still_arrive_as_numbers(app, client):
    admin = auth("erp")
    response = client.put("/api/v1/settings/PARCEL_LIMITS", data='{"value": {"kg": 1.5e3, "boxes": 2}}',
                          headers={**admin, "Content-Type": "application/json"})
    assert response.status_code == 200 and response.get_json()["value"] == {"kg": 1500.0, "boxes": 2}
