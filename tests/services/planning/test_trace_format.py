"""The stored trace is compact (version 2); `trace.expand` gives readers the version 1 shape with
the same sentences and key dicts, and leaves version 1 traces (older rows) alone."""

from __future__ import annotations

import copy
import json

from sqlalchemy import select

from app.extensions import db
from app.models import PlanningTrace
from app.services.admin_queries import trace_text
from app.services.planning import dry_run, plan_order, render_trace
from app.services.planning.geo import great_circle_km
from app.services.planning.trace import expand
from tests import factories
from tests.services.planning.network import KADIKOY, order, scenario, site


def _stored(order_id: int) -> PlanningTrace:
    db.session.expire_all()
    return db.session.scalar(select(PlanningTrace).where(PlanningTrace.order_id == order_id)
                             .order_by(PlanningTrace.id.desc()).limit(1))


def _km(lat: float, lon: float) -> float:
    return round(great_circle_km(KADIKOY[0], KADIKOY[1], lat, lon), 3)


def _single_rule_network():
    """NEAR is short of a shirt, MID has everything, FAR and ANK come after it (runners-up, not
    needed), NOWHERE (no coordinates) is a fifth candidate that is not shown."""
    near = site("NEAR", 40.99, 29.03, priority=10)
    mid = site("MID", 41.00, 29.05, priority=20)
    far = site("FAR", 41.10, 29.10, priority=5)
    ank = site("ANK", 39.92, 32.85, priority=10)
    nowhere = factories.location("NOWHERE", latitude=None, longitude=None)
    default = site("WH", 40.81, 29.30, type="warehouse")
    shirt, jeans = factories.product("SHIRT"), factories.product("JEANS")
    for loc, shirts, jeans_units in ((near, 1, 1), (mid, 5, 5), (far, 5, 5), (ank, 2, 0), (nowhere, 5, 5)):
        factories.stock(loc, shirt, shirts)
        if jeans_units:
            factories.stock(loc, jeans, jeans_units)
    scenario(default, [{"location_type": "store",
                        "sort": [{"by": "distance", "order": "asc"}, {"by": "priority", "order": "asc"}]}])
    return order([(shirt, 2), (jeans, 1)])


EXPECTED_SINGLE = [
    {"location": "NEAR", "availability": {"SHIRT": 1, "JEANS": 1}, "keys": {"distance": 0.0, "priority": 10},
     "verdict": "cannot supply everything: SHIRT short by 1"},
    {"location": "MID", "availability": {"SHIRT": 2, "JEANS": 1},
     "keys": {"distance": _km(41.00, 29.05), "priority": 20}, "verdict": "chosen: has every item"},
    {"location": "FAR", "availability": {"SHIRT": 2, "JEANS": 1},
     "keys": {"distance": _km(41.10, 29.10), "priority": 5}, "verdict": "not needed"},
    {"location": "ANK", "availability": {"SHIRT": 2, "JEANS": 0},
     "keys": {"distance": _km(39.92, 32.85), "priority": 10}, "verdict": "not needed"},
]


def test_the_stored_trace_is_compact_and_expands_to_the_readable_sentences(app):
    o = _single_rule_network()

    plan_order(o.id)

    stored = _stored(o.id).trace
    assert stored["version"] == 2
    (rule,) = stored["rules"]
    assert rule["keys"] == ["distance", "priority"]
    assert rule["candidates_total"] == 5
    assert [row[0] for row in rule["candidates"]] == ["NEAR", "MID", "FAR", "ANK"]
    assert [row[1] for row in rule["candidates"]] == [[1, 1], [2, 1], [2, 1], [2, 0]]
    assert [row[3] for row in rule["candidates"]] == ["short", "chosen", "-", "-"]
    assert all(isinstance(row, list) for row in rule["candidates"])
    assert "verdict" not in json.dumps(stored) and "short by" not in json.dumps(stored)

    before = copy.deepcopy(stored)
    expanded = expand(stored)
    assert stored == before  # the stored trace is left alone
    assert expanded["version"] == 1
    (exp_rule,) = expanded["rules"]
    assert "keys" not in exp_rule
    assert exp_rule["candidates"] == EXPECTED_SINGLE
    assert exp_rule["result"] == "MID has every item"
    assert list(exp_rule) == ["position", "name", "dropped", "candidates_total", "candidates", "result"]
    assert {k: v for k, v in expanded.items() if k not in ("rules", "version")} == \
        {k: v for k, v in stored.items() if k not in ("rules", "version")}
    assert len(json.dumps(stored)) < len(json.dumps(expanded))


