"""Prometheus metrics at GET /metrics (prometheus_client, text format 0.0.4).

Counted as things happen: HTTP requests by endpoint, method and status (count and latency),
command latency by kind, command and outcome (`timed_command` on the public command functions),
job run time, orders planned (rate() gives orders/s). Read from Redis and the database at scrape
time (`StateCollector`): jobs per queue and state, failed jobs per queue, outbox lag, webhook
delivery lag and open/failed deliveries.

/metrics answers only `Authorization: Bearer <METRICS_TOKEN>`; without METRICS_TOKEN it is a 404.
With PROMETHEUS_MULTIPROC_DIR set (gunicorn with several workers, and the RQ workers on the same
host), every process writes its counts there and a scrape of any web process adds them up.
"""

from __future__ import annotations

import functools
import hmac
import inspect
import logging
import os
import time
from collections.abc import Callable, Collection, Iterator
from typing import Any, TypeVar

from flask import Flask, Response, abort, current_app, g, request
from prometheus_client import (
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from rq import Queue
from sqlalchemy import func, select

from app.extensions import db
from app.models.base import utcnow
from app.models.events import OutboxEvent
from app.models.webhooks import WebhookDelivery
from app.queues import QUEUE_NAMES, redis_connection
from app.services.errors import ServiceError

F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger(__name__)

disable_created_metrics()  # no *_created series: half the lines, and Prometheus does not need them

REQUESTS = Counter("packline_http_requests", "HTTP requests answered, by endpoint, method and status.",
                   ["endpoint", "method", "status"])
REQUEST_SECONDS = Histogram("packline_http_request_duration_seconds", "Time to answer an HTTP request.",
                            ["endpoint", "method"])
COMMAND_SECONDS = Histogram(
    "packline_command_duration_seconds",
    "Time to run a command (package, transfer, order), by outcome: ok or the error code.",
    ["kind", "command", "outcome"])
JOB_SECONDS = Histogram("packline_job_duration_seconds", "Time to run a job, by job function and outcome.",
                        ["job", "outcome"], buckets=(0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300))
ORDERS_PLANNED = Counter("packline_orders_planned", "Orders run through the planner and committed, in a batch or one at a time.",
                         ["how"])

HTTP_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}
OPEN_DELIVERY_STATUSES = ("pending", "retrying")
JOB_STATES = ("queued", "started", "scheduled", "deferred")


def _outcome(exc: BaseException) -> str:
    return exc.code if isinstance(exc, ServiceError) else "error"


def timed_command(kind: str, command: str | None = None, known: Collection[str] = ()) -> Callable[[F], F]:
    """Time each call into packline_command_duration_seconds. The command is `command`, or the
    function's own `command` argument when it is one of `known` ("unknown" otherwise, so a caller
    cannot invent label values)."""

    def decorate(fn: F) -> F:
        signature = inspect.signature(fn)

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            name = command
            if name is None:
                given = signature.bind_partial(*args, **kwargs).arguments.get("command")
                name = given if given in known else "unknown"
            started, outcome = time.perf_counter(), "ok"
            try:
                return fn(*args, **kwargs)
            except BaseException as exc:
                outcome = _outcome(exc)
                raise
            finally:
                COMMAND_SECONDS.labels(kind, name, outcome).observe(time.perf_counter() - started)

        return wrapper  # type: ignore[return-value]

    return decorate


def orders_planned(how: str, count: int = 1) -> None:
    ORDERS_PLANNED.labels(how).inc(count)


def observe_job(name: str, seconds: float, exc: BaseException | None) -> None:
    JOB_SECONDS.labels(name, "ok" if exc is None else _outcome(exc)).observe(seconds)


# --- read at scrape time -------------------------------------------------------------------------

def _gauge(name: str, documentation: str, labels: list[str] | None = None) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, labels=labels)


