"""Planning reads and runs respect the caller's locations; jobs are read by whoever started them;
a Redis outage is a clear 503, never a 500."""

from __future__ import annotations

from app.extensions import db
from app.services.planning import plan_order
from tests import factories
from tests.api.test_bad_input_regressions import assert_error, auth
from tests.services.planning.network import order, scenario, site


def _two_stores():
    kdk, kzl = site("KDK", 40.99, 29.03), site("KZL", 39.92, 32.85)
    shirt = factories.product("SHIRT")
    factories.stock(kzl, shirt, 5)
    scenario(kzl, [{}])
    planned = order([(shirt, 1)])  # packed at KZL
    plan_order(planned.id)
    db.session.commit()
    return kdk, kzl, planned.id


def test_a_supervisor_of_one_store_cannot_read_or_dry_run_another_stores_order(app, client):
    kdk, kzl, order_id = _two_stores()
    local = auth("kdk-boss", "supervisor", [kdk])
    everywhere = auth("boss", "supervisor")

    assert_error(client.get(f"/api/v1/orders/{order_id}/planning", headers=local), 404)
    assert_error(client.post("/api/v1/planning/dry-run", json={"order_id": order_id}, headers=local), 404)
    assert client.get(f"/api/v1/orders/{order_id}/planning", headers=everywhere).status_code == 200
    assert client.post("/api/v1/planning/dry-run", json={"order_id": order_id}, headers=everywhere).status_code == 200
    kzl_boss = auth("kzl-boss", "supervisor", [kzl])
    assert client.get(f"/api/v1/orders/{order_id}/planning", headers=kzl_boss).status_code == 200


def test_only_an_unrestricted_manager_starts_a_global_batch_run(app, client):
    kdk, _kzl, _ = _two_stores()
    assert_error(client.post("/api/v1/planning/run", json={}, headers=auth("kdk-boss", "supervisor", [kdk])), 403)
    assert client.post("/api/v1/planning/run", json={}, headers=auth("boss", "supervisor")).status_code == 202


def test_a_job_is_read_by_whoever_started_it_and_by_admins(app, client):
    _two_stores()
    starter, other = auth("boss", "supervisor"), auth("other-boss", "supervisor")
    job_id = client.post("/api/v1/planning/run", json={}, headers=starter).get_json()["job_id"]

    assert len(job_id) >= len("plan-batch-") + 32  # not guessable
    assert client.get(f"/api/v1/jobs/{job_id}", headers=starter).status_code == 200
    assert_error(client.get(f"/api/v1/jobs/{job_id}", headers=other), 404)
    assert_error(client.get(f"/api/v1/jobs/{job_id}", headers=auth("ayse", "staff", [site("X", 41, 29)])), 404)
    assert client.get(f"/api/v1/jobs/{job_id}", headers=auth("root", "admin")).status_code == 200


def test_a_redis_outage_is_a_503_with_a_clear_message(app, client, redis_server):
    _two_stores()
    admin = auth("root", "admin")
    redis_server.stop()
    try:
        run = client.post("/api/v1/planning/run", json={}, headers=admin)
        job = client.get("/api/v1/jobs/plan-batch-0123456789abcdef0123456789abcdef", headers=admin)
    finally:
        redis_server.start()
    for response in (run, job):
        error = assert_error(response, 503, "queue_unavailable")
        assert "try again" in error["message"].lower()
