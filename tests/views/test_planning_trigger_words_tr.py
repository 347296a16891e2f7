"""A seeded order's planning run says its trigger as demo data ("demo verisi"), never "deneme" —
the word the Turkish screens use for the dry run ("Deneme planlaması")."""

from __future__ import annotations

from app.extensions import db
from app.models import Scenario, ScenarioRule
from app.services.planning import plan_order
from tests import factories
from tests.services.builders import get_product, make_order, set_stock
from tests.views.test_auth import login


def test_a_demo_planning_run_reads_demo_verisi_in_turkish(app, client):
    store = factories.location("IST-01")
    set_stock(store, get_product("SKU-A"), 5)
    scenario = Scenario(name="Web orders", priority=10, active=True, default_location_id=store.id, conditions={})
    scenario.rules.append(ScenarioRule(position=1, name="Any store", sort=[{"by": "priority", "order": "asc"}]))
    db.session.add(scenario)
    order = make_order([("SKU-A", 1)])
    factories.user("sup", "supervisor")
    db.session.commit()
    plan_order(order.id, trigger="demo")
    db.session.execute(db.text("UPDATE users SET language = 'tr' WHERE username = 'sup'"))
    db.session.commit()
    login(client, "sup")
    page = client.get(f"/supervisor/orders/{order.id}/").get_data(as_text=True)
    run = page.split('<h3 class="sub">')[1].split("</h3>")[0]
    assert " · demo verisi · " in run and "deneme" not in run
