"""The OpenAPI document covers every /api/v1 route and its request schemas reject what the API rejects."""

from __future__ import annotations

import re

from app.views.api.openapi import openapi_path
from app.views.api.routing import REGISTRY
from tests import factories
from tests.api.helpers import auth

MY_MODULES = {"catalog", "jobs", "locations", "orders", "packages", "settings", "stock", "transfers"}


def conforms(schema: dict, value, doc: dict) -> bool:
    """A small JSON Schema (2020-12 subset) check: enough for what pydantic emits for our models."""
    if "$ref" in schema:
        return conforms(doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]], value, doc)
    if "anyOf" in schema and not any(conforms(s, value, doc) for s in schema["anyOf"]):
        return False
    if "allOf" in schema and not all(conforms(s, value, doc) for s in schema["allOf"]):
        return False
    types = schema.get("type")
    if types is not None:
        types = types if isinstance(types, list) else [types]
        checks = {"string": lambda v: isinstance(v, str), "boolean": lambda v: isinstance(v, bool),
                  "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
                  "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
                  "object": lambda v: isinstance(v, dict), "array": lambda v: isinstance(v, list),
                  "null": lambda v: v is None}
        if not any(checks[t](value) for t in types):
            return False
    if "enum" in schema and value not in schema["enum"]:
        return False
    if "const" in schema and value != schema["const"]:
        return False
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value < schema.get("minimum", value) or value > schema.get("maximum", value):
            return False
        if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
            return False
    if isinstance(value, str):
        if not schema.get("minLength", 0) <= len(value) <= schema.get("maxLength", len(value)):
            return False
        if "pattern" in schema and not re.search(schema["pattern"], value):
            return False
    if isinstance(value, dict):
        if any(key not in value for key in schema.get("required", [])):
            return False
        properties = schema.get("properties", {})
        for key, item in value.items():
            if key in properties:
                if not conforms(properties[key], item, doc):
                    return False
            elif schema.get("additionalProperties") is False:
                return False
    if isinstance(value, list):
        if not schema.get("minItems", 0) <= len(value) <= schema.get("maxItems", len(value)):
            return False
        if "items" in schema and not all(conforms(schema["items"], item, doc) for item in value):
            return False
    return True


def request_schema(doc: dict, path: str, method: str = "post") -> dict:
    return doc["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]


def test_the_document_is_public_openapi_3_1(app, client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    doc = response.get_json()
    assert doc["openapi"].startswith("3.1")
    assert doc["components"]["securitySchemes"]["token"]["name"] == "Authorization"


def test_every_api_v1_route_appears_in_the_document(app, client):
    doc = client.get("/api/openapi.json").get_json()
    commands = {op.rule: list(op.commands()) for op in REGISTRY if op.commands is not None}
    missing = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        paths = [openapi_path(rule.rule.replace("<command>", c)) for c in commands[rule.rule]] \
            if rule.rule in commands else [openapi_path(rule.rule)]
        for path in paths:
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                if method.lower() not in doc["paths"].get(path, {}):
                    missing.append(f"{method} {path}")
    assert missing == []
    assert "/api/v1/packages/{package_id}/commands/refuse" in doc["paths"]
    assert "/api/v1/transfers/{transfer_id}/commands/dispatch" in doc["paths"]


def test_our_write_routes_document_their_request_schema(app, client):
    doc = client.get("/api/openapi.json").get_json()
    undocumented = []
    for rule in app.url_map.iter_rules():
        module = app.view_functions[rule.endpoint].__module__.rsplit(".", 1)[-1]
        if not rule.rule.startswith("/api/v1/") or module not in MY_MODULES or "<command>" in rule.rule:
            continue
        for method in rule.methods & {"POST", "PUT", "PATCH"}:
            operation = doc["paths"][openapi_path(rule.rule)][method.lower()]
            if rule.endpoint != "api.plan_order" and "requestBody" not in operation:
                undocumented.append(f"{method} {rule.rule}")
            assert "422" in operation["responses"] and "Idempotency-Key" in str(operation["parameters"])
    assert undocumented == []


def test_the_location_schema_rejects_exactly_what_the_endpoint_rejects(app, client):
    admin = auth("erp")
    doc = client.get("/api/openapi.json").get_json()
    schema = request_schema(doc, "/api/v1/locations")
    bodies = [
        {"code": "A-1", "name": "Store A"},
        {"code": "A-2"},
        {"code": "A-3", "name": "Store", "colour": "red"},
        {"code": "A 4", "name": "Store"},
        {"code": "A-5", "name": "Store", "type": "shop"},
        {"code": "A-6", "name": "Store", "max_quota": -1},
        {"code": "A-7", "name": "Store", "latitude": 91},
        {"code": "A-8", "name": "Store", "max_quota": None, "tags": ["x"], "type": "warehouse"},
    ]
    for body in bodies:
        status = client.post("/api/v1/locations", json=body, headers=admin).status_code
        assert status in (201, 422)
        assert conforms(schema, body, doc) == (status == 201), body


def test_the_stock_schema_rejects_exactly_what_the_endpoint_rejects(app, client):
    factories.location("A")
    factories.product("S")
    admin = auth("erp")
    doc = client.get("/api/openapi.json").get_json()
    schema = request_schema(doc, "/api/v1/stock", "put")
    bodies = [[{"location": "A", "sku": "S", "quantity": 1}], [], [{"location": "A", "sku": "S", "quantity": -1}],
              [{"location": "A", "sku": "S"}], {"location": "A", "sku": "S", "quantity": 1},
              [{"location": "A", "sku": "S", "quantity": 2, "note": "x"}]]
    for body in bodies:
        status = client.put("/api/v1/stock", json=body, headers=admin).status_code
        assert conforms(schema, body, doc) == (status == 200), body


def test_command_schemas_come_from_the_command_models(app, client):
    doc = client.get("/api/openapi.json").get_json()
    pick = request_schema(doc, "/api/v1/packages/{package_id}/commands/pick")
    assert doc["paths"]["/api/v1/packages/{package_id}/commands/pick"]["post"]["requestBody"]["required"] is True
    assert not conforms(pick, {"quantity": 1}, doc)
    assert not conforms(pick, {"barcode": "869", "quantity": 0}, doc)
    assert not conforms(pick, {"barcode": "869", "colour": "red"}, doc)
    assert conforms(pick, {"barcode": "869", "quantity": 2}, doc)
    prepare = doc["paths"]["/api/v1/packages/{package_id}/commands/prepare"]["post"]["requestBody"]
    assert prepare["required"] is False


def test_the_pick_command_schema_rejects_exactly_what_the_endpoint_rejects(app, client):
    from tests.api.test_packages_api import make_package, two_stores

    store, _other, shirt = two_stores()
    package_id = make_package(store, shirt, "WEB-1", quantity=5, state="preparing").id
    admin = auth("erp")
    doc = client.get("/api/openapi.json").get_json()
    schema = request_schema(doc, "/api/v1/packages/{package_id}/commands/pick")
    bodies = [{"barcode": "8690000000017"}, {"quantity": 1}, {"barcode": "8690000000017", "quantity": 0},
              {"barcode": "8690000000017", "colour": "red"}, {"barcode": 8690000000017},
              {"barcode": "8690000000017", "quantity": 2}, {"barcode": ""}]
    for body in bodies:
        status = client.post(f"/api/v1/packages/{package_id}/commands/pick", json=body, headers=admin).status_code
        assert status in (200, 422)
        assert conforms(schema, body, doc) == (status == 200), body
