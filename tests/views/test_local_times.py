"""Times on screens are in the location's zone (else the brand's TIME_ZONE), with the zone shown,
inside <time datetime="...Z">; a zone name nobody knows is refused in plain words everywhere."""

from __future__ import annotations

from datetime import datetime

import pytest

from app.extensions import db
from app.models import Setting, StockLocation
from app.services.settings import put_setting
from tests import factories
from tests.api.test_bad_input_regressions import assert_error, auth
from tests.services.builders import make_package
from tests.views.test_admin_imports import run_import
from tests.views.test_auth import login as login_as
from tests.views.test_store_queue import login, store_with_staff

EVENING_UTC = datetime(2026, 12, 6, 19, 30)  # 22:30 in Istanbul (+03 all year)


def _package_at(store):
    package = make_package("waiting", location=store)
    package.order.placed_at = EVENING_UTC
    package.created_at = EVENING_UTC
    db.session.commit()
    return package


def test_store_package_page_shows_the_stores_own_time_zone(app, client):
    store = store_with_staff(time_zone="Europe/Istanbul")
    package = _package_at(store)
    login(client)
    body = client.get(f"/store/{store.code}/packages/{package.id}").get_data(as_text=True)
    assert '<time datetime="2026-12-06T19:30:00Z">6 Dec 2026, 22:30 +03</time>' in body


def test_supervisor_package_page_shows_the_packages_location_time(app, client):
    store = factories.location("IST-KDK", time_zone="Europe/Istanbul")
    package = _package_at(store)
    factories.user("sup", "supervisor")
    db.session.commit()
    login_as(client, "sup")
    body = client.get(f"/supervisor/packages/{package.id}/").get_data(as_text=True)
    assert "6 Dec 2026, 22:30 +03" in body and 'datetime="2026-12-06T19:30:00Z"' in body


def test_a_location_without_a_zone_uses_the_brands_and_utc_without_one(app, client):
    store = store_with_staff()  # no time_zone of its own
    package = _package_at(store)
    login(client)
    url = f"/store/{store.code}/packages/{package.id}"
    assert "6 Dec 2026, 19:30 UTC" in client.get(url).get_data(as_text=True)  # nothing set: UTC
    put_setting("TIME_ZONE", "Europe/Berlin")
    assert "6 Dec 2026, 20:30 CET" in client.get(url).get_data(as_text=True)
    store = db.session.get(StockLocation, store.id)
    store.time_zone = "Europe/Istanbul"  # the location's own zone wins over the brand's
    db.session.commit()
    assert "6 Dec 2026, 22:30 +03" in client.get(url).get_data(as_text=True)


def test_admin_location_form_saves_and_refuses_time_zones(app, client):
    factories.user("root", "admin")
    db.session.commit()
    login_as(client, "root")
    form = {"code": "IST-09", "name": "Moda", "type": "store", "priority": "10", "time_zone": "Mars/Olympus",
            "is_packaging_center": "y", "active": "y"}
    response = client.post("/admin/locations/new", data=form)
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "“Mars/Olympus” is not a time zone we know" in body
    assert db.session.query(StockLocation).filter_by(code="IST-09").count() == 0
    assert client.post("/admin/locations/new", data={**form, "time_zone": "Europe/Istanbul"}).status_code == 303
    db.session.rollback()
    assert db.session.query(StockLocation).filter_by(code="IST-09").one().time_zone == "Europe/Istanbul"
    # Emptied: the location follows the brand's zone again.
    assert client.post("/admin/locations/IST-09/edit", data={**form, "time_zone": ""}).status_code == 303
    db.session.rollback()
    assert db.session.query(StockLocation).filter_by(code="IST-09").one().time_zone is None


@pytest.mark.parametrize("method", ["post", "patch"])
def test_api_takes_a_time_zone_and_refuses_an_unknown_one(app, client, method):
    headers = auth("erp")
    if method == "post":
        send = lambda zone: client.post("/api/v1/locations", json={"code": "IST-1", "name": "Moda", "time_zone": zone},  # noqa: E731
                                        headers=headers)
    else:
        factories.location("IST-1")
        db.session.commit()
        send = lambda zone: client.patch("/api/v1/locations/IST-1", json={"time_zone": zone}, headers=headers)  # noqa: E731
    error = assert_error(send("Istanbul"), 422, "validation_failed")
    assert "is not a time zone we know" in error["details"]["time_zone"]
    response = send("Europe/Istanbul")
    assert response.status_code in (200, 201) and response.get_json()["time_zone"] == "Europe/Istanbul"


def test_time_zone_setting_is_validated_by_the_api(app, client):
    error = assert_error(client.put("/api/v1/settings/TIME_ZONE", json={"value": "Asia/Nowhere"},
                                    headers=auth("erp")), 422)
    assert "is not a time zone we know" in str(error["details"])
    db.session.rollback()
    assert db.session.get(Setting, "TIME_ZONE") is None


def test_location_import_reads_the_time_zone_column(app, client):
    factories.user("root", "admin")
    db.session.commit()
    login_as(client, "root")
    csv = (b"code,name,time_zone\nIST-1,Moda,Europe/Istanbul\nIST-2,Bad,Nowhere/Land\nIST-3,Plain,\n")
    run, html = run_import(client, "locations", csv)
    assert (run.created, run.rejected) == (2, 1) and "Nowhere/Land" in html
    zones = dict(db.session.query(StockLocation.code, StockLocation.time_zone))
    assert zones == {"IST-1": "Europe/Istanbul", "IST-3": None}
