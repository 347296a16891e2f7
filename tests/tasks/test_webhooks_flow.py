"""Outbox → deliveries → signed POSTs to a real receiver on 127.0.0.1, through real Redis and RQ."""

from __future__ import annotations

import json
import socket
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from rq import Queue, SimpleWorker
from sqlalchemy import select

import app.tasks.webhooks  # noqa: F401  (registers the sweeper as a periodic job)
from app.extensions import db
from app.models.events import OutboxEvent
from app.models.webhooks import WebhookAttempt, WebhookDelivery, WebhookSubscription
from app.queues import redis_connection
from app.services import events
from app.services.actors import Actor
from app.services.db import begin_write
from app.services.settings import put_setting
from app.services.webhooks import publish_pending, sweep, verify
from app.services.webhooks.subscriptions import create_subscription, update_subscription
from app.worker import tick
from tests.http_servers import LocalServer, QuietHandler, serving

SECRET = "s3cret-for-tests"
ADMIN = Actor.system("tests")


# --- a real receiver --------------------------------------------------------------------------------


class Receiver(LocalServer):
    """Records every request. Answers 204, except: `/down` answers 503; `/reset` resets the
    connection; `/huge` sends 5 MB; `/redirect` redirects to `/ok`; `/flaky` fails twice
    with 500, then 204;
    `/block-first` holds the first request until `release` is set, then answers 204."""

    def __init__(self) -> None:
        super().__init__(Handler)
        self.received: list[tuple[str, dict[str, str], bytes]] = []
        self.lock = threading.Lock()
        self.first_arrived = threading.Event()
        self.release = threading.Event()

    def requests_to(self, path: str) -> list[tuple[dict[str, str], bytes]]:
        with self.lock:
            return [(headers, body) for p, headers, body in self.received if p == path]

    def event_ids(self, path: str) -> list[str]:
        return [json.loads(body)["id"] for _, body in self.requests_to(path)]


