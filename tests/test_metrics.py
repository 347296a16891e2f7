"""GET /metrics: off without METRICS_TOKEN, a bearer token otherwise, and the Prometheus text format
with what operators watch: requests, command latency, queues, outbox and webhook lag, planning."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from rq import Queue
from sqlalchemy import select

from app.extensions import db
from app.models import Order, Scenario, ScenarioRule
from app.models.base import utcnow
from app.models.events import OutboxEvent
from app.models.webhooks import WebhookDelivery, WebhookSubscription
from app.queues import QUEUE_NAMES, enqueue, redis_connection
from app.services.planning import batch
from app.worker import run_worker
from tests.api.test_orders_api import ORDER, auth, master_data
from tests.api.test_packages_api import make_package, two_stores

TOKEN = "metrics-test-token-0123456789"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def metrics_on(app):
    app.config["METRICS_TOKEN"] = TOKEN
    yield
    app.config["METRICS_TOKEN"] = None


def scrape(client) -> dict[tuple[str, tuple], float]:
    """Every sample of GET /metrics as {(name, sorted labels): value}."""
    response = client.get("/metrics", headers=BEARER)
    assert response.status_code == 200
    return parse(response.get_data(as_text=True))


def parse(text: str) -> dict[tuple[str, tuple], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_is_not_there_until_a_token_is_set(app, client):
    app.config["METRICS_TOKEN"] = None
    response = client.get("/metrics", headers=BEARER)
    assert response.status_code == 404
    assert b"packline_" not in response.data


def test_metrics_refuse_a_missing_or_wrong_token_and_are_never_cached(app, client, metrics_on):
    for headers in ({}, {"Authorization": "Bearer wrong-token"}, {"Authorization": f"Token {TOKEN}"},
                    {"Authorization": f"Bearer {TOKEN}x"}, {"Authorization": "Bearer"}):
        response = client.get("/metrics", headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert response.headers["Cache-Control"] == "no-store"
        assert b"packline_" not in response.data
    response = client.get("/metrics", headers=BEARER)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    assert response.headers["Cache-Control"] == "no-store"


def test_requests_are_counted_by_endpoint_method_and_status_with_bounded_labels(app, client, metrics_on):
    before = scrape(client)
    for _ in range(3):
        assert client.get("/healthz").status_code == 200
    assert client.get("/no/such/page/42").status_code == 404
    after = scrape(client)
    healthz = {"endpoint": "health.healthz", "method": "GET"}
    assert value(after, "packline_http_requests_total", **healthz, status="200") \
        - value(before, "packline_http_requests_total", **healthz, status="200") == 3
    assert value(after, "packline_http_request_duration_seconds_count", **healthz) \
        - value(before, "packline_http_request_duration_seconds_count", **healthz) == 3
    # A 404 is counted under one label whatever its path, so clients cannot invent series.
    unmatched = {"endpoint": "unmatched", "method": "GET", "status": "404"}
    assert value(after, "packline_http_requests_total", **unmatched) \
        - value(before, "packline_http_requests_total", **unmatched) == 1
    assert not any("no/such" in str(labels) for _, labels in after)


def test_each_queue_reports_its_depth_and_its_failed_jobs(app, client, metrics_on):
    for order_id in (900001, 900002):  # no such orders: the jobs fail for good
        enqueue("planning", "app.tasks.planning.plan_order", order_id, job_id=f"plan-order-{order_id}")
    enqueue("default", "app.tasks.housekeeping.housekeeping", job_id="housekeeping-now")
    samples = scrape(client)
    for name in QUEUE_NAMES:
        assert ("packline_queue_jobs", (("queue", name), ("state", "queued"))) in samples
        assert ("packline_queue_failed_jobs", (("queue", name),)) in samples
    assert value(samples, "packline_queue_jobs", queue="planning", state="queued") == 2
    assert value(samples, "packline_queue_jobs", queue="default", state="queued") == 1
    assert value(samples, "packline_queue_failed_jobs", queue="planning") == 0

    run_worker(["planning", "default"], burst=True)
    samples = scrape(client)
    assert value(samples, "packline_queue_jobs", queue="planning", state="queued") == 0
    assert value(samples, "packline_queue_failed_jobs", queue="planning") == 2
    assert value(samples, "packline_queue_failed_jobs", queue="default") == 0
    job = "app.tasks.planning.plan_order"
    assert value(samples, "packline_job_duration_seconds_count", job=job, outcome="not_found") >= 2
    assert value(samples, "packline_metrics_source_up", source="redis") == 1


def test_outbox_lag_is_the_age_of_the_oldest_unpublished_event(app, client, metrics_on):
    samples = scrape(client)
    assert value(samples, "packline_outbox_lag_seconds") == 0
    assert value(samples, "packline_outbox_unpublished_events") == 0
    now = utcnow()
    db.session.add_all([
        OutboxEvent(type="order.created", aggregate_type="order", aggregate_id=1, occurred_at=now - timedelta(hours=2),
                    published_at=now),  # published: no lag
        OutboxEvent(type="order.created", aggregate_type="order", aggregate_id=2, occurred_at=now - timedelta(seconds=90)),
        OutboxEvent(type="order.created", aggregate_type="order", aggregate_id=3, occurred_at=now - timedelta(seconds=5)),
    ])
    db.session.commit()
    samples = scrape(client)
    assert 90 <= value(samples, "packline_outbox_lag_seconds") < 150
    assert value(samples, "packline_outbox_unpublished_events") == 2


def test_webhook_delivery_lag_and_failures(app, client, metrics_on):
    samples = scrape(client)
    assert value(samples, "packline_webhook_delivery_lag_seconds") == 0
    now = utcnow()
    subscription = WebhookSubscription(url="https://hooks.example.com/in", events=["*"], secret="s" * 32)
    db.session.add(subscription)
    for i, (status, age) in enumerate([("succeeded", 3600), ("failed", 7200), ("retrying", 600), ("pending", 30),
                                       ("pending", 5)]):
        event = OutboxEvent(type="order.created", aggregate_type="order", aggregate_id=i, occurred_at=now,
                            published_at=now)
        db.session.add(WebhookDelivery(subscription=subscription, event=event, status=status,
                                       created_at=now - timedelta(seconds=age)))
    db.session.commit()
    samples = scrape(client)
    # The oldest delivery still to make (retrying for 10 minutes); succeeded and given-up ones do not count.
    assert 600 <= value(samples, "packline_webhook_delivery_lag_seconds") < 660
    assert value(samples, "packline_webhook_deliveries", status="pending") == 2
    assert value(samples, "packline_webhook_deliveries", status="retrying") == 1
    assert value(samples, "packline_webhook_deliveries", status="failed") == 1


def test_command_latency_is_recorded_by_kind_command_and_outcome(app, client, metrics_on):
    a, _, shirt = two_stores()
    package = make_package(a, shirt, "WEB-77")
    admin = auth("ops")
    before = scrape(client)
    assert client.post(f"/api/v1/packages/{package.id}/commands/prepare", headers=admin).status_code == 200
    assert client.post(f"/api/v1/packages/{package.id}/commands/prepare", headers=admin).status_code == 409
    assert client.post(f"/api/v1/packages/{package.id}/commands/make-it-so-{package.id}",
                       headers=admin).status_code == 404
    after = scrape(client)

    def grew(**labels: str) -> float:
        name = "packline_command_duration_seconds_count"
        return value(after, name, kind="package", **labels) - value(before, name, kind="package", **labels)

    assert grew(command="prepare", outcome="ok") == 1
    assert grew(command="prepare", outcome="command_not_allowed") == 1
    assert grew(command="unknown", outcome="unknown_command") == 1  # an invented name is no label
    assert value(after, "packline_command_duration_seconds_sum", kind="package", command="prepare", outcome="ok") > 0


def test_planned_orders_are_counted_for_a_rate(app, client, metrics_on):
    store = master_data()
    db.session.add(Scenario(name="Web", priority=10, active=True, default_location=store, conditions={},
                            rules=[ScenarioRule(position=0, name="Any store", sort=[{"by": "priority", "order": "asc"}])]))
    db.session.commit()
    admin = auth("erp")
    before = scrape(client)
    assert client.post("/api/v1/orders", json=ORDER, headers=admin).status_code == 201
    run_worker(["planning"], burst=True)  # plan-order-<id>, one order at a time
    for number in ("WEB-2001", "WEB-2002"):
        assert client.post("/api/v1/orders", json={**ORDER, "number": number}, headers=admin).status_code == 201
    Queue("planning", connection=redis_connection()).empty()  # their own jobs never run:
    assert batch.plan_batch() == {"planned": 2}  # the other two, as one batch
    after = scrape(client)
    db.session.commit()
    assert sorted(db.session.scalars(select(Order.status))) == ["planned"] * 3
    assert value(after, "packline_orders_planned_total", how="order") \
        - value(before, "packline_orders_planned_total", how="order") == 1
    assert value(after, "packline_orders_planned_total", how="batch") \
        - value(before, "packline_orders_planned_total", how="batch") == 2
    assert value(after, "packline_command_duration_seconds_count", kind="order", command="create", outcome="ok") \
        - value(before, "packline_command_duration_seconds_count", kind="order", command="create", outcome="ok") == 3


def test_a_scrape_without_redis_still_answers_and_says_so(app, client, metrics_on, redis_server):
    redis_server.stop()  # the app fixture starts it again for the next test
    response = client.get("/metrics", headers=BEARER)
    assert response.status_code == 200
    samples = parse(response.get_data(as_text=True))
    assert value(samples, "packline_metrics_source_up", source="redis") == 0
    assert value(samples, "packline_metrics_source_up", source="database") == 1
    assert ("packline_outbox_lag_seconds", ()) in samples


SCRIPT = """
import json, sys
from app import create_app
app = create_app({"TESTING": True, "METRICS_TOKEN": "t0ken-for-this-test"})
client = app.test_client()
for _ in range(int(sys.argv[1])):
    assert client.get("/healthz").status_code == 200
if sys.argv[2] == "scrape":
    print(client.get("/metrics", headers={"Authorization": "Bearer t0ken-for-this-test"}).get_data(as_text=True))
"""


def test_with_a_multiprocess_directory_a_scrape_adds_up_every_process(app, database_url, redis_server, tmp_path):
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus"), "DATABASE_URL": database_url,
           "REDIS_URL": redis_server.url, "PACKLINE_ENV": "test", "PACKLINE_INSTANCE_DIR": str(tmp_path / "instance")}

    def run(requests: int, then: str) -> str:
        done = subprocess.run([sys.executable, "-c", SCRIPT, str(requests), then], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout

    run(2, "exit")  # one gunicorn worker answers two health checks and exits
    samples = parse(run(3, "scrape"))  # another answers three, then is scraped
    assert value(samples, "packline_http_requests_total", endpoint="health.healthz", method="GET", status="200") == 5
    assert value(samples, "packline_queue_jobs", queue="planning", state="queued") == 0
    assert os.listdir(tmp_path / "prometheus")  # each process's counts are files there
