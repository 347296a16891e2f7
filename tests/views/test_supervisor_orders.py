"""The order page: items, packages, transfers, the transition history with actors, and the
planning trace as readable text; plus the order search."""

from __future__ import annotations

from app.extensions import db
from app.models import Scenario, ScenarioRule
from app.services.planning import plan_order
from tests import factories
from tests.services.builders import get_product, make_order, make_transfer, set_stock
from tests.views.test_auth import login


def test_order_page_explains_why_this_location_and_shows_the_history(app, client):
    store = factories.location("IST-01", name="Kadikoy")
    set_stock(store, get_product("SKU-A"), 5)
    scenario = Scenario(name="Web orders", priority=10, active=True, default_location_id=store.id, conditions={})
    scenario.rules.append(ScenarioRule(position=1, name="Any store", sort=[{"by": "priority", "order": "asc"}]))
    db.session.add(scenario)
    order = make_order([("SKU-A", 2)], number="WEB-77")
    factories.user("sup", "supervisor")
    db.session.commit()
    plan_order(order.id, trigger="test")
    login(client, "sup")
    html = client.get(f"/supervisor/orders/{order.id}/").get_data(as_text=True)
    assert "Order WEB-77" in html and "SKU-A" in html
    assert "WEB-77-P1" in html and "IST-01" in html
    assert "Scenario &#39;Web orders&#39; matches." in html
    history = html.split("<h2>History</h2>")[1].split("</table>")[0]
    assert "system:planner" in history and "Package WEB-77-P1" in history


def test_order_page_lists_transfers(app, client):
    transfer = make_transfer()
    factories.user("sup", "supervisor")
    db.session.commit()
    login(client, "sup")
    html = client.get(f"/supervisor/orders/{transfer.package.order_id}/").get_data(as_text=True)
    assert transfer.number in html and f"{transfer.source.code} → {transfer.destination.code}" in html


def test_order_search_opens_the_order_by_number(app, client):
    order = make_order(number="WEB-555")
    factories.user("sup", "supervisor")
    db.session.commit()
    login(client, "sup")
    response = client.get("/supervisor/orders/?number=WEB-555")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/orders/{order.id}/")
    assert "No order numbered WEB-0" in client.get("/supervisor/orders/?number=WEB-0").get_data(as_text=True)


def test_unknown_order_is_404(app, client):
    factories.user("sup", "supervisor")
    db.session.commit()
    login(client, "sup")
    assert client.get("/supervisor/orders/999/").status_code == 404
