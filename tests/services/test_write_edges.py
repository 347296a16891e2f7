"""Master data and stock have one write path: the API, the admin forms and the imports are only
edges around the same operations (services.records, services.stock_levels), so the same record
meets the same rules everywhere and every stock increase re-plans what waits for it."""

from __future__ import annotations

import re

import pytest
from rq import Queue, SimpleWorker
from sqlalchemy import func, select

from app.extensions import db
from app.models import Order, Product
from app.queues import redis_connection
from app.services.human_input import in_words
from app.services.planning import plan_order
from tests import factories
from tests.services.builders import live_packages, make_order, make_scenario
from tests.views.test_admin_imports import run_import
from tests.views.test_auth import login

EDGES = ("api", "admin_form", "import")


def _api_headers() -> dict[str, str]:
    factories.user("erp", "admin")
    db.session.commit()
    return {"Authorization": f"Token {factories.api_token('erp')}"}


def _signed_in_admin(client):
    factories.user("root", "admin")
    db.session.commit()
    login(client, "root")
    return client


def _form_errors(html: str) -> dict[str, str]:
    """{field: message} as the admin form shows them next to their fields."""
    fields = re.findall(r'id="field-(\w+)">(.*?)</div>', html, re.S)
    return {name: error for name, body in fields
            for error in re.findall(r'<p class="field-error" role="alert">([^<]*)</p>', body)}


def _save_product(edge: str, client, product: dict) -> dict[str, str]:
    """Create `product` through one edge; return the problems it reports per field."""
    if edge == "api":
        response = client.post("/api/v1/products", json=product, headers=_api_headers())
        assert response.status_code in (409, 422)
        return response.get_json()["error"]["details"]
    if edge == "admin_form":
        form = {**product, "barcodes": "\n".join(product.get("barcodes", []))}
        response = _signed_in_admin(client).post("/admin/products/new", data=form, headers={"HX-Request": "true"})
        assert response.status_code == 422
        return _form_errors(response.get_data(as_text=True))
    columns = ("sku", "name", "barcodes", "image_url")
    line = ",".join("|".join(product[c]) if c == "barcodes" else product.get(c, "") for c in columns)
    run, _ = run_import(_signed_in_admin(client), "products", f"{','.join(columns)}\n{line}\n".encode())
    assert (run.status, run.rejected) == ("finished", 1)
    return run.errors[-1]["fields"]


TOO_MANY_BARCODES = [f"86900000001{n:02d}" for n in range(21)]


@pytest.mark.parametrize("edge", EDGES)
@pytest.mark.parametrize(("product", "problems"), [
    ({"sku": "NEW-1", "name": "Mug", "barcodes": ["8690000000001"]},
     {"barcodes": "Already used by another product: 8690000000001 (OLD-1)."}),
    ({"sku": "NEW-1", "name": "Mug", "barcodes": TOO_MANY_BARCODES},
     {"barcodes": "List should have at most 20 items after validation, not 21"}),
], ids=["barcode_of_another_product", "too_many_barcodes"])
def test_a_product_meets_the_same_rules_through_the_api_the_admin_form_and_the_import(app, client, edge, product,
                                                                                      problems):
    factories.product("OLD-1", barcode="8690000000001")
    db.session.commit()
    # The same rule everywhere; people (the form, the import report) read it in plain words.
    expected = problems if edge == "api" else in_words(problems)
    assert _save_product(edge, client, product) == expected
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Product)) == 1


@pytest.mark.parametrize("edge", ("api", "import"))  # the form's own URL field refuses it before
def test_an_image_address_that_is_not_http_is_refused_by_every_edge(app, client, edge):
    product = {"sku": "NEW-1", "name": "Mug", "barcodes": [], "image_url": "ftp://files.example.com/mug.png"}
    assert _save_product(edge, client, product) == {"image_url": "Enter an http(s) address."}


def _raise_stock(edge: str, client, location: str, sku: str, quantity: int) -> None:
    if edge == "api":
        response = client.put("/api/v1/stock", json=[{"location": location, "sku": sku, "quantity": quantity}],
                              headers=_api_headers())
        assert response.get_json() == {"updated": 1, "unchanged": 0}
    elif edge == "admin_form":
        response = _signed_in_admin(client).post("/admin/stock/adjust", data={
            "location": location, "sku": sku, "quantity": str(quantity), "reason": "found"})
        assert response.status_code == 303
    else:
        run, _ = run_import(_signed_in_admin(client), "stock", f"location,sku,quantity\n{location},{sku},{quantity}\n"
                            .encode())
        assert (run.status, run.updated) == ("finished", 1)


@pytest.mark.parametrize("edge", EDGES)
def test_a_stock_increase_through_every_edge_replans_the_order_parked_out_of_stock(app, client, edge):
    warehouse = factories.location("WH", priority=9)
    factories.location("IST-01", priority=1)
    make_scenario(warehouse)
    order_id = make_order([("SHIRT", 1)]).id
    db.session.commit()
    plan_order(order_id)
    assert live_packages(order_id) == [("WH", "out_of_stock", [("SHIRT", 1)])]

    _raise_stock(edge, client, "IST-01", "SHIRT", 2)
    connection = redis_connection()
    SimpleWorker([Queue("planning", connection=connection)], connection=connection).work(burst=True)

    assert live_packages(order_id) == [("IST-01", "waiting", [("SHIRT", 1)])]
    assert db.session.get(Order, order_id).status == "planned"
