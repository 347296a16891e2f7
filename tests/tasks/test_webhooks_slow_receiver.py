"""A receiver that takes seconds to answer does not hold up other subscriptions' deliveries: one
real worker process (`flask worker --burst webhooks`), a real HTTP receiver on 127.0.0.1."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.webhooks import WebhookDelivery
from tests.http_servers import LocalServer, QuietHandler, serving
from tests.tasks.test_webhooks_flow import change_package, subscribe

ROOT = Path(__file__).resolve().parents[2]


class SlowAndFast(LocalServer):
    """`/slow` answers only when `release` is set (or after 30 s); everything else at once.
    Records (path, event id, attempt, arrival time)."""

    def __init__(self) -> None:
        super().__init__(_Handler)
        self.lock = threading.Lock()
        self.arrivals: list[tuple[str, str, str, float]] = []
        self.release = threading.Event()

    def events_at(self, path: str) -> list[str]:
        with self.lock:
            return [event for p, event, _, _ in self.arrivals if p == path]


class _Handler(QuietHandler):
    server: SlowAndFast

    def do_POST(self) -> None:
        self.read_body()
        with self.server.lock:
            self.server.arrivals.append((self.path, self.headers["Packline-Event-Id"],
                                         self.headers["Packline-Attempt"], time.monotonic()))
        if self.path == "/slow":
            self.server.release.wait(30)
        self.reply(204)


@pytest.fixture
def receiver() -> Iterator[SlowAndFast]:
    server = SlowAndFast()
    with serving(server, release=server.release):
        yield server


def start_worker(app, threads: int) -> subprocess.Popen:
    env = dict(os.environ, DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"], REDIS_URL=app.config["REDIS_URL"],
               PACKLINE_INSTANCE_DIR=app.instance_path, WEBHOOK_SENDER_THREADS=str(threads))
    flask = Path(sys.executable).with_name("flask")
    return subprocess.Popen([str(flask), "--app", "wsgi", "worker", "--burst", "webhooks"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_until(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_a_receiver_that_does_not_answer_holds_up_neither_the_worker_nor_the_other_subscriptions(app, receiver):
    subscribe(receiver.url("/slow"))
    fast_paths = ("/fast-a", "/fast-b")
    for path in fast_paths:
        subscribe(receiver.url(path))
    events = [change_package(n, "waiting", "preparing") for n in range(5)]

    worker = start_worker(app, threads=4)  # one worker process: without sender threads it would be stuck on /slow
    try:
        assert wait_until(lambda: receiver.events_at("/slow"), 120), "the worker never started sending"
        # While the slow receiver holds its first request (an attempt gives up after 10 s), every
        # fast delivery arrives, in order.
        assert wait_until(lambda: all(receiver.events_at(p) == events for p in fast_paths), 8), \
            f"fast receivers got {[receiver.events_at(p) for p in fast_paths]} of {events}"
        assert receiver.events_at("/slow") == events[:1]  # ordering: the slow one waits for its first answer
        assert worker.poll() is None
        receiver.release.set()
        worker.wait(timeout=60)  # a burst worker stops once its queue is empty and its attempts are done
    finally:
        receiver.release.set()
        if worker.poll() is None:
            worker.kill()
            worker.wait(timeout=10)

    assert receiver.events_at("/slow") == events  # then the slow one gets the rest, still in order
    db.session.rollback()
    statuses = db.session.scalars(select(WebhookDelivery.status)).all()
    assert statuses == ["succeeded"] * 15
    attempts = [a for a in receiver.arrivals]
    assert {attempt for _, _, attempt, _ in attempts} == {"1"}  # nothing sent twice
