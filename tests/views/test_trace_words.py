"""The planning trace says condition values and source statuses in words (leftover of issue 20):
a skipped scenario's "delivery type cargo is not one of click and collect" and a held order's
source status ("delivered", Trendyol's "Delivered") read as the screens' words in Turkish and
English on the supervisor's order page, while the API's trace keeps the codes it always gave."""

from __future__ import annotations

import re

from app.extensions import db
from app.models import Order, Scenario, ScenarioRule
from app.services.planning import plan_order
from app.services.settings import put_setting
from tests import factories
from tests.services.builders import make_order
from tests.views.test_auth import login

RULE = {"locations": [], "exclude": [], "location_type": None, "same_city": False, "use_quota": False,
        "sort": [{"by": "priority", "order": "asc"}], "allow_split": False, "max_packages": 1,
        "transferable": False, "transfer_sources": []}


def trace_text(page: str) -> str:
    return " ".join(re.findall(r'<pre class="trace-text">(.*?)</pre>', page, flags=re.S))


def order_page(client, order_id: int, language: str) -> str:
    db.session.execute(db.text("UPDATE users SET language = :l WHERE username = 'sup'"), {"l": language})
    db.session.commit()
    login(client, "sup")
    response = client.get(f"/supervisor/orders/{order_id}/")
    assert response.status_code == 200
    return trace_text(response.get_data(as_text=True))


def world() -> None:
    store = factories.location("IST-KDK", name="Kadıköy Mağazası")
    factories.stock(store, factories.product("CAY-1"), 5)
    factories.user("sup", "supervisor")
    for name, priority, conditions in (("Mağazadan teslim", 1, {"delivery_types": ["click_and_collect"]}),
                                       ("Herkes", 2, {})):
        scenario = Scenario(name=name, priority=priority, active=True, default_location_id=store.id,
                            conditions=conditions)
        scenario.rules.append(ScenarioRule(position=1, name="Mağazalar", **RULE))
        db.session.add(scenario)
    db.session.commit()


def test_a_skipped_scenarios_delivery_types_are_said_in_words(app, client):
    world()
    order_id = make_order((("CAY-1", 1),)).id
    db.session.commit()
    plan_order(order_id)

    turkish = order_page(client, order_id, "tr")
    assert "teslimat türü kargo, şunlardan biri değil: mağazadan teslim" in turkish
    assert "click_and_collect" not in turkish and "cargo" not in turkish
    client.get("/logout")
    english = order_page(client, order_id, "en")
    assert "delivery type cargo is not one of click and collect" in english
    assert "click_and_collect" not in english

    # The API's trace keeps the codes, as it always gave them.
    token = factories.api_token("sup")
    body = client.get(f"/api/v1/orders/{order_id}/planning", headers={"Authorization": f"Token {token}"}).get_json()
    reasons = [r for t in body["results"] for sc in t["trace"]["scenarios"] for r in sc["reasons"]]
    assert "delivery type cargo is not one of click_and_collect" in reasons


def test_a_held_orders_source_status_is_said_with_its_state_label(app, client):
    world()
    put_setting("ORDER_FILTERING", {"accepted_statuses": ["approved"]})
    order = make_order((("CAY-1", 1),))
    order.source_status = "Delivered"  # Trendyol's own word, as its status mapping left it
    other = make_order((("CAY-1", 1),))
    other.source_status = "refused"
    db.session.commit()
    order_id, other_id = order.id, other.id
    plan_order(order_id)
    plan_order(other_id)
    assert db.session.get(Order, order_id).status == "on_hold"

    turkish = order_page(client, order_id, "tr")
    assert "Kaynak durumu teslim edildi, ORDER_FILTERING tarafından kabul edilmiyor." in turkish
    assert "Delivered" not in turkish
    assert "Kaynak durumu reddedildi," in order_page(client, other_id, "tr")
    client.get("/logout")
    assert "Source status delivered is not accepted" in order_page(client, order_id, "en")
