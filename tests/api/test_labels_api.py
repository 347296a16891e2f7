"""GET /api/v1/packages/{id}/label and /packing-slip: printable documents, scoped like packages."""

from __future__ import annotations

import io

from pypdf import PdfReader

from app.extensions import db
from app.models import Package, Shipment
from app.services import shipments
from tests import factories
from tests.services import builders
from tests.tasks.test_carriers_jobs import build_shipment


def auth(username: str) -> dict[str, str]:
    return {"Authorization": f"Token {factories.api_token(username)}"}


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def labelled_package(app) -> tuple[int, str, int]:
    """(package id, tracking number, location id) of a package whose demo label is ready."""
    shipment = build_shipment()
    shipment_id = shipment.id
    assert shipments.request_label(shipment_id) == "label_ready"
    db.session.expire_all()
    shipment = db.session.get(Shipment, shipment_id)
    return shipment.package_id, shipment.tracking_number, shipment.package.location_id


def test_label_pdf_opens_and_shows_the_tracking_number(app, client):
    package_id, tracking, _ = labelled_package(app)
    factories.user("boss", "supervisor")
    db.session.commit()
    response = client.get(f"/api/v1/packages/{package_id}/label?format=pdf", headers=auth("boss"))
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "private, no-store"
    assert tracking in pdf_text(response.data)
    assert client.get(f"/api/v1/packages/{package_id}/label", headers=auth("boss")).data == response.data


def test_label_zpl_is_one_label_from_start_to_end(app, client):
    package_id, tracking, _ = labelled_package(app)
    factories.user("boss", "admin")
    db.session.commit()
    response = client.get(f"/api/v1/packages/{package_id}/label?format=zpl", headers=auth("boss"))
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=\"label-WEB-")
    zpl = response.get_data(as_text=True)
    assert zpl.startswith("^XA") and zpl.rstrip().endswith("^XZ") and zpl.count("^XA") == 1
    assert f"^FD{tracking}^FS" in zpl


def test_label_of_a_package_without_shipment_is_404_with_an_explanation(app, client):
    shipment = build_shipment()
    package_id = shipment.package_id
    db.session.delete(shipment)
    factories.user("boss", "admin")
    db.session.commit()
    response = client.get(f"/api/v1/packages/{package_id}/label", headers=auth("boss"))
    assert response.status_code == 404
    error = response.get_json()["error"]
    assert error["code"] == "no_shipment"
    assert "has no shipment yet" in error["message"] and "complete packing" in error["message"]


def test_label_not_issued_yet_or_refused_by_the_carrier_is_404_saying_why(app, client):
    shipment = build_shipment()
    shipment_id, package_id = shipment.id, shipment.package_id
    factories.user("boss", "admin")
    db.session.commit()
    pending = client.get(f"/api/v1/packages/{package_id}/label", headers=auth("boss"))
    assert pending.status_code == 404
    assert pending.get_json()["error"]["code"] == "no_label"
    assert "not ready yet" in pending.get_json()["error"]["message"]

    shipments.label_failed(shipment_id, "address rejected: postcode missing", "system:carrier")
    failed = client.get(f"/api/v1/packages/{package_id}/label", headers=auth("boss")).get_json()["error"]
    assert failed["code"] == "no_label" and failed["details"] == {"status": "failed"}
    assert "address rejected: postcode missing" in failed["message"] and "refresh_label" in failed["message"]


def test_label_of_a_shipment_entered_by_hand_is_404_pointing_to_refresh_label(app, client):
    package_id = builders.make_package("shipped").id  # shipped without integration: no label
    factories.user("boss", "admin")
    db.session.commit()
    error = client.get(f"/api/v1/packages/{package_id}/label", headers=auth("boss")).get_json()["error"]
    assert error["code"] == "no_label" and error["details"] == {"status": "in_transit"}
    assert "entered by hand" in error["message"] and "refresh_label" in error["message"]


def test_unknown_label_format_is_422(app, client):
    package_id, _, _ = labelled_package(app)
    factories.user("boss", "admin")
    db.session.commit()
    response = client.get(f"/api/v1/packages/{package_id}/label?format=png", headers=auth("boss"))
    assert response.status_code == 422
    assert response.get_json()["error"]["details"] == {"format": "Must be pdf or zpl."}


def test_staff_of_another_store_get_404_for_label_and_slip_and_own_staff_get_them(app, client):
    package_id, _, location_id = labelled_package(app)
    other = factories.location("OTHER")
    own = db.session.get(Package, package_id).location
    factories.user("stranger", "staff", [other])
    factories.user("insider", "staff", [own])
    db.session.commit()
    for path in (f"/api/v1/packages/{package_id}/label", f"/api/v1/packages/{package_id}/packing-slip"):
        hidden = client.get(path, headers=auth("stranger"))
        assert hidden.status_code == 404
        assert hidden.get_json()["error"]["code"] == "not_found"
        assert client.get(path, headers=auth("insider")).status_code == 200
    missing = client.get("/api/v1/packages/999999/label", headers=auth("insider"))
    assert missing.get_json() == hidden.get_json()  # no hint that the package exists elsewhere


def test_packing_slip_lists_the_package_items(app, client):
    shipment = build_shipment()
    package = shipment.package
    package_id, number, sku = package.id, package.number, package.items[0].product.sku
    factories.user("boss", "admin")
    db.session.commit()
    response = client.get(f"/api/v1/packages/{package_id}/packing-slip", headers=auth("boss"))
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    text = pdf_text(response.data)
    assert number in text and sku in text and "T-shirt M" in text and "Ayşe Yılmaz" in text


def test_documents_need_a_token(app, client):
    package_id, _, _ = labelled_package(app)
    assert client.get(f"/api/v1/packages/{package_id}/label").status_code == 401
    assert client.get(f"/api/v1/packages/{package_id}/packing-slip").status_code == 401
