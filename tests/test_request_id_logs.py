"""PACKLINE_LOG_FORMAT=json: one JSON object per log line, and the request id of a web request is
on the log lines of the jobs it enqueued, as a real burst worker runs them."""

from __future__ import annotations

import io
import json
import logging

import pytest

from app import create_app
from app.config import TestConfig
from app.logs import JsonFormatter, log_context
from app.queues import enqueue
from app.tasks import set_app
from app.worker import run_worker
from tests.api.test_orders_api import ORDER, auth, master_data


@pytest.fixture
def json_app(app, monkeypatch):
    """A second app made as production makes it, with PACKLINE_LOG_FORMAT=json in the environment;
    its log lines are read from the handler it installed on the root logger."""
    monkeypatch.setenv("PACKLINE_LOG_FORMAT", "json")
    root_level = logging.getLogger().level

    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = app.config["SQLALCHEMY_DATABASE_URI"]
        REDIS_URL = app.config["REDIS_URL"]

    json_app = create_app(Config)
    json_app.config["WTF_CSRF_ENABLED"] = False
    handlers = [h for h in logging.getLogger().handlers if isinstance(h.formatter, JsonFormatter)]
    assert len(handlers) == 1, "PACKLINE_LOG_FORMAT=json installs one JSON handler on the root logger"
    output = io.StringIO()
    handlers[0].setStream(output)
    json_app.log_output = output
    yield json_app
    logging.getLogger().removeHandler(handlers[0])
    logging.getLogger().setLevel(root_level)
    set_app(app)  # the worker pointed jobs at json_app
    with json_app.app_context():
        from app.extensions import db

        db.engine.dispose()


def lines(json_app) -> list[dict]:
    """Every line written, each parsed as JSON (a line that is not JSON fails the test)."""
    return [json.loads(line) for line in json_app.log_output.getvalue().splitlines()]


def test_a_request_id_follows_an_order_into_its_planning_job(json_app):
    master_data()
    admin = auth("erp")
    client = json_app.test_client()
    response = client.post("/api/v1/orders", json=ORDER, headers=admin)
    assert response.status_code == 201
    request_id = response.headers["X-Request-Id"]
    order_id = response.get_json()["id"]

    with json_app.app_context():
        run_worker(["planning", "webhooks"], burst=True)

    logged = lines(json_app)
    assert logged, "JSON logs are on"
    for line in logged:
        assert {"time", "level", "logger", "message", "request_id"} <= set(line)
        assert line["time"].endswith("Z")
    web = [line for line in logged if line["logger"] == "packline.request" and line.get("path") == "/api/v1/orders"]
    assert [(w["method"], w["status"], w["request_id"]) for w in web] == [("POST", 201, request_id)]
    assert "job_id" not in web[0]
    jobs = {line["job_id"]: line for line in logged if line["logger"] == "packline.jobs"}
    planning = jobs[f"plan-order-{order_id}"]
    assert planning["request_id"] == request_id
    assert planning["message"].startswith("job app.tasks.planning.plan_order done")
    # The commit also queued the webhook relay: that job names the same request.
    assert any(line["request_id"] == request_id for job_id, line in jobs.items() if "publish" in job_id)


def test_a_safe_incoming_request_id_is_kept_and_anything_else_replaced(json_app):
    client = json_app.test_client()
    kept = client.get("/healthz", headers={"X-Request-Id": "lb-7f3a.2026:01_x"})
    assert kept.headers["X-Request-Id"] == "lb-7f3a.2026:01_x"
    for unsafe in ("a" * 65, "two words", "x\u00e9", "id;rm -rf", ""):
        answer = client.get("/healthz", headers={"X-Request-Id": unsafe})
        generated = answer.headers["X-Request-Id"]
        assert generated != unsafe and len(generated) == 32 and int(generated, 16) >= 0
    ids = [line["request_id"] for line in lines(json_app) if line["logger"] == "packline.request"]
    assert ids[0] == "lb-7f3a.2026:01_x" and len(set(ids)) == 6


def test_a_failing_job_logs_its_failure_with_its_ids(json_app):
    with json_app.app_context(), log_context(request_id="req-for-failure"):  # as inside a request
        enqueue("planning", "app.tasks.planning.plan_order", 987654, job_id="plan-order-987654")  # no such order
    with json_app.app_context():
        run_worker(["planning"], burst=True)
    failed = [line for line in lines(json_app) if line["logger"] == "packline.jobs"]
    assert [(f["level"], f["job_id"], f["request_id"]) for f in failed] == \
        [("WARNING", "plan-order-987654", "req-for-failure")]
    assert "NotFound: Order not found." in failed[0]["message"]


def test_without_the_variable_logs_stay_as_they_were(app):
    create_app(TestConfig)
    assert not [h for h in logging.getLogger().handlers if isinstance(h.formatter, JsonFormatter)]
