"""Idempotency-Key under concurrency: a keyed write whose effect lies outside the database (a
queued job) still runs once, and a duplicate waiting for the first request's answer never holds
the database write lock the first request needs to store that answer."""

from __future__ import annotations

import sqlite3
import threading
import time

import requests
from rq import Queue
from sqlalchemy import select, update

from app.extensions import db
from app.models import IdempotencyRecord, User
from app.queues import redis_connection
from app.services.db import begin_write
from app.services.idempotency import fingerprint
from tests import factories
from tests.api.test_bad_input_regressions import assert_error, auth
from tests.services.builders import make_package

LOCATION = b'{"code": "IST-01", "name": "Kadikoy Store"}'


def planning_jobs() -> int:
    return Queue("planning", connection=redis_connection()).count


def in_parallel(count: int, send) -> list[requests.Response]:
    barrier = threading.Barrier(count)
    answers: list[requests.Response] = []

    def run() -> None:
        barrier.wait()
        answers.append(send())

    threads = [threading.Thread(target=run) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_parallel_keyed_batch_runs_start_exactly_one_job(app, live_server):
    """POST /planning/run writes nothing in the database: its claim is committed before the job is
    queued, so the duplicates wait for its answer instead of queueing jobs of their own."""
    admin = auth("boss")
    answers = in_parallel(4, lambda: requests.post(
        f"{live_server}/api/v1/planning/run", json={"chunk_size": 50}, timeout=30,
        headers={**admin, "Idempotency-Key": "nightly-run"}))

    assert planning_jobs() == 1
    started = [a for a in answers if a.status_code == 202 and "Idempotent-Replayed" not in a.headers]
    assert len(started) == 1
    for answer in answers:
        assert answer.status_code == 202 or answer.json()["error"]["code"] == "request_in_progress"
        if answer.status_code == 202:
            assert answer.json() == started[0].json()
    again = requests.post(f"{live_server}/api/v1/planning/run", json={"chunk_size": 50}, timeout=30,
                          headers={**admin, "Idempotency-Key": "nightly-run"})
    assert again.headers["Idempotent-Replayed"] == "true" and again.json() == started[0].json()
    assert planning_jobs() == 1


def test_a_keyed_batch_run_the_queue_refused_runs_when_retried_with_the_same_key(app, client, redis_server):
    admin = auth("boss")
    redis_server.stop()
    try:
        refused = client.post("/api/v1/planning/run", json={}, headers={**admin, "Idempotency-Key": "retry-me"})
    finally:
        redis_server.start()
    assert_error(refused, 503, "queue_unavailable")
    retried = client.post("/api/v1/planning/run", json={}, headers={**admin, "Idempotency-Key": "retry-me"})
    assert retried.status_code == 202 and "Idempotent-Replayed" not in retried.headers
    assert planning_jobs() == 1


def _writer_kept_out() -> bool:
    """True when a writer cannot take SQLite's write lock right now (PostgreSQL has none)."""
    if db.engine.dialect.name != "sqlite":
        return False
    probe = sqlite3.connect(db.engine.url.database, timeout=0, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")
        probe.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError:  # database is locked
        return True
    finally:
        probe.close()


def test_a_duplicate_waiting_for_the_answer_does_not_hold_the_write_lock(app, live_server):
    """The first request committed its claim and is about to store its answer when a duplicate
    arrives: the duplicate polls for the answer with no transaction open (on SQLite a POST's first
    transaction is BEGIN IMMEDIATE, and a duplicate sleeping in one kept every writer out, the
    first request's answer included), so the answer is stored at once and replayed."""
    admin = auth("erp")
    user_id = db.session.scalar(select(User.id).where(User.username == "erp"))
    db.session.add(IdempotencyRecord(user_id=user_id, key="slow", method="POST", path="/api/v1/locations",
                                     request_hash=fingerprint("POST", "/api/v1/locations", LOCATION)))
    db.session.commit()
    answers = []
    duplicate = threading.Thread(target=lambda: answers.append(requests.post(
        f"{live_server}/api/v1/locations", data=LOCATION, timeout=30,
        headers={**admin, "Idempotency-Key": "slow", "Content-Type": "application/json"})))
    duplicate.start()
    time.sleep(0.2)  # the duplicate is polling now

    kept_out = 0
    for _ in range(10):
        kept_out += _writer_kept_out()
        time.sleep(0.01)
    begin_write()  # what the first request's `finish` does
    db.session.execute(update(IdempotencyRecord).where(IdempotencyRecord.key == "slow")
                       .values(status_code=201, response_body='{"code": "IST-01"}'))
    db.session.commit()
    duplicate.join()

    # A slow start may catch the duplicate's first read, the one moment it may hold the lock; a
    # duplicate that waited in a write transaction kept all ten out.
    assert kept_out <= 1, f"{kept_out} of 10 writers found the database locked by the waiting duplicate"
    assert answers[0].status_code == 201 and answers[0].headers["Idempotent-Replayed"] == "true"
    assert answers[0].json() == {"code": "IST-01"}


def test_ten_identical_keyed_picks_get_the_first_answer(app, live_server):
    """The reviewer's case: on SQLite the duplicates held the write lock while they waited, so the
    first pick's answer was stored late (up to 5.8 s) and some duplicates gave up with 409."""
    factories.product("SKU-A", barcode="8690000000017")
    package_id = make_package("preparing", items=[("SKU-A", 20)]).id
    admin = auth("erp")
    answers = in_parallel(10, lambda: requests.post(
        f"{live_server}/api/v1/packages/{package_id}/commands/pick", json={"barcode": "8690000000017", "quantity": 1},
        timeout=60, headers={**admin, "Idempotency-Key": "scan-1"}))

    assert [a.status_code for a in answers] == [200] * 10, [a.json() for a in answers if a.status_code != 200]
    assert sum("Idempotent-Replayed" not in a.headers for a in answers) == 1
    assert len({a.text for a in answers}) == 1
