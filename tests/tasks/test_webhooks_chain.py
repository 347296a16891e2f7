"""A sender thread's chain of first attempts: recording one attempt and claiming the
subscription's next delivery is one transaction (outbox.finish_and_claim_next), and the rules of
outbox.py still hold — order, leases (a killed worker's delivery is sent again), retries that
never hold up newer events. Real receiver on 127.0.0.1, real Redis, real worker processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from rq import Queue
from sqlalchemy import event, select

from app.extensions import db
from app.models.base import utcnow
from app.models.webhooks import WebhookAttempt, WebhookDelivery
from app.queues import redis_connection
from app.services.webhooks import INTERRUPTED, claim_attempt, publish_pending, sender, sweep
from app.worker import tick
from tests.http_servers import LocalServer, QuietHandler, serving
from tests.tasks.test_webhooks_flow import Receiver, change_package, run_worker, running_receiver, subscribe
from tests.tasks.test_webhooks_worker_killed import LEASE_SECONDS, kill_tree, start_worker_process

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as server:
        yield server


@contextmanager
def counting() -> Iterator[dict[str, int]]:
    """Statements (BEGIN aside), transactions begun and commits on the app's engine."""
    seen = {"statements": 0, "begins": 0, "commits": 0}

    def statement(conn, cursor, text, params, context, executemany) -> None:
        if not text.lstrip().upper().startswith("BEGIN"):
            seen["statements"] += 1

    def begin(conn) -> None:
        seen["begins"] += 1

    def commit(conn) -> None:
        seen["commits"] += 1

    engine = db.engine
    listeners = [("before_cursor_execute", statement), ("begin", begin), ("commit", commit)]
    for name, fn in listeners:
        event.listen(engine, name, fn)
    try:
        yield seen
    finally:
        for name, fn in listeners:
            event.remove(engine, name, fn)


def claim_head() -> object:
    head = db.session.scalar(select(WebhookDelivery.id).order_by(WebhookDelivery.event_id).limit(1))
    db.session.rollback()
    claim = claim_attempt(head)
    assert claim is not None and claim.first
    return claim


def test_a_chained_delivery_is_recorded_and_the_next_one_claimed_in_one_transaction(app, receiver):
    subscribe(receiver.url("/ok"))
    ids = [change_package(n, "waiting", "preparing") for n in range(6)]
    assert publish_pending() == 6
    claim = claim_head()

    with counting() as seen:
        made = sender.send_in_order(claim)

    assert made == 6
    assert receiver.event_ids("/ok") == ids
    db.session.rollback()
    assert db.session.scalars(select(WebhookDelivery.status)).all() == ["succeeded"] * 6
    attempts = db.session.scalars(select(WebhookAttempt).order_by(WebhookAttempt.id)).all()
    assert [(a.number, a.status_code, a.error) for a in attempts] == [(1, 204, None)] * 6
    # One write transaction per attempt (record it, claim the next: 5 statements), plus one read
    # at the end of the chain (is anything left for a job?). The path before took three per
    # delivery — a finish, a read of the head, a claim — and 12 statements.
    assert seen["commits"] == made
    assert seen["begins"] <= made + 1
    assert seen["statements"] <= 5 * made + 2, seen


def test_a_failing_first_attempt_in_a_chain_lets_the_next_events_go_and_is_retried(app, receiver, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_RETRY_BASE_SECONDS", 0.2)
    subscribe(receiver.url("/flaky"), retry={"strategy": "fixed", "max_attempts": 9})  # 500, 500, then 204
    ids = [change_package(n, "waiting", "preparing") for n in range(4)]
    assert publish_pending() == 4

    assert sender.send_in_order(claim_head()) == 4  # the chain went on past both failures

    seen = receiver.requests_to("/flaky")
    assert [json.loads(body)["id"] for _, body in seen] == ids
    assert [h["Packline-Attempt"] for h, _ in seen] == ["1"] * 4
    db.session.rollback()
    deliveries = db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.event_id)).all()
    assert [(d.status, d.attempts, d.last_status_code) for d in deliveries] == [
        ("retrying", 1, 500), ("retrying", 1, 500), ("succeeded", 1, 204), ("succeeded", 1, 204)]
    assert all(d.next_attempt_at is not None for d in deliveries[:2])
    scheduled = set(Queue("webhooks", connection=redis_connection()).scheduled_job_registry.get_job_ids())
    assert {f"webhook-{d.id}-1" for d in deliveries[:2]} <= scheduled  # their retries are scheduled

    time.sleep(0.3)  # the retries are due
    sweep()
    run_worker()
    db.session.rollback()
    assert db.session.scalars(select(WebhookDelivery.status)).all() == ["succeeded"] * 4
    assert [json.loads(body)["id"] for _, body in receiver.requests_to("/flaky")] == ids + ids[:2]


