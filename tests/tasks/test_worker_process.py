"""The real `flask worker` process: RQ worker plus the periodic scheduler, as `make run` starts it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from rq import Queue

from app.queues import redis_connection
from tests.tasks.test_housekeeping import KEPT, remaining, seed_old_and_new_rows

ROOT = Path(__file__).resolve().parents[2]


def test_worker_process_runs_periodic_and_queued_jobs_and_stops_on_sigterm(app):
    env = dict(os.environ, DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"], REDIS_URL=app.config["REDIS_URL"],
               PACKLINE_INSTANCE_DIR=app.instance_path)
    seed_old_and_new_rows()
    flask = Path(sys.executable).with_name("flask")
    queue = Queue("default", connection=redis_connection())
    queued = queue.enqueue("app.tasks.housekeeping.housekeeping", job_id="queued-housekeeping")
    # Only the default queue, so the frequent periodic sweeps (other queues) cannot end the idle wait.
    log_path = Path(app.instance_path) / "worker-process-test.log"
    log_file = open(log_path, "wb")  # noqa: SIM115 (closed in finally)
    proc = subprocess.Popen([str(flask), "--app", "wsgi", "worker", "default"], cwd=ROOT, env=env,
                            stdout=log_file, stderr=subprocess.STDOUT)
    try:
        slot = int(time.time() // 3600)
        deadline = time.time() + 120  # a loaded CI machine starts the process slowly
        periodic = None
        while time.time() < deadline:
            periodic = queue.fetch_job(f"periodic-housekeeping-{slot}") or queue.fetch_job(
                f"periodic-housekeeping-{slot + 1}")
            if periodic and periodic.get_status(refresh=True) == "finished" and \
                    queued.get_status(refresh=True) == "finished":
                break
            time.sleep(0.2)
        assert periodic is not None and periodic.get_status() == "finished", log_path.read_text()[-3000:]
        assert queued.get_status() == "finished"
        # Whichever of the two ran first pruned the day-old rows; the younger ones stay.
        removed = Counter(queued.return_value()) + Counter(periodic.return_value())
        assert removed == {"idempotency_records": 1, "login_failures": 1}
        assert remaining() == {"idempotency_records": KEPT, "login_failures": KEPT}
        # Idle for longer than the web tier's 10 s Redis socket timeout: the worker must still be there.
        time.sleep(12)
        assert proc.poll() is None, "the worker quit while idle"
        later = queue.enqueue("app.tasks.housekeeping.housekeeping", job_id="later-housekeeping")
        deadline = time.time() + 20
        while later.get_status(refresh=True) != "finished" and time.time() < deadline:
            time.sleep(0.2)
        assert later.get_status() == "finished"
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise AssertionError("the worker did not stop on SIGTERM") from None
        finally:
            log_file.close()
