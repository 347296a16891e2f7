"""/api/v1/scenarios, /api/v1/planning/dry-run, /api/v1/planning/run and an order's planning trace."""

from __future__ import annotations

from rq import Queue, SimpleWorker
from sqlalchemy import func, select

from app.extensions import db
from app.models import Order, Package, Scenario, ScenarioRule
from app.queues import redis_connection
from tests import factories
from tests.services.planning.network import order, shirts_at_a_store, site


def _admin(role: str = "admin") -> dict[str, str]:
    factories.user("boss", role)
    db.session.commit()
    return {"Authorization": f"Token {factories.api_token('boss')}"}


def _body(**overrides) -> dict:
    body = {"name": "Web", "priority": 10, "active": True, "default_location": "WH-01",
            "conditions": {"channels": ["web"], "delivery_types": [], "payment_types": [], "cargo_companies": []},
            "rules": [{"name": "Nearest store", "locations": [], "exclude": [], "location_type": "store",
                       "same_city": False, "use_quota": False, "sort": [{"by": "distance", "order": "asc"}],
                       "allow_split": False, "max_packages": 1, "transferable": False, "transfer_sources": []}]}
    body.update(overrides)
    return body


def _rule(**overrides) -> dict:
    rule = dict(_body()["rules"][0])
    rule.update(overrides)
    return rule


def test_scenario_round_trips_in_the_spec_shape(app, client):
    headers = _admin()
    site("WH-01", 40.81, 29.30, type="warehouse")
    db.session.commit()

    created = client.post("/api/v1/scenarios", json=_body(), headers=headers)

    assert created.status_code == 201, created.get_json()
    data = created.get_json()
    assert {k: data[k] for k in ("name", "priority", "active", "default_location", "conditions")} == {
        k: _body()[k] for k in ("name", "priority", "active", "default_location", "conditions")}
    rule = data["rules"][0]
    assert rule["position"] == 1 and rule["sort"] == [{"by": "distance", "order": "asc"}]
    listed = client.get("/api/v1/scenarios", headers=headers).get_json()
    assert listed["count"] == 1 and listed["results"][0]["id"] == data["id"]


def test_scenarios_that_cannot_work_are_refused_with_the_reason(app, client):
    headers = _admin()
    site("WH-01", 40.81, 29.30, type="warehouse")
    db.session.commit()
    cases = {
        "rules": _body(rules=[]),
        "rules.0.locations": _body(rules=[_rule(locations=["NOPE"])]),
        "default_location": _body(default_location="NOWHERE"),
        "rules.0.sort.0.by": _body(rules=[_rule(sort=[{"by": "popularity", "order": "asc"}])]),
        "rules.0.max_packages": _body(rules=[_rule(max_packages=0)]),
    }
    for field, body in cases.items():
        response = client.post("/api/v1/scenarios", json=body, headers=headers)
        assert response.status_code == 422, field
        assert field in response.get_json()["error"]["details"], (field, response.get_json())
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Scenario)) == 0


def test_rules_are_added_moved_and_removed_in_place(app, client):
    headers = _admin()
    site("WH-01", 40.81, 29.30, type="warehouse")
    db.session.commit()
    sid = client.post("/api/v1/scenarios", json=_body(), headers=headers).get_json()["id"]

    added = client.post(f"/api/v1/scenarios/{sid}/rules", json=_rule(name="Warehouse", location_type="warehouse",
                                                                      position=1), headers=headers)
    assert added.status_code == 201
    names = [r["name"] for r in client.get(f"/api/v1/scenarios/{sid}/rules", headers=headers).get_json()]
    assert names == ["Warehouse", "Nearest store"]

    moved = client.put(f"/api/v1/scenarios/{sid}/rules/{added.get_json()['id']}",
                       json=_rule(name="Warehouse", location_type="warehouse", position=2), headers=headers)
    assert moved.status_code == 200
    names = [r["name"] for r in client.get(f"/api/v1/scenarios/{sid}/rules", headers=headers).get_json()]
    assert names == ["Nearest store", "Warehouse"]

    first = client.get(f"/api/v1/scenarios/{sid}", headers=headers).get_json()["rules"][0]["id"]
    assert client.delete(f"/api/v1/scenarios/{sid}/rules/{first}", headers=headers).status_code == 204
    last = client.get(f"/api/v1/scenarios/{sid}", headers=headers).get_json()["rules"]
    assert [(r["name"], r["position"]) for r in last] == [("Warehouse", 1)]
    assert client.delete(f"/api/v1/scenarios/{sid}/rules/{last[0]['id']}", headers=headers).status_code == 422
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(ScenarioRule)) == 1


def test_staff_cannot_change_scenarios(app, client):
    store = site("WH-01", 40.81, 29.30, type="warehouse")
    factories.user("clerk", "staff", [store])
    db.session.commit()
    headers = {"Authorization": f"Token {factories.api_token('clerk')}"}
    assert client.post("/api/v1/scenarios", json=_body(), headers=headers).status_code == 403
    assert client.get("/api/v1/scenarios", headers=headers).status_code == 403