def test_the_chain_stops_at_a_switched_off_subscription(app, receiver):
    from app.models.webhooks import WebhookSubscription

    sub_id = subscribe(receiver.url("/ok"))
    ids = [change_package(n, "waiting", "preparing") for n in range(3)]
    assert publish_pending() == 3
    claim = claim_head()
    db.session.get(WebhookSubscription, sub_id).active = False
    db.session.commit()

    assert sender.send_in_order(claim) == 1  # the claimed one goes; the rest wait for the subscription
    assert receiver.event_ids("/ok") == ids[:1]
    db.session.rollback()
    assert db.session.scalars(select(WebhookDelivery.status).order_by(WebhookDelivery.event_id)).all() == [
        "succeeded", "pending", "pending"]


def test_a_head_locked_by_another_claim_is_skipped_and_left_to_a_job(app, receiver):
    """PostgreSQL: the chain takes the next head with SKIP LOCKED. Another worker's claim that
    holds the head's row sees the delivery just finished as still pending and gives up; the chain
    skipped it. Without the kick after the chain's commit nobody would send it (until the sweep)."""
    subscribe(receiver.url("/ok"))
    ids = [change_package(n, "waiting", "preparing") for n in range(3)]
    assert publish_pending() == 3
    heads = db.session.scalars(select(WebhookDelivery.id).order_by(WebhookDelivery.event_id)).all()
    db.session.rollback()
    claim = claim_attempt(heads[0])
    Queue("webhooks", connection=redis_connection()).empty()  # the publish kick's job: only ours may appear

    other = db.engine.connect()  # another worker's claim of the second delivery, in progress
    try:
        other.execute(select(WebhookDelivery.id).where(WebhookDelivery.id == heads[1]).with_for_update())
        made = sender.send_in_order(claim)
        if db.engine.dialect.name == "postgresql":
            assert made == 1  # the locked head was skipped, not waited for
            jobs = Queue("webhooks", connection=redis_connection()).jobs
            assert [(j.func_name, j.args) for j in jobs] == [("app.tasks.webhooks.deliver", (heads[1],))]
        else:
            assert made == 3  # SQLite has no row locks: the chain went on
    finally:
        other.rollback()  # that claim gave up (an earlier event was pending in its snapshot)
        other.close()
    run_worker()
    db.session.rollback()
    assert receiver.event_ids("/ok") == ids
    assert db.session.scalars(select(WebhookDelivery.status)).all() == ["succeeded"] * 3


# --- a worker killed in the middle of a chain -------------------------------------------------------


class HoldSecond(LocalServer):
    """Answers 204; holds the second request it gets until `release` is set. Records
    (event id, attempt) of every request."""

    def __init__(self) -> None:
        super().__init__(_HoldSecondHandler)
        self.lock = threading.Lock()
        self.seen: list[tuple[str, str]] = []
        self.second_arrived = threading.Event()
        self.release = threading.Event()


class _HoldSecondHandler(QuietHandler):
    server: HoldSecond

    def do_POST(self) -> None:
        self.read_body()
        with self.server.lock:
            self.server.seen.append((self.headers["Packline-Event-Id"], self.headers["Packline-Attempt"]))
            count = len(self.server.seen)
        if count == 2:
            self.server.second_arrived.set()
            self.server.release.wait(60)
        self.reply(204)


