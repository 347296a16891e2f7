"""Manual planning on the supervisor screen can split one line over locations; mistakes are told
in plain words next to the item, and nothing is written until the plan adds up."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import Package
from tests import factories
from tests.services.builders import get_product, make_package, row_counts, set_stock, stock_of
from tests.views.test_auth import login

HX = {"HX-Request": "true"}


def setup(client):
    """An out-of-stock package of 3 shirts; IST-A and IST-B hold 2 shirts each."""
    home = factories.location("WH-01")
    a, b = factories.location("IST-A"), factories.location("IST-B")
    package = make_package("out_of_stock", location=home, items=[("SHIRT", 3)], spare=0)
    set_stock(a, get_product("SHIRT"), 2)
    set_stock(b, get_product("SHIRT"), 2)
    factories.user("sup", "supervisor")
    db.session.commit()
    login(client, "sup")
    return package, a, b


def _counts():
    db.session.rollback()
    return row_counts()


def test_the_plan_form_offers_a_split_of_each_line_over_the_locations_that_have_units(app, client):
    package, a, b = setup(client)
    item = package.items[0]
    html = client.get(f"/supervisor/packages/{package.id}/plan").get_data(as_text=True)
    split = html.split("<summary>Split over locations</summary>")[1].split("</details>")[0]
    assert f'name="split-{item.id}-IST-A"' in split and f'name="split-{item.id}-IST-B"' in split
    assert 'max="3"' in split


def test_one_line_split_over_two_stores_becomes_two_packages(app, client):
    package, a, b = setup(client)
    item = package.items[0]

    response = client.post(f"/supervisor/packages/{package.id}/plan",
                           data={f"split-{item.id}-IST-A": "2", f"split-{item.id}-IST-B": "1",
                                 "version": package.version})

    assert response.status_code == 303 and response.headers["Location"].endswith(f"/orders/{package.order_id}/")
    db.session.rollback()
    new = db.session.scalars(select(Package).where(Package.order_id == package.order_id, Package.id != package.id)
                             .order_by(Package.id)).all()
    assert [(p.location.code, p.state, [(i.sku, i.quantity) for i in p.items]) for p in new] == [
        ("IST-A", "waiting", [("SHIRT", 2)]), ("IST-B", "waiting", [("SHIRT", 1)])]
    assert stock_of(a, "SHIRT") == (2, 2) and stock_of(b, "SHIRT") == (2, 1)


def test_a_split_that_does_not_add_up_is_told_next_to_the_item_and_writes_nothing(app, client):
    package, a, b = setup(client)
    item = package.items[0]
    before = _counts()

    response = client.post(f"/supervisor/packages/{package.id}/plan", headers=HX,
                           data={f"split-{item.id}-IST-A": "2", f"split-{item.id}-IST-B": "2"})

    html = response.get_data(as_text=True)
    assert response.status_code == 422
    fieldset = html.split(f'data-item="{item.id}"')[1].split("</fieldset>")[0]
    assert "The units add up to 4; split all 3 units of SHIRT, no more and no less." in fieldset
    assert "<details open>" in fieldset and 'value="2"' in fieldset  # what was typed stays
    assert _counts() == before


def test_a_location_for_all_units_and_a_split_at_once_is_refused(app, client):
    package, a, b = setup(client)
    item = package.items[0]
    response = client.post(f"/supervisor/packages/{package.id}/plan", headers=HX,
                           data={f"location-{item.id}": "IST-A", f"split-{item.id}-IST-A": "2",
                                 f"split-{item.id}-IST-B": "1"})
    assert response.status_code == 422
    assert "Choose one location for all units, or split them below — not both." in response.get_data(as_text=True)


def test_not_enough_stock_is_said_in_plain_words_without_field_paths(app, client):
    package, a, b = setup(client)
    item = package.items[0]
    response = client.post(f"/supervisor/packages/{package.id}/plan", headers=HX,
                           data={f"split-{item.id}-IST-A": "3", "version": package.version})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Not enough available stock of SHIRT at IST-A." in html and "assignments." not in html
