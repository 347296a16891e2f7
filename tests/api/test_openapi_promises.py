"""What schemathesis found where the OpenAPI document and the server disagreed, one test each: the
document now says what the server does, and the server refuses what the document rules out."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.models import Order, StockLocation
from tests import factories
from tests.api.test_bad_input_regressions import assert_error, auth, count
from tests.api.test_openapi import conforms, request_schema
from tests.api.test_orders_api import ORDER, master_data
from tests.api.test_packages_api import make_package, two_stores


def document(client) -> dict:
    return client.get("/api/openapi.json").get_json()


def operation(doc: dict, path: str, method: str) -> dict:
    return doc["paths"][path][method]


def parameter(doc: dict, path: str, method: str, name: str) -> dict:
    return next(p for p in operation(doc, path, method)["parameters"] if p["name"] == name)


def test_a_405_names_the_methods_the_url_takes(app, client):
    api = client.delete("/api/v1/orders", headers=auth("erp"))
    assert api.status_code == 405
    assert set(api.headers["Allow"].split(", ")) >= {"GET", "POST"}
    page = client.delete("/login")
    assert page.status_code == 405 and "POST" in page.headers["Allow"]


def test_deleting_answers_204_as_documented(app, client):
    doc = document(client)
    for path in ("/api/v1/scenarios/{scenario_id}", "/api/v1/scenarios/{scenario_id}/rules/{rule_id}",
                 "/api/v1/webhooks/{subscription_id}"):
        responses = operation(doc, path, "delete")["responses"]
        assert "204" in responses and "content" not in responses["204"] and "200" not in responses


def test_a_scenarios_rules_are_documented_as_the_array_they_are(app, client):
    schema = operation(document(client), "/api/v1/scenarios/{scenario_id}/rules", "get")["responses"]["200"]
    assert schema["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/RuleList"}
    assert document(client)["components"]["schemas"]["RuleList"]["type"] == "array"


def test_labels_are_documented_as_pdf_or_zpl_and_other_formats_are_refused(app, client):
    doc = document(client)
    label = operation(doc, "/api/v1/packages/{package_id}/label", "get")
    assert set(label["responses"]["200"]["content"]) == {"application/pdf", "text/plain"}
    assert parameter(doc, "/api/v1/packages/{package_id}/label", "get", "format")["schema"]["enum"] == ["pdf", "zpl"]
    store, _other, shirt = two_stores()
    package = make_package(store, shirt, "WEB-1")
    response = client.get(f"/api/v1/packages/{package.id}/label?format=PDF", headers=auth("erp"))
    assert_error(response, 422, "validation_failed")


def test_every_operation_documents_401_and_me_is_an_operation(app, client):
    doc = document(client)
    for path, operations in doc["paths"].items():
        for method, spec in operations.items():
            assert "401" in spec["responses"] and "400" in spec["responses"], f"{method} {path}"
    me = operation(doc, "/api/v1/me", "get")["responses"]["200"]["content"]["application/json"]["schema"]
    assert me == {"$ref": "#/components/schemas/MeOut"}


def test_page_limits_are_documented_and_a_page_given_twice_or_empty_is_refused(app, client):
    doc = document(client)
    assert parameter(doc, "/api/v1/orders", "get", "page")["schema"]["maximum"] == 1_000_000
    assert parameter(doc, "/api/v1/orders", "get", "page_size")["schema"]["maximum"] == 200
    admin = auth("erp")
    twice = client.get("/api/v1/orders?page_size=10&page_size=20", headers=admin)
    assert "page_size" in assert_error(twice, 422, "validation_failed")["details"]
    assert_error(client.get("/api/v1/orders?page=", headers=admin), 422, "validation_failed")
    assert client.get("/api/v1/orders?status=new&status=planned", headers=admin).status_code == 200  # repeatable


@pytest.mark.parametrize("bound", ["placed_after", "placed_before"])
def test_an_empty_date_filter_is_refused(app, client, bound):
    error = assert_error(client.get(f"/api/v1/orders?{bound}=", headers=auth("erp")), 422, "validation_failed")
    assert bound in error["details"]


def test_availability_documents_its_required_sku(app, client):
    sku = parameter(document(client), "/api/v1/stock/availability", "get", "sku")
    assert sku["required"] is True and sku["schema"]["minItems"] == 1


def test_idempotency_keys_are_printable_ascii_as_documented(app, client):
    key = parameter(document(client), "/api/v1/locations", "post", "Idempotency-Key")["schema"]
    assert key["maxLength"] == 200
    body = {"code": "A-1", "name": "Store A"}
    refused = client.post("/api/v1/locations", json=body, headers={**auth("erp"), "Idempotency-Key": "clé"})
    assert_error(refused, 400, "invalid_idempotency_key")
    assert count(StockLocation) == 0


def test_if_match_with_a_version_that_is_not_current_is_stale_however_large(app, client):
    store, _other, shirt = two_stores()
    package = make_package(store, shirt, "WEB-1")
    response = client.post(f"/api/v1/packages/{package.id}/commands/prepare", json={},
                           headers={**auth("erp"), "If-Match": '"99999999999"'})
    assert_error(response, 409)


def test_a_whole_number_written_with_a_point_is_an_integer_as_json_schema_says(app, client):
    master_data()
    admin = auth("boss")
    body = {**ORDER, "items": [{**ORDER["items"][0], "quantity": 2.0}]}
    assert client.post("/api/v1/orders", json=body, headers=admin).status_code == 201
    assert db.session.get(Order, 1).items[0].quantity == 2


def test_patch_fields_that_may_not_be_null_are_documented_without_null(app, client):
    doc = document(client)
    patch = doc["components"]["schemas"]["LocationPatch"]["properties"]
    assert "anyOf" not in patch["name"] and "default" not in patch["name"]
    assert {"type": "null"} in patch["city"]["anyOf"]
    webhook = doc["components"]["schemas"]["WebhookUpdate"]["properties"]
    assert webhook["url"]["type"] == "string" and "default" not in webhook["url"]
    factories.location("A-1")
    response = client.patch("/api/v1/locations/A-1", json={"name": None}, headers=auth("erp"))
    assert "name" in assert_error(response, 422, "validation_failed")["details"]


def test_a_name_of_only_spaces_is_refused_by_the_document_too(app, client):
    doc = document(client)
    schema = request_schema(doc, "/api/v1/locations")
    admin = auth("erp")
    for n, (name, accepted) in enumerate((("\f", False), ("\u3000 ", False), (" Store ", True))):
        body = {"code": f"A-{n}", "name": name}
        status = client.post("/api/v1/locations", json=body, headers=admin).status_code
        assert (status == 201) == accepted == conforms(schema, body, doc), name


@pytest.mark.parametrize(("weight", "accepted"), [(0.07, True), ("12.5", True), ("1e3", False), (1e-91, False),
                                                  (10_000_000, False), ("-1", False)])
def test_product_weights_are_accepted_exactly_as_documented(app, client, weight, accepted):
    doc = document(client)
    body = {"sku": "S-1", "name": "Shirt", "weight_kg": weight}
    status = client.post("/api/v1/products", json=body, headers=auth("erp")).status_code
    assert status in (201, 422)
    assert (status == 201) == accepted
    number, text = doc["components"]["schemas"]["ProductIn"]["properties"]["weight_kg"]["anyOf"][:2]
    assert number["multipleOf"] == 0.001 and number["maximum"] == 9999999.999
    assert text["pattern"] == r"^[0-9]{1,7}(\.[0-9]{1,3})?$"


def test_the_dry_run_documents_both_bodies_it_takes(app, client):
    schema = request_schema(document(client), "/api/v1/planning/dry-run")
    assert schema == {"$ref": "#/components/schemas/DryRunBody"}
    body = document(client)["components"]["schemas"]["DryRunBody"]
    assert {"$ref": "#/components/schemas/OrderIn"} in body["anyOf"]


def test_get_on_the_bulk_path_is_the_product_whose_sku_is_bulk(app, client):
    doc = document(client)
    assert set(doc["paths"]["/api/v1/products/bulk"]) == {"get", "patch", "post"}
    factories.product("bulk")
    db.session.commit()
    assert client.get("/api/v1/products/bulk", headers=auth("erp")).get_json()["sku"] == "bulk"
