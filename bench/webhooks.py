"""Webhook delivery benchmark (SPEC §12): event committed → first webhook attempt p95 ≤ 1 s,
≥ 200 deliveries/s with 2 workers, and one slow receiver (5 s) does not delay the others.

    python -m bench.webhooks                        # SQLite in a temporary directory
    python -m bench.webhooks --database postgresql://postgres@/packline?host=/tmp/pg&port=5433
    python -m bench.webhooks --events 2000 --steady-seconds 10   # a quick run

Setup: a scratch database migrated with `flask_migrate.upgrade`, a private redis-server, a local
receiver process (`http.server.ThreadingHTTPServer`, answering 204 and recording when each
attempt arrived), --subscriptions subscriptions each to one event type (so every event makes one
delivery), private URLs allowed, and 2 real workers (`flask worker webhooks`, RQ SimpleWorker,
their periodic sweeper included). Events are written as the app writes them — `OutboxEvent` rows
committed through the app's session, whose after-commit relay queues the publish job — and the
moment each commit returned is the start of its clock; the clock stops when the receiver sees
that event's attempt 1 (receiver and benchmark share the machine's clock).

Three phases, one after the other on the same workers:
  burst   --events committed in blocks of 200 as fast as possible: deliveries/s = deliveries /
          (last first attempt − first commit). Latency here is mostly the backlog's.
  steady  --rate events/s for --steady-seconds: p50/p95 committed → first attempt.
  slow    the same steady load plus one more subscription to every event type whose receiver
          answers after --slow-seconds (5 s): the other subscriptions' p95, and how many attempts
          the slow one got.
The baseline, same run: the same receiver POSTed to by a plain loop on 2 threads (requests,
no database, no Redis): the bare HTTP rate of this machine.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from bench.commands import _free_port, _pct, _Redis, _stop
from bench.planning import _database

ROOT = Path(__file__).resolve().parent.parent
EVENT_TYPES = ("package.created", "package.state_changed", "order.created", "order.status_changed",
               "order.cancelled", "order.items_changed")
SLOW_PATH = "/slow"


# --- the receiver (a process of its own) -------------------------------------------------------

class _Receiver(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256

    def __init__(self, port: int, slow_seconds: float):
        super().__init__(("127.0.0.1", port), _Handler)
        self.slow_seconds = slow_seconds
        self.lock = threading.Lock()
        self.arrivals: list[tuple[str, str, int, float]] = []  # path, event id, attempt, time


class _Handler(BaseHTTPRequestHandler):
    server: _Receiver
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        arrived = time.time()
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with self.server.lock:
            self.server.arrivals.append((self.path, self.headers.get("Packline-Event-Id", ""),
                                         int(self.headers.get("Packline-Attempt") or 0), arrived))
        if self.path == SLOW_PATH:
            time.sleep(self.server.slow_seconds)
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:  # /_report: every arrival so far
        with self.server.lock:
            body = json.dumps(self.server.arrivals).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def serve(port: int, slow_seconds: float) -> None:
    _Receiver(port, slow_seconds).serve_forever()


def _start_receiver(port: int, slow_seconds: float) -> subprocess.Popen:
    import requests

    proc = subprocess.Popen([sys.executable, "-m", "bench.webhooks", "--serve", str(port), "--slow-seconds",
                             str(slow_seconds)], cwd=ROOT)
    deadline = time.time() + 20
    while True:
        try:
            requests.get(f"http://127.0.0.1:{port}/_report", timeout=1)
            return proc
        except requests.RequestException:
            if time.time() > deadline or proc.poll() is not None:
                raise SystemExit("the receiver did not start") from None
            time.sleep(0.1)


def _arrivals(port: int) -> list[tuple[str, str, int, float]]:
    import requests

    return [tuple(a) for a in requests.get(f"http://127.0.0.1:{port}/_report", timeout=60).json()]


# --- the app side ------------------------------------------------------------------------------

def _app(url: str, redis_url: str):
    from app import create_app
    from app.config import Config

    class BenchConfig(Config):
        SQLALCHEMY_DATABASE_URI = url
        REDIS_URL = redis_url
        RQ_SYNC = False  # the relay queues publish jobs after each commit, as in production

    return create_app(BenchConfig)


def setup(app, receiver: str, subscriptions: int) -> None:
    from flask_migrate import upgrade

    from app.extensions import db
    from app.models.webhooks import WebhookSubscription
    from app.services.settings import put_setting
    from app.services.webhooks.urls import PRIVATE_URLS_SETTING

    with app.app_context():
        upgrade()
        put_setting(PRIVATE_URLS_SETTING, True)
        for n in range(subscriptions):
            db.session.add(WebhookSubscription(url=f"{receiver}/s{n}", events=[EVENT_TYPES[n]], secret=f"secret-{n}",
                                               active=True, description=f"bench {n}"))
        db.session.commit()
        db.session.remove()


def add_slow_subscription(app, receiver: str) -> None:
    from app.extensions import db
    from app.models.webhooks import WebhookSubscription

    with app.app_context():
        db.session.add(WebhookSubscription(url=f"{receiver}{SLOW_PATH}", events=["*"], secret="secret-slow",
                                           active=True, description="bench slow receiver"))
        db.session.commit()
        db.session.remove()


def commit_events(app, count: int, subscriptions: int, block: int, committed: dict[str, float],
                  rate: float | None = None) -> None:
    """Commit `count` outbox events in blocks, as fast as possible or at `rate` events/s."""
    from app.extensions import db
    from app.models.events import OutboxEvent

    started = time.perf_counter()
    n = 0
    with app.app_context():
        while n < count:
            size = min(block, count - n)
            if rate:
                due = started + n / rate
                time.sleep(max(0.0, due - time.perf_counter()))
            ids = [str(uuid.uuid4()) for _ in range(size)]
            for k, event_id in enumerate(ids):
                kind = EVENT_TYPES[(n + k) % subscriptions]
                db.session.add(OutboxEvent(event_id=event_id, type=kind, aggregate_type=kind.split(".")[0],
                                           aggregate_id=n + k + 1, data={"id": n + k + 1, "bench": True},
                                           previous={}))
            db.session.commit()  # the relay enqueues the publish job right after this
            now = time.time()
            for event_id in ids:
                committed[event_id] = now
            n += size
        db.session.remove()


def _wait_for(port: int, event_ids: set[str], timeout: float, path_ok=lambda p: p != SLOW_PATH) -> dict[str, float]:
    """Wait until every event has had its first attempt at a fast subscription; their times."""
    deadline = time.time() + timeout
    while True:
        firsts = {e: t for p, e, a, t in _arrivals(port) if a == 1 and e in event_ids and path_ok(p)}
        if len(firsts) >= len(event_ids) or time.time() > deadline:
            return firsts
        time.sleep(1.0)


def _start_workers(url: str, redis_url: str, count: int, directory: Path) -> list[subprocess.Popen]:
    env = dict(os.environ, DATABASE_URL=url, REDIS_URL=redis_url, PACKLINE_ENV="development")
    flask = Path(sys.executable).parent / "flask"
    return [subprocess.Popen([str(flask), "--app", "wsgi", "worker", "webhooks"], cwd=ROOT, env=env,
                             stdout=(directory / f"worker{n}.log").open("wb"), stderr=subprocess.STDOUT)
            for n in range(count)]


def _wait_for_workers(redis_url: str, count: int, wait: float = 180.0) -> None:
    from redis import Redis
    from rq import Worker

    conn = Redis.from_url(redis_url)
    deadline = time.time() + wait
    while Worker.count(connection=conn) < count:
        if time.time() > deadline:
            raise SystemExit(f"the {count} workers did not start within {wait:.0f}s")
        time.sleep(0.5)
    time.sleep(1.0)  # they are registered; let them reach their first dequeue


def baseline(port: int, requests_total: int, threads: int = 2) -> float:
    """Bare POSTs/s to the same receiver from `threads` plain loops."""
    import requests

    body = json.dumps({"id": "x", "type": "package.created", "data": {"id": 1}}).encode()

    def loop(n: int) -> None:
        with requests.Session() as session:
            for k in range(requests_total // threads):
                session.post(f"http://127.0.0.1:{port}/baseline", data=body, timeout=30,
                             headers={"Content-Type": "application/json", "Packline-Event-Id": f"b{n}-{k}",
                                      "Packline-Attempt": "0"})

    workers = [threading.Thread(target=loop, args=(n,)) for n in range(threads)]
    started = time.perf_counter()
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    return requests_total / (time.perf_counter() - started)


def _latencies(committed: dict[str, float], firsts: dict[str, float]) -> list[float]:
    return [firsts[e] - committed[e] for e in committed if e in firsts]


def _describe(label: str, lat: list[float], expected: int) -> str:
    return (f"{label}: {len(lat)}/{expected} first attempts, committed → first attempt p50 "
            f"{_pct(lat, 0.5) * 1000:.0f} ms, p95 {_pct(lat, 0.95) * 1000:.0f} ms, max "
            f"{max(lat, default=0) * 1000:.0f} ms")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default=os.environ.get("BENCH_DATABASE_URL", "sqlite"),
                        help="sqlite (default) or a postgresql:// server URL (a scratch database is created)")
    parser.add_argument("--events", type=int, default=10_000, help="events of the burst phase")
    parser.add_argument("--subscriptions", type=int, default=4, help="fast subscriptions (one event type each)")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rate", type=float, default=50.0, help="events/s of the steady and slow phases")
    parser.add_argument("--steady-seconds", type=float, default=20.0)
    parser.add_argument("--slow-seconds", type=float, default=5.0, help="how long the slow receiver takes to answer")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)  # the receiver process
    args = parser.parse_args(argv)
    if args.serve:
        serve(args.serve, args.slow_seconds)
        return 0
    if not 1 <= args.subscriptions <= len(EVENT_TYPES):
        raise SystemExit(f"--subscriptions must be 1..{len(EVENT_TYPES)}")

    url, drop = _database(args.database)
    kind = url.split(":", 1)[0].split("+")[0]
    tmp = Path(tempfile.mkdtemp(prefix="packline-bench-webhooks-"))
    redis = _Redis(tmp)
    receiver_port = _free_port()
    receiver = workers = None
    out: dict[str, object] = {}
    try:
        redis.start()
        receiver = _start_receiver(receiver_port, args.slow_seconds)
        base = f"http://127.0.0.1:{receiver_port}"
        app = _app(url, redis.url)
        setup(app, base, args.subscriptions)
        out["baseline"] = baseline(receiver_port, 2000)
        workers = _start_workers(url, redis.url, args.workers, tmp)
        _wait_for_workers(redis.url, args.workers)  # a busy machine may take a minute to import the app

        committed: dict[str, float] = {}
        commit_events(app, args.events, args.subscriptions, 200, committed)
        commit_seconds = max(committed.values()) - min(committed.values())
        firsts = _wait_for(receiver_port, set(committed), timeout=max(120.0, args.events / 20))
        span = (max(firsts.values()) - min(committed.values())) if firsts else 0.0
        out["burst"] = (committed, firsts, span, commit_seconds)

        steady: dict[str, float] = {}
        count = int(args.rate * args.steady_seconds)
        commit_events(app, count, args.subscriptions, max(1, int(args.rate / 20)), steady, rate=args.rate)
        out["steady"] = (steady, _wait_for(receiver_port, set(steady), timeout=120))

        add_slow_subscription(app, base)
        slow: dict[str, float] = {}
        commit_events(app, count, args.subscriptions, max(1, int(args.rate / 20)), slow, rate=args.rate)
        slow_firsts = _wait_for(receiver_port, set(slow), timeout=120)
        slow_attempts = sum(1 for p, e, a, _ in _arrivals(receiver_port) if p == SLOW_PATH and e in slow)
        out["slow"] = (slow, slow_firsts, slow_attempts)
    finally:
        for w in workers or []:
            _stop(w)
        _stop(receiver)
        redis.stop()
        logs = "".join((tmp / f"worker{n}.log").read_text(errors="replace")[-1500:]
                       for n in range(args.workers) if (tmp / f"worker{n}.log").exists())
        shutil.rmtree(tmp, ignore_errors=True)
        drop()

    tag = f"[webhooks/{kind}]"
    print(f"{tag} {args.workers} workers (flask worker webhooks), {args.subscriptions} subscriptions, local receiver")
    print(f"{tag} baseline: bare POSTs to the same receiver from 2 threads: {out['baseline']:.0f}/s")
    committed, firsts, span, commit_seconds = out["burst"]
    rate = len(firsts) / span if span else 0.0
    print(f"{tag} burst: {len(committed):,} events committed in {commit_seconds:.1f}s; {len(firsts):,} first attempts "
          f"in {span:.1f}s from the first commit = {rate:.0f} deliveries/s "
          f"({rate / out['baseline']:.2f}x the bare HTTP rate)")
    print(f"{tag} " + _describe("burst", _latencies(committed, firsts), len(committed)))
    steady, steady_firsts = out["steady"]
    steady_lat = _latencies(steady, steady_firsts)
    print(f"{tag} " + _describe(f"steady {args.rate:.0f} events/s", steady_lat, len(steady)))
    slow, slow_firsts, slow_attempts = out["slow"]
    slow_lat = _latencies(slow, slow_firsts)
    print(f"{tag} " + _describe(f"steady {args.rate:.0f} events/s + a {args.slow_seconds:.0f}s receiver, "
                                f"the other subscriptions", slow_lat, len(slow)))
    print(f"{tag} the slow receiver got {slow_attempts} of its {len(slow)} deliveries meanwhile")
    missing = len(committed) - len(firsts) + len(steady) - len(steady_firsts) + len(slow) - len(slow_firsts)
    if missing:
        print(f"{tag} ERROR {missing} events never reached the receiver; worker log tails:\n{logs}")
    ok = (rate >= 200 and _pct(steady_lat, 0.95) <= 1.0 and _pct(slow_lat, 0.95) <= 1.0)
    print(f"{tag} target >= 200 deliveries/s, p95 <= 1 s, a slow receiver does not delay the others: "
          f"{'PASS' if ok else 'BELOW TARGET'}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
