"""Redis connection and RQ queues, created lazily per process from REDIS_URL."""

from __future__ import annotations

from typing import Any

from flask import current_app
from redis import Redis
from rq import Queue

from app.logs import current_request_id

# A worker takes jobs from the first of its queues that has one: `imports` comes last, so an
# import (which runs a slice at a time and re-queues itself) always makes way for other work.
QUEUE_NAMES = ("default", "planning", "carriers", "webhooks", "channels", "imports")

_connections: dict[str, Redis] = {}


def redis_connection(url: str | None = None) -> Redis:
    url = url or current_app.config["REDIS_URL"]
    conn = _connections.get(url)
    if conn is None:
        conn = Redis.from_url(url, socket_connect_timeout=2, socket_timeout=10, health_check_interval=30)
        _connections[url] = conn
    return conn


def get_queue(name: str = "default") -> Queue:
    return Queue(name, connection=redis_connection(), is_async=not current_app.config.get("RQ_SYNC"))


def enqueue(queue: str, func: Any, *args: Any, job_id: str | None = None, **kwargs: Any):
    """Enqueue a job; with a stable `job_id` a duplicate of a still-queued job is not added twice.
    The job carries the current request id in its meta, so its log lines name the request."""
    q = get_queue(queue)
    if job_id is not None:
        existing = q.fetch_job(job_id)
        if existing is not None and existing.get_status(refresh=True) in ("queued", "deferred", "scheduled"):
            return existing
    if request_id := current_request_id():
        kwargs["meta"] = {"request_id": request_id, **(kwargs.get("meta") or {})}
    return q.enqueue(func, *args, job_id=job_id, **kwargs)