def test_split_rows_keep_the_units_taken_and_unknown_distances_expand_to_none(app):
    a = site("A", 40.99, 29.03)   # shirts and caps
    b = site("B", 41.00, 29.05)   # jeans
    c = site("C", 41.10, 29.10)   # shirts only: not chosen
    default = site("WH", 40.81, 29.30, type="warehouse")
    shirt, jeans, cap = factories.product("SHIRT"), factories.product("JEANS"), factories.product("CAP")
    factories.stock(a, shirt, 1)
    factories.stock(a, cap, 1)
    factories.stock(b, jeans, 1)
    factories.stock(c, shirt, 3)
    scenario(default, [{"allow_split": True, "max_packages": 3}])
    o = order([(shirt, 1), (jeans, 1), (cap, 1)], coords=None, city="Nowhere", district=None)

    plan_order(o.id)

    stored = _stored(o.id).trace
    assert stored["version"] == 2
    (rule,) = stored["rules"]
    assert rule["keys"] == ["distance"]
    assert rule["candidates"] == [["A", [1, 0, 1], [None], "part", [1, 0, 1]],
                                  ["B", [0, 1, 0], [None], "part", [0, 1, 0]],
                                  ["C", [1, 0, 0], [None], "short"]]
    assert expand(stored)["rules"][0]["candidates"] == [
        {"location": "A", "availability": {"SHIRT": 1, "JEANS": 0, "CAP": 1}, "keys": {"distance": None},
         "verdict": "chosen for part of the order: SHIRT ×1, CAP ×1"},
        {"location": "B", "availability": {"SHIRT": 0, "JEANS": 1, "CAP": 0}, "keys": {"distance": None},
         "verdict": "chosen for part of the order: JEANS ×1"},
        {"location": "C", "availability": {"SHIRT": 1, "JEANS": 0, "CAP": 0}, "keys": {"distance": None},
         "verdict": "cannot supply everything: JEANS short by 1, CAP short by 1"},
    ]
    assert expand(stored)["rules"][0]["result"] == "split over 2 locations: A, B"


def test_a_version_1_trace_passes_through_expand_unchanged(app):
    v1 = {"version": 1, "order": {"number": "WEB-1", "channel": "web", "delivery_type": "cargo",
                                  "coordinates": [40.99, 29.03], "coordinates_source": "address"},
          "items": [{"order_item_id": 1, "sku": "SHIRT", "quantity": 2}],
          "rules": [{"position": 1, "name": "Rule 1", "dropped": [], "candidates_total": 2,
                     "candidates": [{"location": "KDK", "availability": {"SHIRT": 1}, "keys": {"distance": 0.9},
                                     "verdict": "cannot supply everything: SHIRT short by 1"},
                                    {"location": "BSK", "availability": {"SHIRT": 2}, "keys": {"distance": 6.0},
                                     "verdict": "chosen: has every item"}],
                     "result": "BSK has every item"}],
          "decision": {"outcome": "planned", "packages": [{"location": "BSK", "state": "waiting",
                                                           "items": {"SHIRT": 2}, "transfers": []}]}}
    before = copy.deepcopy(v1)

    assert expand(v1) is v1
    assert v1 == before
    assert "  - KDK (0.9 km away; has SHIRT ×1): cannot supply everything: SHIRT short by 1." in render_trace(v1)


def test_every_reader_gets_the_expanded_trace_and_the_same_text(app, client):
    o = _single_rule_network()
    plan_order(o.id)
    row = _stored(o.id)
    expanded = expand(row.trace)

    text = render_trace(row.trace)
    assert text == render_trace(expanded)
    assert "  - NEAR (0.0 km away, priority 10; has SHIRT ×1, JEANS ×1): " \
           "cannot supply everything: SHIRT short by 1." in text
    assert "MID (" in text and "): chosen: has every item." in text
    assert "FAR (" in text and "): not needed." in text
    assert "  ... and 1 more candidate(s) after these." in text
    assert trace_text(row) == text

    factories.user("boss", "admin")
    db.session.commit()
    response = client.get(f"/api/v1/orders/{o.id}/planning",
                          headers={"Authorization": f"Token {factories.api_token('boss')}"})
    latest = response.get_json()["results"][0]
    assert latest["trace"] == expanded
    assert latest["explanation"] == text

    result = dry_run({"order_id": o.id})
    assert result["trace"]["version"] == 1
    assert result["trace"]["rules"][0]["candidates"][0]["verdict"].startswith("cannot supply everything")
    assert result["explanation"] == render_trace(result["trace"])
