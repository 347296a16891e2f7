"""The supervisor's inbound screens as a person uses them (forms, no JavaScript): a purchase
order made, sent, confirmed and closed short; a requisition turned into a quote and the quote
into a purchase order; what is on the way next to the parked demand; staff kept out."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import Product, PurchaseOrder, Requisition
from app.services.inbound.receiving import receive_purchase_order
from app.services.planning import plan_order
from tests import factories
from tests.services.inbound.helpers import SUPERVISOR, purchase_order, supplier
from tests.services.planning.network import order, scenario
from tests.views.test_auth import login


def _setup(client, role: str = "supervisor"):
    wh = factories.location("WH-01", type="warehouse")
    factories.product("TEA", name="Black tea")
    factories.product("MUG", name="Mug")
    supplier()
    factories.user("boss", role)
    db.session.commit()
    login(client, "boss")
    return wh


def test_a_purchase_order_is_made_sent_confirmed_and_closed_short_on_the_screens(app, client):
    _setup(client)
    bad = client.post("/supervisor/purchase-orders/new", data={
        "number": "PO-7", "supplier": "ACME", "destination": "WH-01", "expected_at": "2026-12-20",
        "sku-0": "TEA", "quantity-0": "0", "sku-1": "GHOST", "quantity-1": "2"})
    assert bad.status_code == 422
    assert "Nothing was saved" in bad.get_data(as_text=True)
    assert db.session.scalar(select(PurchaseOrder.id)) is None

    made = client.post("/supervisor/purchase-orders/new", data={
        "number": "PO-7", "supplier": "ACME", "destination": "WH-01", "expected_at": "2026-12-20",
        "sku-0": "TEA", "quantity-0": "10", "unit_cost-0": "2,50", "sku-1": "", "quantity-1": ""})
    assert made.status_code == 303, made.get_data(as_text=True)
    page_url = made.headers["Location"]
    db.session.rollback()  # end the test's read snapshot before looking
    po_id = db.session.scalar(select(PurchaseOrder.id))
    assert str(db.session.get(PurchaseOrder, po_id).lines[0].unit_cost) == "2.50"
    page = client.get(page_url).get_data(as_text=True)
    assert 'data-command="send"' in page and 'data-command="receive"' not in page

    for command in ("send", "confirm"):
        assert client.post(f"/supervisor/purchase-orders/{po_id}/commands/{command}", data={}).status_code == 303
    receive_purchase_order(po_id, [{"sku": "TEA", "quantity": 4}], SUPERVISOR)
    no_reason = client.post(f"/supervisor/purchase-orders/{po_id}/commands/close_short", data={"reason": ""})
    assert no_reason.status_code == 422
    closed = client.post(f"/supervisor/purchase-orders/{po_id}/commands/close_short",
                         data={"reason": "Supplier is out of tea"}, follow_redirects=True)
    assert "Supplier is out of tea" in closed.get_data(as_text=True)
    db.session.rollback()
    assert db.session.get(PurchaseOrder, po_id).state == "closed"
    assert client.post(f"/supervisor/purchase-orders/{po_id}/commands/cancel", data={}).status_code == 409


def test_what_is_on_the_way_is_shown_against_parked_demand(app, client):
    wh = _setup(client)
    scenario(wh, [{}])
    db.session.commit()
    tea = db.session.scalar(select(Product).where(Product.sku == "TEA"))
    plan_order(order([(tea, 3)]).id)
    tea = db.session.scalar(select(Product).where(Product.sku == "TEA"))
    purchase_order(wh, [(tea, 2)], state="confirmed", number="PO-9")

    html = client.get("/supervisor/inbound/").get_data(as_text=True)

    assert 'data-sku="TEA"' in html and "PO-9" in html
    row = html.split('data-sku="TEA"')[1].split("</tr>")[0]
    assert "3 in 1 package(s)" in row and "<strong" in row and ">1</strong>" in row  # 3 wanted, 2 coming


def test_a_requisition_becomes_a_quote_and_a_purchase_order_in_a_few_clicks(app, client):
    _setup(client)
    assert client.post("/supervisor/reorder-points/", data={"location": "WH-01", "sku": "TEA", "reorder_point": "5",
                                                            "reorder_quantity": "20", "supplier": "ACME"}).status_code == 303
    assert client.post("/supervisor/requisitions/propose").status_code == 303
    db.session.rollback()
    requisition = db.session.scalars(select(Requisition)).one()
    page = client.get(f"/supervisor/requisitions/{requisition.id}/").get_data(as_text=True)
    assert 'data-sku="TEA"' in page and 'value="20"' in page

    quoted = client.post(f"/supervisor/requisitions/{requisition.id}/quotes", data={
        "supplier": "ACME", "lead_time_days": "7", "sku-0": "TEA", "quantity-0": "20", "unit_price-0": "3,25"})  # a decimal comma
    assert quoted.status_code == 303
    page = client.get(f"/supervisor/requisitions/{requisition.id}/").get_data(as_text=True)
    quote_id = int(page.split('/supervisor/quotes/')[1].split('/')[0])
    accepted = client.post(f"/supervisor/quotes/{quote_id}/accept")
    assert accepted.status_code == 303 and "/supervisor/purchase-orders/" in accepted.headers["Location"]
    db.session.rollback()
    po = db.session.scalars(select(PurchaseOrder)).one()
    assert (po.state, [(line.product.sku, line.quantity, str(line.unit_cost)) for line in po.lines]) == (
        "draft", [("TEA", 20, "3.25")])


def test_staff_cannot_open_the_inbound_screens(app, client):
    _setup(client, role="staff")
    for url in ("/supervisor/inbound/", "/supervisor/purchase-orders/", "/supervisor/requisitions/"):
        assert client.get(url).status_code in (302, 403)


def test_a_shipment_form_for_a_purchase_order_id_that_is_not_one_is_not_found(app, client):
    _setup(client)
    for raw in ("abc", "1.5", "99999999999999999999", "11111111111111111111"):
        response = client.get("/supervisor/inbound-shipments/new", query_string={"purchase_order": raw})
        assert response.status_code == 404, raw


def test_ids_no_database_can_hold_are_not_found_and_nul_characters_refused_on_the_screens(app, client):
    wh = _setup(client, role="admin")
    factories.user("clerk", "staff", [wh])
    db.session.commit()
    huge = 99_999_999_999  # beyond PostgreSQL's integer
    for url in (f"/supervisor/purchase-orders/{huge}/", f"/supervisor/inbound-shipments/{huge}/",
                f"/supervisor/requisitions/{huge}/", f"/reports/exports/{huge}/", f"/supervisor/orders/{huge}/"):
        assert client.get(url).status_code == 404, url
    assert client.get("/supervisor/inbound/?location=%00").status_code == 400  # tests/views/test_nul_characters.py
    client.post("/logout")
    login(client, "clerk")
    for url in (f"/store/WH-01/receiving/returns/{huge}", f"/store/WH-01/receiving/purchase-orders/{huge}",
                f"/store/WH-01/packages/{huge}"):
        assert client.get(url).status_code == 404, url
    assert client.post(f"/store/WH-01/receiving/returns/{huge}/scan", data={"barcode": "1"}).status_code == 404
    assert client.get("/store/WH-01/returns/new?q=%00").status_code == 400


def test_a_refused_command_is_one_sentence_without_machine_details(app, client):
    """A command the purchase order's state does not allow, or sent from an old page: the page
    says so in words (also in Turkish), never "State: cancelled Allowed commands: [] Version: 1"."""
    wh = _setup(client)
    tea = db.session.scalar(select(Product).where(Product.sku == "TEA"))
    po = purchase_order(wh, [(tea, 3)], state="cancelled")

    def refusal(command: str, version: int) -> str:
        answer = client.post(f"/supervisor/purchase-orders/{po.id}/commands/{command}",
                             data={"version": str(version), "reason": "late"})
        assert answer.status_code == 409
        page = answer.get_data(as_text=True)
        said = page[page.index('data-field="__all__"'):]
        return said[:said.index("</ul>")]

    said = refusal("confirm", po.version)
    assert "That is not possible now (it is cancelled). The buttons show what you can do." in said
    stale = refusal("cancel", po.version + 5)
    assert "The purchase order was changed by someone else; reload it and try again." in stale
    for text in (said, stale):
        assert "Allowed commands" not in text and "Version" not in text and "[]" not in text
    db.session.execute(db.text("UPDATE users SET language = 'tr' WHERE username = 'boss'"))
    db.session.commit()
    assert "Bu şu anda yapılamaz (durumu: iptal edildi)" in refusal("confirm", po.version)


def test_a_taken_number_is_said_at_its_field_and_a_refused_line_without_a_field_name(app, client):
    """A refusal that names a form field (a purchase order number already used) stays at that
    field; one that names none (a line added to a dismissed requisition) is one sentence."""
    wh = _setup(client)
    tea = db.session.scalar(select(Product).where(Product.sku == "TEA"))
    purchase_order(wh, [(tea, 3)], state="draft", number="PO-1")
    taken = client.post("/supervisor/purchase-orders/new", data={
        "number": "PO-1", "supplier": "ACME", "destination": "WH-01", "expected_at": "2026-12-20", "sku-0": "TEA",
        "quantity-0": "2"})
    assert taken.status_code == 422
    page = taken.get_data(as_text=True)
    assert '<li data-field="number"><strong>Number</strong>: Another purchase order already uses this number.' in page

    requisition = Requisition(number="RQ-1", location_id=wh.id, state="dismissed", created_by="user:boss")
    db.session.add(requisition)
    db.session.commit()
    refused = client.post(f"/supervisor/requisitions/{requisition.id}/lines", data={"sku": "TEA", "quantity": "2"})
    assert refused.status_code == 409
    page = refused.get_data(as_text=True)
    said = page[page.index('data-field="__all__">'):]
    assert said.startswith('data-field="__all__">That is not possible now (it is dismissed).'), said[:200]
    assert "<strong>" not in said[:said.index("</li>")]
