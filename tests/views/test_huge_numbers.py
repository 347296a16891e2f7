"""Numbers typed into screen forms that no service can hold: thousands of digits (Python's int()
refuses over 4,300 of them), digits beyond the database's integer, or digits that are not ASCII
("²" passes str.isdigit() but not int()) are a clear 4xx with the form's message, never a 500,
and change nothing."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Package, Product, Requisition, RequisitionLine, StockLocation, Transfer, User
from app.models.webhooks import WebhookSubscription
from app.services.demo import ADMIN_PASSWORD, SUPERVISOR_PASSWORD, seed_demo
from app.services.typed_numbers import show_decimal
from app.views import number_or_text, whole_number
from tests.services.builders import make_package, make_transfer
from tests.services.inbound.helpers import purchase_order, supplier
from tests.views.test_admin_webhooks import sign_in
from tests.views.test_auth import login as sign_in_as
from tests.views.test_store_packages import url
from tests.views.test_store_queue import HX, login, store_with_staff
from tests.views.test_store_transfers import two_stores

HUGE = ("9" * 5000, "9" * 20, "2147483648", "²", "١٢")


def test_whole_number_takes_only_small_ascii_digits():
    assert whole_number("42") == 42 and whole_number("0") == 0
    for raw in (*HUGE, "", "-1", "1.5", " 1"):
        assert whole_number(raw) is None, raw
    assert number_or_text("7") == 7 and number_or_text("9" * 5000) == "9" * 5000


@pytest.mark.parametrize("raw", HUGE)
def test_a_huge_box_count_on_packing_is_refused_on_the_form(app, client, raw):
    store = store_with_staff()
    package = make_package("preparing", location=store, items=[("TSHIRT-M", 1)])
    login(client)
    response = client.post(url(package, "/commands/complete_packing"),
                           data={"version": package.version, "boxes": raw, "weight_kg": "1",
                                 "confirm_unscanned": "1"}, headers=HX)
    assert response.status_code == 422, response.data[:300]
    db.session.rollback()
    assert db.session.get(Package, package.id).state == "preparing"


@pytest.mark.parametrize("raw", HUGE)
def test_a_huge_missing_count_on_a_package_is_refused(app, client, raw):
    store = store_with_staff()
    package = make_package("preparing", location=store, items=[("TSHIRT-M", 3)])
    item = package.items[0]
    login(client)
    response = client.post(url(package, "/missing"), data={"version": package.version, f"quantity-{item.id}": raw,
                                                           f"reason-{item.id}": "defective"}, headers=HX)
    assert response.status_code == 422, response.data[:300]
    assert b"notice-error" in response.data
    db.session.rollback()
    assert db.session.get(Package, package.id).items[0].quantity == 3


@pytest.mark.parametrize("raw", HUGE)
def test_a_huge_missing_count_on_a_transfer_is_refused(app, client, raw):
    sender, receiver = two_stores()
    transfer = make_transfer(items=[("TSHIRT-M", 2)], source=sender, destination=receiver)
    item, version = transfer.items[0], transfer.version
    login(client, "sam")
    response = client.post(f"/store/IST-01/transfers/{transfer.id}/commands/report_missing",
                           data={"version": version, f"quantity-{item.id}": raw}, headers=HX)
    assert response.status_code == 422, response.data[:300]
    db.session.rollback()
    assert db.session.get(Transfer, transfer.id).version == version


@pytest.mark.parametrize("raw", HUGE)
def test_a_huge_attempt_count_on_a_webhook_is_refused(app, client, raw):
    sign_in(client)
    response = client.post("/admin/webhooks/", data={"url": "https://93.184.215.14/h", "events": ["*"],
                                                     "secret": "a-secret-of-enough-length", "strategy": "exponential",
                                                     "max_attempts": raw}, headers=HX)
    assert response.status_code == 422, response.data[:300]
    assert "between" in response.get_data(as_text=True) or "whole number" in response.get_data(as_text=True)
    assert db.session.scalar(select(WebhookSubscription)) is None


def test_a_version_field_with_thousands_of_digits_is_no_500(app, client):
    store = store_with_staff()
    package = make_package("preparing", location=store, items=[("TSHIRT-M", 1)])
    login(client)
    response = client.post(url(package, "/commands/refuse"), data={"version": "9" * 5000, "reason": "x"}, headers=HX)
    assert response.status_code < 500


# --- whole numbers and money amounts beyond their database columns (the fuzzer's 500s) -----------

NINES = "9" * 400
BEYOND_INT = (NINES, "-" + NINES, "2147483648", "-2147483649")
ADMIN_INTEGER_FIELDS = [
    ("/admin/stock/adjust", {"location": "ANK-KZL", "sku": "TSHIRT-BLA-S", "reason": "count", "note": "x"}, "quantity"),
    *[(url, {}, field) for url in ("/admin/locations/new", "/admin/locations/IST-BSK/edit")
      for field in ("priority", "max_quota", "target_packaging_minutes")],
    *[(url, {}, "priority") for url in ("/admin/denial_reasons/new", "/admin/denial_reasons/damaged/edit")],
]


def _demo_signed_in(client, role: str, language: str | None = None):
    seed_demo()
    supplier("ACME")
    db.session.scalar(select(User).where(User.username == role)).language = language
    db.session.commit()
    password = ADMIN_PASSWORD if role == "admin" else SUPERVISOR_PASSWORD
    assert sign_in_as(client, role, password).status_code in (302, 303)


def _rows() -> list[tuple]:
    """Every row of every table, to prove a refused form changed nothing."""
    db.session.rollback()
    return [tuple(row) for table in db.metadata.sorted_tables
            for row in db.session.execute(select(table).order_by(*table.primary_key.columns))]


def _filled_form(client, url: str) -> dict[str, str]:
    """The form's fields as the page draws them (so an edit changes only the field under test)."""
    html = client.get(url).get_data(as_text=True)
    fields = {name: value for name, value in re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', html)}
    for name in re.findall(r'<input[^>]*type="checkbox"[^>]*name="([^"]+)"[^>]*checked', html):
        fields[name] = "y"
    for name, body in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', html, re.S):
        chosen = re.search(r'<option[^>]*value="([^"]*)"[^>]*selected', body) or re.search(r'value="([^"]*)"', body)
        fields[name] = chosen.group(1) if chosen else ""
    fields.pop("csrf_token", None)
    return fields


@pytest.mark.parametrize("raw", BEYOND_INT)
@pytest.mark.parametrize(("url", "data", "field"), ADMIN_INTEGER_FIELDS)
def test_a_whole_number_beyond_the_database_is_refused_at_its_admin_field(app, client, url, data, field, raw):
    _demo_signed_in(client, "admin")
    form = {**_filled_form(client, url), **data, field: raw}
    if url.endswith("/new"):
        form.update(code="NEW-1", name="New", title="New")
    before = _rows()
    response = client.post(url, data=form)
    text = response.get_data(as_text=True)
    assert response.status_code == 422, text[:500]
    assert "Enter a whole number" in text and "2,147,483,647" in text, text
    assert _rows() == before


@pytest.mark.parametrize("raw", (*BEYOND_INT, "9" * 5000))
def test_a_huge_number_setting_is_refused_in_the_settings_own_words(app, client, raw):
    _demo_signed_in(client, "admin")
    before = _rows()
    response = client.post("/admin/settings/REPLAN_INTERVAL_MINUTES", data={"value": raw})
    text = response.get_data(as_text=True)
    assert response.status_code == 422, text[:500]
    assert any(words in text for words in ("every 1 to 10080 minutes", "whole number above 0", "Enter a whole number"))
    assert _rows() == before


def _draft_purchase_order():
    location = db.session.scalar(select(StockLocation).where(StockLocation.code == "ANK-KZL"))
    product = db.session.scalar(select(Product).where(Product.sku == "TSHIRT-BLA-S"))
    return purchase_order(location, [(product, 3)], state="draft", number="PO-HUGE")


def _open_requisition():
    location = db.session.scalar(select(StockLocation).where(StockLocation.code == "ANK-KZL"))
    product = db.session.scalar(select(Product).where(Product.sku == "TSHIRT-BLA-S"))
    requisition = Requisition(number="REQ-HUGE", location_id=location.id, state="open", created_by="user:boss",
                              lines=[RequisitionLine(product_id=product.id, quantity=2, reason="manual")])
    db.session.add(requisition)
    db.session.commit()
    return requisition


MONEY_BEYOND_THE_COLUMN = ("99999999999999999999", "9223372036854775808", "10000000000", "1" + "0" * 39)
PO_LINE = {"supplier": "ACME", "destination": "ANK-KZL", "expected_at": "2026-03-01", "sku-0": "TSHIRT-BLA-S",
           "quantity-0": "1"}


@pytest.mark.parametrize("raw", MONEY_BEYOND_THE_COLUMN)
@pytest.mark.parametrize("form", ["new purchase order", "purchase order edit", "quote"])
def test_a_money_amount_beyond_its_column_is_refused_at_its_field(app, client, form, raw):
    _demo_signed_in(client, "supervisor")
    if form == "new purchase order":
        url, data, field = "/supervisor/purchase-orders/new", {**PO_LINE, "number": "fuzz", "unit_cost-0": raw}, "unit_cost"
    elif form == "purchase order edit":
        po = _draft_purchase_order()
        url, data, field = (f"/supervisor/purchase-orders/{po.id}/edit",
                            {**PO_LINE, "version": str(po.version), "unit_cost-0": raw}, "unit_cost")
    else:
        url = f"/supervisor/requisitions/{_open_requisition().id}/quotes"
        data, field = ({"supplier": "ACME", "lead_time_days": "1", "sku-0": "TSHIRT-BLA-S", "quantity-0": "1",
                        "unit_price-0": raw}, "unit_price")
    before = _rows()
    response = client.post(url, data=data)
    text = response.get_data(as_text=True)
    assert response.status_code == 422, text[:500]
    assert f'<li data-field="lines.0.{field}">' in text and "Enter 9999999999.99 or less." in text, text
    assert f'name="{field}-0"' in text  # the row is drawn again with the number in it, to correct it
    assert _rows() == before


def test_showing_a_number_never_raises(app):
    with app.test_request_context():
        assert show_decimal(Decimal("99999999999999999999"), 2) == "99999999999999999999.00"
        assert show_decimal(Decimal("9" * 60 + ".5"), 2) == "9" * 60 + ".50"
        assert show_decimal(Decimal("-1E+40"), 0) == "-1" + "0" * 40


QUANTITY_BEYOND_THE_COLUMN = ("2147483648", "9223372036854775808", NINES)


@pytest.mark.parametrize("raw", QUANTITY_BEYOND_THE_COLUMN)
@pytest.mark.parametrize("form", ["requisition line", "new purchase order", "purchase order edit", "quote",
                                  "inbound shipment", "reorder point"])
def test_a_quantity_beyond_its_column_is_refused_at_its_field(app, client, form, raw):
    _demo_signed_in(client, "supervisor")
    if form == "requisition line":
        url, data = f"/supervisor/requisitions/{_open_requisition().id}/lines", {"sku": "TSHIRT-BLA-S", "quantity": raw}
        field = "add.quantity"
    elif form == "new purchase order":
        url, data, field = "/supervisor/purchase-orders/new", {**PO_LINE, "number": "fuzz", "quantity-0": raw}, \
            "lines.0.quantity"
    elif form == "purchase order edit":
        po = _draft_purchase_order()
        url, data = f"/supervisor/purchase-orders/{po.id}/edit", {**PO_LINE, "version": str(po.version), "quantity-0": raw}
        field = "lines.0.quantity"
    elif form == "quote":
        url = f"/supervisor/requisitions/{_open_requisition().id}/quotes"
        data = {"supplier": "ACME", "lead_time_days": raw, "sku-0": "TSHIRT-BLA-S", "quantity-0": raw}
        field = "lines.0.quantity"
    elif form == "inbound shipment":
        po = _draft_purchase_order()
        url, data = "/supervisor/inbound-shipments/new", {"number": "ASN-1", "purchase_order-0": po.number,
                                                          "sku-0": "TSHIRT-BLA-S", "quantity-0": raw}
        field = "lines.0.quantity"
    else:
        url, data = "/supervisor/reorder-points/", {"location": "ANK-KZL", "sku": "TSHIRT-BLA-S",
                                                    "reorder_point": raw, "reorder_quantity": raw}
        field = "reorder_quantity"
    before = _rows()
    response = client.post(url, data=data)
    text = response.get_data(as_text=True)
    assert response.status_code == 422, text[:500]
    assert f'<li data-field="{field}">' in text, text
    assert "Enter 1000000 or less." in text or "Enter a whole number" in text, text
    assert _rows() == before


def test_on_a_turkish_page_the_refusals_are_in_turkish_with_its_digit_groups(app, client):
    _demo_signed_in(client, "supervisor", "tr")
    added = client.post(f"/supervisor/requisitions/{_open_requisition().id}/lines",
                        data={"sku": "TSHIRT-BLA-S", "quantity": NINES})
    assert added.status_code == 422
    assert "1 ile 1.000.000 arasında bir tam sayı girin." in added.get_data(as_text=True)
    priced = client.post("/supervisor/purchase-orders/new",
                         data={**PO_LINE, "number": "fuzz", "unit_cost-0": "99999999999999999999"})
    assert priced.status_code == 422
    assert 'value="99999999999999999999,00"' in priced.get_data(as_text=True)


def test_on_a_turkish_admin_page_a_huge_count_is_refused_in_turkish(app, client):
    _demo_signed_in(client, "admin", "tr")
    response = client.post("/admin/stock/adjust", data={"location": "ANK-KZL", "sku": "TSHIRT-BLA-S",
                                                        "reason": "count", "quantity": NINES})
    assert response.status_code == 422
    assert "0 ile 2.147.483.647 arasında bir tam sayı girin." in response.get_data(as_text=True)