class Handler(QuietHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.read_body()
        with self.server.lock:
            self.server.received.append((self.path, dict(self.headers.items()), body))
            count = sum(1 for p, _, _ in self.server.received if p == self.path)
        if self.path == "/down":
            return self.reply(503, b"maintenance")
        if self.path == "/reset":  # SO_LINGER 0: close() sends a TCP RST
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return self.connection.close()
        if self.path == "/huge":
            return self.reply(200, b"x" * 5_000_000)
        if self.path == "/redirect":
            return self.reply(302, Location="/ok")
        if self.path == "/flaky" and count <= 2:
            return self.reply(500, b"not today")
        if self.path == "/block-first" and count == 1:
            self.server.first_arrived.set()
            self.server.release.wait(60)
        self.reply(204)


@contextmanager
def running_receiver() -> Iterator[Receiver]:
    server = Receiver()
    with serving(server, release=server.release):
        yield server


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as server:
        yield server


# --- helpers ------------------------------------------------------------------------------------------


def subscribe(url: str, events_: list[str] | None = None, **kw) -> int:
    put_setting("WEBHOOK_ALLOW_PRIVATE_URLS", True)
    sub = create_subscription({"url": url, "events": events_ or ["*"], "secret": SECRET, **kw}, ADMIN)
    return sub.id


def change_package(package_id: int, old: str, new: str) -> str:
    """Like a package command: one transaction that writes the change's events, one commit."""
    begin_write()
    data = {"id": package_id, "number": f"WEB-1-P{package_id}", "state": new}
    event = events.emit("package.state_changed", "package", package_id, data, {"state": old})
    if new == "shipped":
        events.emit("package.shipped", "package", package_id, data, {"state": old})
    db.session.flush()
    event_id = event.event_id
    db.session.commit()
    return event_id


def run_worker() -> None:
    conn = redis_connection()
    SimpleWorker([Queue("webhooks", connection=conn)], connection=conn).work(burst=True)


def all_event_ids() -> list[str]:
    return list(db.session.scalars(select(OutboxEvent.event_id).order_by(OutboxEvent.id)))


# --- tests ----------------------------------------------------------------------------------------------


def test_a_flow_of_events_is_delivered_in_order_signed_with_the_subscription_secret(app, receiver):
    subscribe(receiver.url("/ok"))
    subscribe(receiver.url("/shipped-only"), ["package.shipped"])
    for old, new in (("waiting", "preparing"), ("preparing", "packed"), ("packed", "shipped")):
        change_package(7, old, new)
    run_worker()  # the relay queued the publish job at commit; delivery jobs chain from it

    db.session.expire_all()
    ids = all_event_ids()
    assert len(ids) == 4
    assert receiver.event_ids("/ok") == ids
    bodies = [json.loads(body) for _, body in receiver.requests_to("/ok")]
    assert [(b["type"], b["data"]["state"], b["previous"]) for b in bodies] == [
        ("package.state_changed", "preparing", {"state": "waiting"}),
        ("package.state_changed", "packed", {"state": "preparing"}),
        ("package.state_changed", "shipped", {"state": "packed"}),
        ("package.shipped", "shipped", {"state": "packed"}),
    ]
    for headers, body in receiver.requests_to("/ok"):
        assert verify(SECRET, body, headers["Packline-Signature"])
        assert not verify("another-secret", body, headers["Packline-Signature"])
        assert headers["Packline-Event-Id"] == json.loads(body)["id"]
        assert headers["Packline-Attempt"] == "1"
    assert [json.loads(b)["type"] for _, b in receiver.requests_to("/shipped-only")] == ["package.shipped"]
    statuses = db.session.scalars(select(WebhookDelivery.status)).all()
    assert statuses == ["succeeded"] * 5
    assert db.session.scalar(select(OutboxEvent).where(OutboxEvent.published_at.is_(None))) is None


def test_events_of_inactive_or_non_matching_subscriptions_create_no_deliveries(app, receiver):
    subscribe(receiver.url("/ok"), ["order.created"])
    subscribe(receiver.url("/ok"), active=False)
    change_package(1, "waiting", "preparing")
    run_worker()
    db.session.expire_all()
    assert db.session.scalar(select(WebhookDelivery)) is None
    assert receiver.requests_to("/ok") == []
    assert db.session.scalar(select(OutboxEvent)).published_at is not None


def test_a_receiver_failing_twice_then_succeeding_gets_three_logged_attempts(app, receiver, monkeypatch):
    monkeypatch.setitem(app.config, "WEBHOOK_RETRY_BASE_SECONDS", 0.2)
    subscribe(receiver.url("/flaky"), retry={"strategy": "fixed", "max_attempts": 9})
    event_id = change_package(3, "waiting", "preparing")
    run_worker()
    for _ in range(2):
        db.session.expire_all()
        delivery = db.session.scalar(select(WebhookDelivery))
        assert delivery.status == "retrying"
        time.sleep(0.3)  # the retry is due
        sweep()
        run_worker()

    db.session.expire_all()
    delivery = db.session.scalar(select(WebhookDelivery))
    assert delivery.status == "succeeded" and delivery.attempts == 3
    attempts = db.session.scalars(select(WebhookAttempt).order_by(WebhookAttempt.id)).all()
    assert [(a.number, a.status_code, a.error) for a in attempts] == [
        (1, 500, "HTTP 500"), (2, 500, "HTTP 500"), (3, 204, None)]
    assert attempts[0].response_excerpt == "not today"
    assert all(a.duration_ms is not None for a in attempts)
    seen = receiver.requests_to("/flaky")
    assert [h["Packline-Attempt"] for h, _ in seen] == ["1", "2", "3"]
    assert {h["Packline-Event-Id"] for h, _ in seen} == {event_id}
    assert all(verify(SECRET, body, h["Packline-Signature"]) for h, body in seen)


def test_a_delivery_that_is_not_due_or_already_succeeded_is_never_sent_again(app, receiver):
    subscribe(receiver.url("/ok"))
    change_package(1, "waiting", "preparing")
    run_worker()
    delivery_id = db.session.scalar(select(WebhookDelivery.id))
    from app.queues import enqueue

    enqueue("webhooks", "app.tasks.webhooks.deliver", delivery_id, job_id="duplicate-job")
    sweep()
    run_worker()
    assert len(receiver.requests_to("/ok")) == 1


def test_events_committed_while_redis_is_down_are_delivered_once_when_it_returns(app, receiver, redis_server):
    subscribe(receiver.url("/ok"))
    change_package(1, "waiting", "preparing")  # delivered normally first
    run_worker()

    redis_server.stop()
    for n, (old, new) in enumerate((("waiting", "preparing"), ("preparing", "packed"), ("packed", "shipped"))):
        change_package(10 + n, old, new)  # commands keep working; the relay only logs
    redis_server.start()

    db.session.expire_all()
    assert db.session.scalar(select(OutboxEvent).where(OutboxEvent.published_at.is_(None))) is not None
    enqueued = tick(app, redis_connection())  # the scheduler of any worker
    assert "webhooks-sweep" in enqueued
    run_worker()

    db.session.expire_all()
    ids = all_event_ids()
    assert len(ids) == 5
    assert receiver.event_ids("/ok") == ids  # every event once, in order
    assert db.session.scalars(select(WebhookDelivery.status)).all() == ["succeeded"] * 5
    sweep()
    run_worker()
    assert receiver.event_ids("/ok") == ids  # the sweeper sends nothing twice


def test_deliveries_wait_while_their_subscription_is_off_and_go_out_when_it_is_back(app, receiver):
    sub_id = subscribe(receiver.url("/ok"))
    change_package(1, "waiting", "preparing")
    assert publish_pending() == 1
    db.session.get(WebhookSubscription, sub_id).active = False
    db.session.commit()
    run_worker()  # the delivery exists but waits while the subscription is off
    assert receiver.requests_to("/ok") == []
    update_subscription(sub_id, {"active": True}, ADMIN)
    run_worker()
    assert len(receiver.requests_to("/ok")) == 1


def test_commits_before_the_publish_job_starts_share_one_job(app, receiver):
    subscribe(receiver.url("/ok"))
    for n in range(5):
        change_package(n, "waiting", "preparing")
    queue = Queue("webhooks", connection=redis_connection())
    assert [job.func_name for job in queue.jobs] == ["app.tasks.webhooks.publish"]
    run_worker()
    change_package(9, "preparing", "packed")  # after the job started: a new one is queued
    assert [job.func_name for job in queue.jobs] == ["app.tasks.webhooks.publish"]
    run_worker()
    db.session.rollback()
    assert receiver.event_ids("/ok") == all_event_ids()


def test_misbehaving_receivers_fail_their_own_deliveries_and_never_hold_up_others(app, receiver):
    for path in ("/reset", "/huge", "/redirect", "/down"):
        subscribe(receiver.url(path))
    subscribe(receiver.url("/ok"))
    for n in range(3):
        change_package(n, "waiting", "preparing")
    run_worker()

    db.session.rollback()
    assert receiver.event_ids("/ok") == all_event_ids()
    rows = db.session.execute(select(WebhookSubscription.url, WebhookDelivery.status, WebhookDelivery.last_error)
                              .join(WebhookDelivery.subscription).order_by(WebhookDelivery.id)).all()
    by_path = {}
    for url, status, error in rows:
        by_path.setdefault(url.rsplit("/", 1)[1], set()).add((status, error))
    assert by_path["ok"] == {("succeeded", None)}
    assert by_path["reset"] == {("retrying", "connection reset by peer")} or \
        by_path["reset"] == {("retrying", "connection closed without a response")}
    assert by_path["huge"] == {("succeeded", None)}  # a 2xx counts; only 4 KB of it were read
    assert by_path["redirect"] == {("retrying", "HTTP 302 redirect not followed (Location: /ok)")}
    assert by_path["down"] == {("retrying", "HTTP 503")}
    assert len(receiver.requests_to("/redirect")) == 3  # each event once; the redirect was not followed
