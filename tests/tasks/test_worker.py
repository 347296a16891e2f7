"""The Redis used by tests is a real server, and jobs run on a real RQ worker."""

from __future__ import annotations

import time

from rq import Queue, SimpleWorker

from app.queues import redis_connection
from app.worker import PERIODIC, tick
from tests.tasks.test_housekeeping import KEPT, remaining, seed_old_and_new_rows


def test_redis_fixture_is_a_real_server(app, redis_server):
    info = redis_connection().info("server")
    assert info["redis_version"] and info["process_id"] == redis_server.proc.pid


def test_periodic_jobs_are_enqueued_once_per_period_by_any_number_of_schedulers(app):
    seed_old_and_new_rows()
    conn = redis_connection()
    now = time.time()
    first = tick(app, conn, now)
    second = tick(app, conn, now)  # a second worker ticking in the same period
    assert sorted(first) == sorted(p.name for p in PERIODIC)
    assert second == []
    queue = Queue("default", connection=conn)
    assert queue.count == len([p for p in PERIODIC if p.queue == "default"])
    SimpleWorker([queue], connection=conn).work(burst=True)
    job = queue.fetch_job(f"periodic-housekeeping-{int(now // 3600)}")
    assert job.get_status() == "finished"
    assert job.return_value() == {"idempotency_records": 1, "login_failures": 1, "user_sessions": 0}
    assert remaining() == {"idempotency_records": KEPT, "login_failures": KEPT}
