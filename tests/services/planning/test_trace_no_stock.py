"""'Why these locations?' names the locations a rule left out because they hold none of the
order's items (they never become candidates), instead of leaving them silently out."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import PlanningTrace
from app.services.planning import plan_order, render_trace
from tests import factories
from tests.services.planning.network import order, scenario, site


def _text(order_id: int) -> str:
    db.session.expire_all()
    trace = db.session.scalar(select(PlanningTrace).where(PlanningTrace.order_id == order_id))
    return render_trace(trace.trace)


def test_a_store_without_any_of_the_items_is_named_with_the_reason(app):
    kdk = site("IST-KDK", 40.99, 29.03)
    site("IST-BSK", 41.04, 29.01)  # holds nothing
    default = site("WH", 40.81, 29.30, type="warehouse")  # not a store: the rule's filter, said as before
    shirt = factories.product("SHIRT")
    factories.stock(kdk, shirt, 3)
    factories.stock(default, shirt, 3)
    scenario(default, [{"location_type": "store"}])
    o = order([(shirt, 1)])

    plan_order(o.id)

    text = _text(o.id)
    assert "  - IST-BSK has none of these items." in text
    assert "  - WH: not a store." in text
    assert "IST-KDK has none" not in text


def test_many_empty_stores_are_named_up_to_five_and_counted_after_that(app):
    stocked = site("A-STOCK", 40.99, 29.03)
    for n in range(7):
        site(f"EMPTY-{n}", 41.0 + n / 100, 29.0)
    default = site("WH", 40.81, 29.30, type="warehouse")
    shirt, cap = factories.product("SHIRT"), factories.product("CAP")
    factories.stock(stocked, shirt, 1)
    scenario(default, [{"location_type": "store"}])
    o = order([(shirt, 1), (cap, 1)])

    plan_order(o.id)

    text = _text(o.id)
    assert "  - EMPTY-0, EMPTY-1, EMPTY-2, EMPTY-3, EMPTY-4 and 2 other locations have none of these items." in text
    stored = db.session.scalar(select(PlanningTrace).where(PlanningTrace.order_id == o.id)).trace
    (drop,) = [d for d in stored["rules"][0]["dropped"] if d["reason"] == "has none of these items"]
    assert drop == {"reason": "has none of these items", "locations": [f"EMPTY-{n}" for n in range(5)], "more": 2}


def test_a_store_dropped_for_another_reason_is_not_also_called_empty(app):
    kdk = site("IST-KDK", 40.99, 29.03, max_quota=0)  # full, and holding the shirt
    default = site("WH", 40.81, 29.30, type="warehouse")
    shirt = factories.product("SHIRT")
    factories.stock(kdk, shirt, 3)
    scenario(default, [{"location_type": "store", "use_quota": True}])
    o = order([(shirt, 1)])

    plan_order(o.id)

    text = _text(o.id)
    assert "IST-KDK: full" in text and "none of these items" not in text