def test_a_worker_killed_in_the_middle_of_a_chain_leaves_a_lease_and_the_delivery_is_sent_again(app):
    server = HoldSecond()
    with serving(server, release=server.release):
        subscribe(server.url("/hold"))
        ids = [change_package(n, "waiting", "preparing") for n in range(4)]
        worker = start_worker_process(app)  # sender threads on; its lease is 2 s
        try:
            # The first delivery went out; the second was claimed by the chain and is in flight.
            assert server.second_arrived.wait(60), "the worker never got to the second delivery"
            kill_tree(worker.pid)
            worker.wait(timeout=10)
        finally:
            if worker.poll() is None:
                kill_tree(worker.pid)
                worker.wait(timeout=10)
        server.release.set()

        db.session.rollback()
        deliveries = db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.event_id)).all()
        assert [(d.status, d.attempts) for d in deliveries] == [
            ("succeeded", 1), ("pending", 1), ("pending", 0), ("pending", 0)]
        leased_id, lease_ends = deliveries[1].id, deliveries[1].next_attempt_at  # the chain's claim took the lease
        assert lease_ends is not None and lease_ends <= utcnow() + timedelta(seconds=LEASE_SECONDS)
        time.sleep(max(0.0, (lease_ends - utcnow()).total_seconds()) + 0.2)
        db.session.rollback()
        assert "webhooks-sweep" in tick(app, redis_connection())
        run_worker()  # the expired lease is swept; the rest follow in order

        db.session.rollback()
        assert server.seen == [(ids[0], "1"), (ids[1], "1"), (ids[1], "2"), (ids[2], "1"), (ids[3], "1")]
        assert db.session.scalars(select(WebhookDelivery.status)).all() == ["succeeded"] * 4
        log = db.session.scalars(select(WebhookAttempt).where(WebhookAttempt.delivery_id == leased_id)
                                 .order_by(WebhookAttempt.id)).all()
        assert [(a.number, a.status_code, a.error) for a in log] == [(1, None, INTERRUPTED), (2, 204, None)]


# --- two real workers, several subscriptions ----------------------------------------------------------


def start_worker(app) -> subprocess.Popen:
    """`flask worker webhooks` (not burst: it keeps taking jobs while events are committed)."""
    env = dict(os.environ, DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"], REDIS_URL=app.config["REDIS_URL"],
               PACKLINE_INSTANCE_DIR=app.instance_path, WEBHOOK_SENDER_THREADS="4")
    flask = Path(sys.executable).with_name("flask")
    return subprocess.Popen([str(flask), "--app", "wsgi", "worker", "webhooks"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def hold_off_the_sweeper(seconds: int = 600) -> None:
    """Win the sweeper's periodic slots for the next `seconds` (app.worker.tick), so whatever the
    workers deliver they deliver through jobs and chains: a delivery both left behind would stay."""
    from app.tasks.webhooks import SWEEP_SECONDS

    conn = redis_connection()
    first = int(time.time() // SWEEP_SECONDS)
    for slot in range(first, first + seconds // SWEEP_SECONDS + 1):
        conn.set(f"packline:periodic:webhooks-sweep:{slot}", "1", ex=seconds * 2)


def test_two_workers_deliver_every_subscription_in_order_while_events_keep_coming(app, receiver):
    paths = ("/a", "/b", "/c")
    for path in paths:
        subscribe(receiver.url(path))
    hold_off_the_sweeper()
    workers = [start_worker(app) for _ in range(2)]
    try:
        ids = []
        for n in range(60):  # committed while the workers run: publish jobs and chains overlap
            ids.append(change_package(n, "waiting", "preparing"))
            if n % 5 == 4:
                time.sleep(0.05)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and any(len(receiver.requests_to(p)) < len(ids) for p in paths):
            time.sleep(0.1)
        time.sleep(0.5)  # anything sent twice would arrive now
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                kill_tree(worker.pid)
                worker.wait(timeout=10)

    for path in paths:
        assert receiver.event_ids(path) == ids, f"{path}: {len(receiver.event_ids(path))} of {len(ids)}"
        assert {h["Packline-Attempt"] for h, _ in receiver.requests_to(path)} == {"1"}
    db.session.rollback()
    rows = db.session.execute(select(WebhookDelivery.status, WebhookDelivery.attempts)).all()
    assert len(rows) == 3 * len(ids) and set(rows) == {("succeeded", 1)}
