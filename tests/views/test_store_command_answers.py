"""The store's command and scan answers are built from the package the command locked (the view
does not load the package first): they must show exactly what the package page shows, the
location of the URL must still hold, and a step that asks first must still change nothing."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from app.extensions import db
from app.models import Package, StockLedger, TransitionLog
from tests import factories
from tests.services.builders import make_package
from tests.views.test_store_queue import HX, login, store_with_staff


def _page_fragment(client, package) -> str:
    return client.get(f"/store/{package.location.code}/packages/{package.id}", headers=HX).get_data(as_text=True)


def _comparable(html: str) -> str:
    """Without the parts that differ between two answers of the same state: the notice line,
    the CSRF token (signed per request) and out-of-band markers."""
    html = re.sub(r'<div id="notice" class="notice-slot"[^>]*>.*?</div>', "", html, flags=re.S)
    html = re.sub(r'name="csrf_token" value="[^"]*"', 'name="csrf_token"', html)
    html = re.sub(r'name="drawn_at" value="[^"]*"', 'name="drawn_at"', html)  # the moment each form was drawn
    return html.replace(' hx-swap-oob="true"', "")


def _log_rows(package) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(TransitionLog).where(
        TransitionLog.entity_type == "package", TransitionLog.entity_id == package.id))


def test_a_buttons_answer_shows_what_a_fresh_page_shows(app, client):
    store = store_with_staff()
    package = make_package("waiting", location=store, items=[("TSHIRT-M", 2), ("CAP", 1)])
    login(client)
    base = f"/store/{store.code}/packages/{package.id}"
    answer = client.post(f"{base}/commands/prepare", data={"version": package.version}, headers=HX)
    assert answer.status_code == 200
    body = answer.get_data(as_text=True)
    assert "Started. Scan each item as you take it." in body
    assert _comparable(body) == _comparable(_page_fragment(client, package))
    db.session.rollback()
    assert db.session.get(Package, package.id).state == "preparing"


def test_a_scans_answer_shows_the_row_and_counters_a_fresh_page_shows(app, client):
    store = store_with_staff()
    package = make_package("preparing", location=store, items=[("TSHIRT-M", 2), ("CAP", 1)])
    item = next(i for i in package.items if i.product.sku == "TSHIRT-M")
    login(client)
    answer = client.post(f"/store/{store.code}/packages/{package.id}/scan",
                         data={"barcode": item.product.barcode_values[0]}, headers=HX)
    assert answer.status_code == 200
    body = _comparable(answer.get_data(as_text=True))
    page = _comparable(_page_fragment(client, package))
    for block_id in (f"item-{item.id}", "pick-progress"):
        pattern = rf'<(article|div) id="{block_id}".*?</\1>'
        scanned, fresh = re.search(pattern, body, re.S), re.search(pattern, page, re.S)
        assert scanned is not None and fresh is not None, block_id
        assert scanned.group(0) == fresh.group(0), block_id
    assert "Picked <strong>1</strong> of <strong>3</strong>" in body
    other = next(i for i in package.items if i.product.sku == "CAP")
    assert f'id="item-{other.id}"' not in body  # only the row the scan changed


def test_a_package_of_my_other_store_is_404_through_this_stores_url_and_nothing_changes(app, client):
    """The view no longer loads the package before the command: the command itself checks that
    the package is at the URL's location, for a person who may work at both stores."""
    here = store_with_staff()
    there = factories.location("ANK-01")
    factories.user("mehmet", "staff", [here, there])
    db.session.commit()
    package = make_package("preparing", location=there, items=[("TSHIRT-M", 2)])
    barcode = package.items[0].product.barcode_values[0]
    ledger_before = db.session.scalar(select(func.count()).select_from(StockLedger))
    logged = _log_rows(package)
    login(client, "mehmet")
    wrong = f"/store/{here.code}/packages/{package.id}"
    for tail, form in (("/scan", {"barcode": barcode}), ("/commands/block", {"reason": "x"}),
                       ("/commands/complete_packing_without_shipment", {"confirm_unscanned": "1"})):
        response = client.post(wrong + tail, data=form, headers=HX)
        assert response.status_code == 404, tail
    assert _log_rows(package) == logged
    assert db.session.scalar(select(func.count()).select_from(StockLedger)) == ledger_before
    package = db.session.get(Package, package.id)
    assert package.state == "preparing" and package.items[0].picked_quantity == 0
    # Through its own store's URL the same person scans it.
    right = client.post(f"/store/{there.code}/packages/{package.id}/scan", data={"barcode": barcode}, headers=HX)
    assert right.status_code == 200 and "data-scan-ok" in right.get_data(as_text=True)


def test_packing_with_units_unscanned_asks_on_the_locked_package_and_changes_nothing(app, client):
    store = store_with_staff()
    package = make_package("preparing", location=store, items=[("TSHIRT-M", 2)])
    login(client)
    logged = _log_rows(package)
    asked = client.post(f"/store/{store.code}/packages/{package.id}/commands/complete_packing_without_shipment",
                        data={"version": package.version}, headers=HX)
    body = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "Only 0 of 2 items were scanned. Pack anyway?" in body
    assert _log_rows(package) == logged
    assert db.session.get(Package, package.id).state == "preparing"
    confirmed = client.post(f"/store/{store.code}/packages/{package.id}/commands/complete_packing_without_shipment",
                            data={"version": package.version, "confirm_unscanned": "1"}, headers=HX)
    assert confirmed.status_code == 200
    db.session.rollback()
    assert db.session.get(Package, package.id).state == "packed"