def test_dry_run_endpoint_returns_plan_and_trace_and_writes_nothing(app, client):
    headers = _admin()
    store, shirt = shirts_at_a_store(3, default="WH-01")
    o = order([(shirt, 1)])

    response = client.post("/api/v1/planning/dry-run", json={"order_id": o.id}, headers=headers)

    assert response.status_code == 200
    assert response.get_json()["packages"][0]["location"] == "KDK"
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Package)) == 0
    bad = client.post("/api/v1/planning/dry-run", json={"number": "X", "channel": "web",
                                                         "placed_at": "2026-11-20T10:00:00Z",
                                                         "items": [{"sku": "NOPE", "quantity": 1}]},
                      headers=headers)
    assert bad.status_code == 422 and "items.0.sku" in bad.get_json()["error"]["details"]


def test_order_planning_trace_is_exposed_with_readable_text(app, client):
    headers = _admin()
    store, shirt = shirts_at_a_store(3, default="WH-01")
    order_id = order([(shirt, 1)]).id
    assert client.post(f"/api/v1/orders/{order_id}/plan", headers=headers).status_code == 200

    response = client.get(f"/api/v1/orders/{order_id}/planning", headers=headers)

    assert response.status_code == 200
    latest = response.get_json()["results"][0]
    assert latest["outcome"] == "planned"
    assert "KDK has every item" in latest["explanation"]
    assert latest["trace"]["decision"]["packages"][0]["location"] == "KDK"


def test_batch_run_plans_every_waiting_order_with_progress_in_the_job(app, client):
    headers = _admin()
    store, shirt = shirts_at_a_store(4, default="WH-01")
    ids = [order([(shirt, 1)]).id for _ in range(6)]

    started = client.post("/api/v1/planning/run", json={"chunk_size": 4}, headers=headers)
    assert started.status_code == 202
    job_id = started.get_json()["job_id"]
    assert client.get(f"/api/v1/jobs/{job_id}", headers=headers).get_json()["status"] == "queued"
    conn = redis_connection()
    SimpleWorker([Queue("planning", connection=conn)], connection=conn).work(burst=True)

    job = client.get(f"/api/v1/jobs/{job_id}", headers=headers).get_json()
    assert job["status"] == "finished", job
    assert job["progress"] == {"done": 6, "total": 6}
    assert job["result"] == {"planned": 4, "out_of_stock": 2}
    db.session.expire_all()
    statuses = [db.session.get(Order, i).status for i in ids]
    assert statuses == ["planned"] * 4 + ["out_of_stock"] * 2


def test_scenario_is_replaced_patched_and_deleted(app, client):
    headers = _admin()
    site("WH-01", 40.81, 29.30, type="warehouse")
    site("IST-01", 40.99, 29.03)
    db.session.commit()
    sid = client.post("/api/v1/scenarios", json=_body(), headers=headers).get_json()["id"]

    replaced = client.put(f"/api/v1/scenarios/{sid}", headers=headers, json=_body(
        name="Web v2", rules=[_rule(name="Kadikoy only", locations=["IST-01"]), _rule(name="Anywhere")]))
    assert replaced.status_code == 200, replaced.get_json()
    assert [(r["name"], r["position"]) for r in replaced.get_json()["rules"]] == [("Kadikoy only", 1), ("Anywhere", 2)]

    patched = client.patch(f"/api/v1/scenarios/{sid}", json={"priority": 3, "active": False}, headers=headers)
    assert patched.status_code == 200
    assert (patched.get_json()["priority"], patched.get_json()["active"], patched.get_json()["name"]) == (3, False, "Web v2")
    assert client.patch(f"/api/v1/scenarios/{sid}", json={"default_location": "NOPE"},
                        headers=headers).status_code == 422

    assert client.delete(f"/api/v1/scenarios/{sid}", headers=headers).status_code == 204
    assert client.get(f"/api/v1/scenarios/{sid}", headers=headers).status_code == 404
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(ScenarioRule)) == 0


def test_a_second_scenario_with_the_same_name_is_409_and_writes_nothing(app, client):
    headers = _admin()
    site("WH-01", 40.81, 29.30, type="warehouse")
    db.session.commit()
    assert client.post("/api/v1/scenarios", json=_body(), headers=headers).status_code == 201
    other = client.post("/api/v1/scenarios", json=_body(name="Marketplace"), headers=headers).get_json()

    duplicate = client.post("/api/v1/scenarios", json=_body(), headers=headers)
    renamed = client.patch(f"/api/v1/scenarios/{other['id']}", json={"name": "Web"}, headers=headers)

    assert duplicate.status_code == 409 and duplicate.get_json()["error"]["details"] == {"name": "Choose another name."}
    assert renamed.status_code == 409
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Scenario.id))) == 2
    assert db.session.scalar(select(func.count(ScenarioRule.id))) == 2
