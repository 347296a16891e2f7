"""A worker process killed with SIGKILL in the middle of a delivery loses nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.base import utcnow
from app.models.webhooks import WebhookAttempt, WebhookDelivery
from app.queues import redis_connection
from app.services.webhooks import INTERRUPTED, verify
from app.worker import tick
from tests.tasks.test_webhooks_flow import (
    SECRET,
    Receiver,
    change_package,
    run_worker,
    running_receiver,
    subscribe,
)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as server:
        yield server


ROOT = Path(__file__).resolve().parents[2]
LEASE_SECONDS = 2


def start_worker_process(app) -> subprocess.Popen:
    """`flask worker --burst webhooks` against the test database and Redis."""
    env = dict(os.environ, DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"], REDIS_URL=app.config["REDIS_URL"],
               WEBHOOK_LEASE_SECONDS=str(LEASE_SECONDS), PACKLINE_INSTANCE_DIR=app.instance_path)
    flask = Path(sys.executable).with_name("flask")
    return subprocess.Popen([str(flask), "--app", "wsgi", "worker", "--burst", "webhooks"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def kill_tree(pid: int) -> None:
    """SIGKILL a process and its descendants (RQ's work-horse runs in a session of its own)."""
    pids = [pid]
    for current in pids:
        for task in Path(f"/proc/{current}/task").glob("*"):
            children = (task / "children").read_text().split() if (task / "children").exists() else []
            pids.extend(int(child) for child in children)
    for target in pids:
        try:
            os.kill(target, signal.SIGKILL)
        except ProcessLookupError:
            pass


def test_a_delivery_interrupted_by_a_killed_worker_is_retried_with_the_same_event_id(app, receiver):
    subscribe(receiver.url("/block-first"))
    event_id = change_package(5, "preparing", "packed")  # the relay queues the publish job

    worker = start_worker_process(app)
    try:
        assert receiver.first_arrived.wait(60), "the worker never delivered"
        kill_tree(worker.pid)  # mid-request: the receiver still holds it
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            kill_tree(worker.pid)
            worker.wait(timeout=10)
    time.sleep(0.2)
    receiver.release.set()

    db.session.rollback()  # a fresh snapshot: the worker wrote from another process
    delivery = db.session.scalar(select(WebhookDelivery))
    assert delivery.status == "pending" and delivery.attempts == 1  # the lease holds it for now
    assert delivery.next_attempt_at <= utcnow() + timedelta(seconds=LEASE_SECONDS)
    time.sleep(max(0.0, (delivery.next_attempt_at - utcnow()).total_seconds()) + 0.2)  # the lease expires
    db.session.rollback()

    assert "webhooks-sweep" in tick(app, redis_connection())
    run_worker()  # the sweeper finds the expired lease and a new worker delivers

    db.session.rollback()
    delivery = db.session.scalar(select(WebhookDelivery))
    assert delivery.status == "succeeded" and delivery.attempts == 2
    seen = receiver.requests_to("/block-first")
    assert [h["Packline-Event-Id"] for h, _ in seen] == [event_id, event_id]
    assert [json.loads(body)["id"] for _, body in seen] == [event_id, event_id]
    assert [h["Packline-Attempt"] for h, _ in seen] == ["1", "2"]
    assert all(verify(SECRET, body, h["Packline-Signature"]) for h, body in seen)
    attempts = db.session.scalars(select(WebhookAttempt).order_by(WebhookAttempt.id)).all()
    assert [(a.number, a.status_code, a.error) for a in attempts] == [(1, None, INTERRUPTED), (2, 204, None)]
