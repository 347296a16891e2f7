"""Master data over the API: locations, channels, products (+ bulk), cargo companies, denial reasons."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import CargoCompany, Channel, DenialReason, OutboxEvent, Product, ProductBarcode, StockLocation
from tests import factories
from tests.api.helpers import auth, count

LOCATION = {"code": "IST-01", "name": "Kadikoy Store", "type": "store", "city": "Istanbul", "district": "Kadikoy",
            "latitude": 40.99, "longitude": 29.03, "priority": 10, "is_packaging_center": True,
            "is_transfer_source": True, "is_pickup_location": True, "max_quota": 50,
            "target_packaging_minutes": 120, "active": True, "tags": []}


def test_admin_creates_a_location_and_the_created_event_carries_it(app, client):
    admin = auth("erp")
    response = client.post("/api/v1/locations", json=LOCATION, headers=admin)
    assert response.status_code == 201
    assert response.get_json() == {**LOCATION, "address": None, "time_zone": None}
    event = db.session.scalar(select(OutboxEvent))
    assert event.type == "stock_location.created"
    assert event.data["code"] == "IST-01" and event.data["max_quota"] == 50
    assert client.get("/api/v1/locations/IST-01", headers=admin).get_json()["name"] == "Kadikoy Store"


def test_patching_a_location_changes_only_sent_fields_and_reports_old_values(app, client):
    admin = auth("erp")
    client.post("/api/v1/locations", json=LOCATION, headers=admin)
    response = client.patch("/api/v1/locations/IST-01", json={"priority": 5, "max_quota": None}, headers=admin)
    assert response.status_code == 200
    body = response.get_json()
    assert body["priority"] == 5 and body["max_quota"] is None and body["name"] == "Kadikoy Store"
    event = db.session.scalars(select(OutboxEvent).order_by(OutboxEvent.id)).all()[-1]
    assert event.type == "stock_location.updated"
    assert event.previous == {"priority": 10, "max_quota": 50}
    # Nothing changed: no event.
    client.patch("/api/v1/locations/IST-01", json={"priority": 5}, headers=admin)
    assert count(OutboxEvent) == 2


def test_invalid_location_gets_422_per_field_and_writes_nothing(app, client):
    admin = auth("erp")
    bad = {**LOCATION, "type": "shop", "latitude": 123, "max_quota": -1, "colour": "red"}
    response = client.post("/api/v1/locations", json=bad, headers=admin)
    assert response.status_code == 422
    details = response.get_json()["error"]["details"]
    assert set(details) == {"type", "latitude", "max_quota", "colour"}
    assert count(StockLocation) == 0 and count(OutboxEvent) == 0


def test_null_for_a_required_field_in_a_patch_is_refused(app, client):
    admin = auth("erp")
    client.post("/api/v1/locations", json=LOCATION, headers=admin)
    response = client.patch("/api/v1/locations/IST-01", json={"name": None}, headers=admin)
    assert response.status_code == 422
    assert "name" in response.get_json()["error"]["details"]


def test_duplicate_codes_get_409(app, client):
    admin = auth("erp")
    assert client.post("/api/v1/locations", json=LOCATION, headers=admin).status_code == 201
    response = client.post("/api/v1/locations", json=LOCATION, headers=admin)
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "duplicate"
    assert client.post("/api/v1/channels", json={"code": "web", "name": "Web"}, headers=admin).status_code == 201
    assert client.post("/api/v1/channels", json={"code": "web", "name": "Web"}, headers=admin).status_code == 409


def test_malformed_json_and_wrong_content_type_get_400(app, client):
    admin = auth("erp")
    response = client.post("/api/v1/channels", data="{not json", headers={**admin, "Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "malformed_json"
    response = client.post("/api/v1/channels", data="code=web", headers={**admin, "Content-Type": "text/plain"})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "unsupported_content_type"
    assert count(Channel) == 0


def test_staff_and_supervisors_cannot_write_master_data_but_supervisors_read_it(app, client):
    store = factories.location("IST-KDK")
    staff = auth("ayse", "staff", [store])
    supervisor = auth("sup", "supervisor")
    for headers in (staff, supervisor):
        assert client.post("/api/v1/locations", json=LOCATION, headers=headers).status_code == 403
        assert client.post("/api/v1/channels", json={"code": "web", "name": "Web"}, headers=headers).status_code == 403
        assert client.patch("/api/v1/locations/IST-KDK", json={"priority": 1}, headers=headers).status_code == 403
        assert client.post("/api/v1/products/bulk", json=[{"sku": "A", "name": "A"}], headers=headers).status_code == 403
    listing = client.get("/api/v1/locations", headers=supervisor)
    assert listing.status_code == 200 and [r["code"] for r in listing.get_json()["results"]] == ["IST-KDK"]
    assert count(StockLocation) == 1 and count(Channel) == 0 and count(Product) == 0


def test_unknown_codes_get_404(app, client):
    admin = auth("erp")
    for url in ("/api/v1/locations/NOPE", "/api/v1/channels/NOPE", "/api/v1/products/NOPE",
                "/api/v1/cargo-companies/NOPE", "/api/v1/denial-reasons/NOPE"):
        response = client.get(url, headers=admin)
        assert response.status_code == 404, url
        assert response.get_json()["error"]["code"] == "not_found"
    assert client.patch("/api/v1/channels/NOPE", json={"name": "x"}, headers=admin).status_code == 404


def test_channels_cargo_companies_and_denial_reasons_round_trip(app, client):
    admin = auth("erp")
    assert client.post("/api/v1/channels", json={"code": "trendyol", "name": "Trendyol",
                                                 "provides_shipping_label": True}, headers=admin).status_code == 201
    cargo = client.post("/api/v1/cargo-companies", json={"code": "demo", "name": "Demo Cargo", "adapter": "demo",
                                                         "config": {"api_key": "secret"}}, headers=admin)
    assert cargo.status_code == 201
    assert cargo.get_json()["config_keys"] == ["api_key"] and "config" not in cargo.get_json()
    reason = client.post("/api/v1/denial-reasons", json={"code": "damaged", "title": "Item damaged", "active": True},
                         headers=admin)
    assert reason.status_code == 201
    assert client.patch("/api/v1/denial-reasons/damaged", json={"active": False}, headers=admin).get_json()[
        "active"] is False
    assert client.patch("/api/v1/cargo-companies/demo", json={"adapter": "fax"}, headers=admin).status_code == 422
    assert client.get("/api/v1/channels/trendyol", headers=admin).get_json() == {
        "code": "trendyol", "name": "Trendyol", "provides_shipping_label": True, "adapter": "api", "config": {},
        "webhook_url": None}
    db.session.commit()  # a fresh snapshot: on SQLite an open read transaction sees old rows
    assert db.session.scalar(select(CargoCompany.config)) == {"api_key": "secret"}
    assert db.session.scalar(select(DenialReason.active)) is False


def test_products_are_created_and_their_barcodes_replaced(app, client):
    admin = auth("erp")
    body = {"sku": "TSHIRT-M", "name": "T-shirt M", "barcodes": ["8690000000017"], "weight_kg": 0.3}
    response = client.post("/api/v1/products", json=body, headers=admin)
    assert response.status_code == 201
    assert response.get_json() == {**body, "image_url": None}
    patched = client.patch("/api/v1/products/TSHIRT-M", json={"barcodes": ["8690000000017", "8690000000024"]},
                           headers=admin)
    assert patched.get_json()["barcodes"] == ["8690000000017", "8690000000024"]
    taken = client.post("/api/v1/products", json={"sku": "OTHER", "name": "Other", "barcodes": ["8690000000024"]},
                        headers=admin)
    assert taken.status_code == 409 and "barcodes" in taken.get_json()["error"]["details"]
    assert count(Product) == 1 and count(ProductBarcode) == 2


def test_bulk_products_create_and_update_by_sku_all_or_nothing(app, client):
    admin = auth("erp")
    factories.product("A-1", name="Old name")
    db.session.commit()
    rows = [{"sku": "A-1", "name": "New name", "barcodes": ["111"]}, {"sku": "B-1", "name": "B", "barcodes": ["222"]}]
    response = client.post("/api/v1/products/bulk", json=rows, headers=admin)
    assert response.status_code == 200
    assert response.get_json() == {"created": 1, "updated": 1}
    db.session.commit()  # a fresh snapshot: on SQLite an open read transaction sees old rows
    assert db.session.scalar(select(Product.name).where(Product.sku == "A-1")) == "New name"

    bad = [{"sku": "C-1", "name": "C"}, {"sku": "D-1", "name": "", "barcodes": ["333"]},
           {"sku": "E-1", "name": "E", "barcodes": ["333"]}]
    response = client.post("/api/v1/products/bulk", json=bad, headers=admin)
    assert response.status_code == 422
    assert "1.name" in response.get_json()["error"]["details"]
    duplicate_barcode = [{"sku": "C-1", "name": "C", "barcodes": ["333"]}, {"sku": "E-1", "name": "E",
                                                                            "barcodes": ["333"]}]
    response = client.post("/api/v1/products/bulk", json=duplicate_barcode, headers=admin)
    assert response.status_code == 422
    assert response.get_json()["error"]["details"] == {"1.barcodes": "Barcode 333 is also in row 0."}
    assert count(Product) == 2
