"""Settings by key (admins write, supervisors read) and background job status from RQ."""

from __future__ import annotations

from rq import Queue, SimpleWorker, get_current_job

from app.extensions import db
from app.models import Setting
from app.queues import redis_connection
from tests import factories
from tests.api.helpers import auth


def test_admin_puts_and_reads_a_setting(app, client):
    admin = auth("erp")
    assert client.get("/api/v1/settings/REPLAN_INTERVAL_MINUTES", headers=admin).get_json() == {
        "key": "REPLAN_INTERVAL_MINUTES", "value": 30}
    response = client.put("/api/v1/settings/ORDER_FILTERING", json={"value": {"accepted_statuses": ["approved"]}},
                          headers=admin)
    assert response.status_code == 200
    assert response.get_json() == {"key": "ORDER_FILTERING", "value": {"accepted_statuses": ["approved"]}}
    assert client.get("/api/v1/settings/ORDER_FILTERING", headers=admin).get_json()["value"] == {
        "accepted_statuses": ["approved"]}


def test_invalid_setting_values_get_422_and_unknown_keys_404(app, client):
    admin = auth("erp")
    response = client.put("/api/v1/settings/REPLAN_INTERVAL_MINUTES", json={"value": -5}, headers=admin)
    assert response.status_code == 422 and "value" in response.get_json()["error"]["details"]
    assert client.put("/api/v1/settings/REPLAN_INTERVAL_MINUTES", json={"val": 5}, headers=admin).status_code == 422
    assert client.get("/api/v1/settings/NO_SUCH_KEY", headers=admin).status_code == 404
    db.session.commit()  # a fresh snapshot: on SQLite an open read transaction sees old rows
    assert db.session.get(Setting, "REPLAN_INTERVAL_MINUTES") is None


def test_supervisors_read_settings_staff_do_not_and_only_admins_write(app, client):
    store = factories.location("A")
    supervisor, staff = auth("sup", "supervisor"), auth("ayse", "staff", [store])
    assert client.get("/api/v1/settings/IS_OTP_ENABLED", headers=supervisor).status_code == 200
    assert client.get("/api/v1/settings/IS_OTP_ENABLED", headers=staff).status_code == 403
    assert client.put("/api/v1/settings/IS_OTP_ENABLED", json={"value": True}, headers=supervisor).status_code == 403
    db.session.commit()  # a fresh snapshot: on SQLite an open read transaction sees old rows
    assert db.session.get(Setting, "IS_OTP_ENABLED") is None


def report_progress() -> dict:
    job = get_current_job()
    job.meta["progress"] = {"done": 2, "total": 3}
    job.save_meta()
    return {"planned": 2}


def explode() -> None:
    raise RuntimeError("carrier is down")


def run_queue() -> None:
    conn = redis_connection()
    SimpleWorker([Queue("default", connection=conn)], connection=conn).work(burst=True)


def test_job_status_progress_and_result_come_from_rq(app, client):
    admin = auth("erp")
    queue = Queue("default", connection=redis_connection())
    queue.enqueue(report_progress, job_id="plan-batch-1")
    queued = client.get("/api/v1/jobs/plan-batch-1", headers=admin).get_json()
    assert queued == {"id": "plan-batch-1", "status": "queued", "progress": None, "result": None, "error": None}
    run_queue()
    done = client.get("/api/v1/jobs/plan-batch-1", headers=admin).get_json()
    assert done == {"id": "plan-batch-1", "status": "finished", "progress": {"done": 2, "total": 3},
                    "result": {"planned": 2}, "error": None}


def test_failed_jobs_show_the_error_and_unknown_jobs_404(app, client):
    admin = auth("erp")
    Queue("default", connection=redis_connection()).enqueue(explode, job_id="label-7-1")
    run_queue()
    failed = client.get("/api/v1/jobs/label-7-1", headers=admin).get_json()
    assert failed["status"] == "failed"
    assert failed["error"] == "RuntimeError: carrier is down"
    assert client.get("/api/v1/jobs/nope", headers=admin).status_code == 404
    assert client.get("/api/v1/jobs/bad:id", headers=admin).status_code == 404