class StateCollector(Collector):
    """Queue depths from Redis and lags from the database, read when Prometheus scrapes."""

    def collect(self) -> Iterator[Metric]:
        up = _gauge("packline_metrics_source_up", "1 when the scrape could read this source.", ["source"])
        try:
            yield from self._queues()
            up.add_metric(["redis"], 1)
        except Exception as exc:  # noqa: BLE001 - a scrape reports the outage, never a 500
            log.warning("metrics: Redis not readable: %s", exc)
            up.add_metric(["redis"], 0)
        try:
            yield from self._database()
            up.add_metric(["database"], 1)
        except Exception as exc:  # noqa: BLE001
            log.warning("metrics: database not readable: %s", exc)
            up.add_metric(["database"], 0)
        finally:
            db.session.rollback()
        yield up

    def _queues(self) -> Iterator[Metric]:
        conn = redis_connection()
        jobs = _gauge("packline_queue_jobs", "Jobs in each queue by state (queued = waiting for a worker).",
                      ["queue", "state"])
        failed = _gauge("packline_queue_failed_jobs", "Jobs that failed for good, kept in the queue's failed registry.",
                        ["queue"])
        for name in QUEUE_NAMES:
            queue = Queue(name, connection=conn)
            counts = {
                "queued": queue.count,
                "started": queue.started_job_registry.get_job_count(cleanup=False),
                "scheduled": queue.scheduled_job_registry.get_job_count(cleanup=False),
                "deferred": queue.deferred_job_registry.get_job_count(cleanup=False),
            }
            for state in JOB_STATES:
                jobs.add_metric([name, state], counts[state])
            failed.add_metric([name], queue.failed_job_registry.get_job_count(cleanup=False))
        yield jobs
        yield failed

    def _database(self) -> Iterator[Metric]:
        now = utcnow()
        unpublished, oldest = db.session.execute(
            select(func.count(), func.min(OutboxEvent.occurred_at)).where(OutboxEvent.published_at.is_(None))
        ).one()
        lag = _gauge("packline_outbox_lag_seconds", "Age of the oldest outbox event not yet published (0: none).")
        lag.add_metric([], _age(now, oldest))
        pending = _gauge("packline_outbox_unpublished_events", "Outbox events not yet published.")
        pending.add_metric([], unpublished)
        rows = db.session.execute(
            select(WebhookDelivery.status, func.count(), func.min(WebhookDelivery.created_at))
            .where(WebhookDelivery.status.in_((*OPEN_DELIVERY_STATUSES, "failed")))
            .group_by(WebhookDelivery.status)
        ).all()
        by_status = {status: (count, first) for status, count, first in rows}
        deliveries = _gauge("packline_webhook_deliveries",
                            "Webhook deliveries waiting (pending), failing and retrying, or given up (failed).",
                            ["status"])
        for status in (*OPEN_DELIVERY_STATUSES, "failed"):
            deliveries.add_metric([status], by_status.get(status, (0, None))[0])
        oldest_open = min((by_status[s][1] for s in OPEN_DELIVERY_STATUSES if s in by_status), default=None)
        delivery_lag = _gauge("packline_webhook_delivery_lag_seconds",
                              "Age of the oldest webhook delivery not yet delivered nor given up (0: none).")
        delivery_lag.add_metric([], _age(now, oldest_open))
        yield from (lag, pending, deliveries, delivery_lag)


def _age(now, moment) -> float:
    return max(0.0, (now - moment).total_seconds()) if moment is not None else 0.0


class _ThisProcess(Collector):
    """The counters of this process (single-process mode) inside a scrape's own registry."""

    def collect(self) -> Iterator[Metric]:
        return REGISTRY.collect()


def _multiprocess_dir() -> str | None:
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def render() -> bytes:
    registry = CollectorRegistry()
    if _multiprocess_dir():
        MultiProcessCollector(registry)
    else:
        registry.register(_ThisProcess())
    registry.register(StateCollector())
    return generate_latest(registry)


# --- the endpoint --------------------------------------------------------------------------------

def _authorised() -> bool:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    token = current_app.config["METRICS_TOKEN"]
    return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())


def metrics_view() -> Response:
    if not current_app.config.get("METRICS_TOKEN"):
        abort(404)  # off unless a token is set
    if not _authorised():
        return Response("Send the header Authorization: Bearer <METRICS_TOKEN>.\n", 401, mimetype="text/plain",
                        headers={"WWW-Authenticate": 'Bearer realm="metrics"', "Cache-Control": "no-store"})
    return Response(render(), 200, content_type=CONTENT_TYPE_PLAIN_0_0_4, headers={"Cache-Control": "no-store"})


def init_app(app: Flask) -> None:
    """The /metrics route and the request counters."""
    if directory := _multiprocess_dir():
        os.makedirs(directory, exist_ok=True)
    app.add_url_rule("/metrics", "metrics", metrics_view, methods=["GET"])

    @app.before_request
    def _start_timer() -> None:
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _count_request(response: Response) -> Response:
        # Labels a client cannot multiply: 404s share one endpoint, odd methods one method.
        endpoint = request.endpoint or "unmatched"
        method = request.method if request.method in HTTP_METHODS else "other"
        REQUESTS.labels(endpoint, method, str(response.status_code)).inc()
        if (started := g.get("metrics_started")) is not None:
            REQUEST_SECONDS.labels(endpoint, method).observe(time.perf_counter() - started)
        return response
