"""The demo brand's scenarios are valid and plan a web order."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from app.extensions import db
from app.models import Channel, Order, OrderItem, Product, Scenario, Stock
from app.schemas.common import validate
from app.schemas.scenarios import ScenarioIn
from app.services.demo import seed_demo
from app.services.planning import plan_order
from app.services.planning.scenarios import scenario_dict


def test_demo_scenarios_pass_validation_and_plan_a_web_order(app):
    seed_demo()
    for scenario in db.session.scalars(select(Scenario)):
        body = scenario_dict(scenario)
        body.pop("id")
        for rule in body["rules"]:
            rule.pop("id"), rule.pop("position")
        validate(ScenarioIn, body)
    in_stock = db.session.scalar(select(Stock).where(Stock.on_hand > 0).order_by(Stock.id))
    web = db.session.scalar(select(Channel).where(Channel.code == "web"))
    order = Order(number="DEMO-1", channel_id=web.id, placed_at=datetime(2026, 11, 20), status="new",
                  source_status="approved", delivery_type="cargo", ship_city="Istanbul", ship_district="Kadıköy")
    order.items.append(OrderItem(product_id=db.session.get(Product, in_stock.product_id).id, quantity=1))
    db.session.add(order)
    db.session.commit()

    assert plan_order(order.id).status == "planned"
