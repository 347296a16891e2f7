"""The worker process: an RQ worker plus a de-duplicated periodic scheduler.

Any number of workers may run on any number of hosts. Periodic jobs are enqueued by whichever
worker first claims the period's slot in Redis (SET NX with expiry), so a job runs once per
period no matter how many workers tick.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, current_app
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rq import Queue, SimpleWorker
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import configure_mappers

from app.extensions import db
from app.queues import QUEUE_NAMES, redis_connection
from app.services.webhooks import sender as webhook_sender
from app.tasks import set_app

log = logging.getLogger("packline.worker")


@dataclass(frozen=True)
class Periodic:
    name: str
    queue: str
    func: str  # dotted path, so the scheduler does not import every task module up front
    interval: Callable[[Flask], int]  # seconds, read from settings/config at each tick
    default: int = 3600  # seconds, when `interval` fails or gives a number the scheduler cannot use


MAX_INTERVAL_SECONDS = 7 * 86_400  # settings allow a week at most; anything longer is a bad value


def _every(seconds: int) -> Callable[[Flask], int]:
    return lambda app: seconds


PERIODIC: list[Periodic] = [
    Periodic("housekeeping", "default", "app.tasks.housekeeping.housekeeping", _every(3600)),
]


def register_periodic(job: Periodic) -> None:
    """Add a periodic job (used by domain modules such as planning, carriers, webhooks)."""
    if all(p.name != job.name for p in PERIODIC):
        PERIODIC.append(job)


def tick(app: Flask, conn: Redis, now: float | None = None) -> list[str]:
    """Enqueue each periodic job whose slot this process wins; return their names. Each job is
    tried on its own: one whose interval cannot be read runs at its default and logs one line,
    and one Redis refuses is logged and skipped, so neither stops the jobs after it. A lost Redis
    (connection refused, timed out) ends the tick: the next one tries again."""
    now = time.time() if now is None else now
    enqueued = []
    for periodic in PERIODIC:
        interval = _interval_of(periodic, app)
        slot = int(now // interval)
        key = f"packline:periodic:{periodic.name}:{slot}"
        try:
            if conn.set(key, "1", nx=True, ex=interval * 2):
                Queue(periodic.queue, connection=conn).enqueue(
                    periodic.func, job_id=f"periodic-{periodic.name}-{slot}", result_ttl=interval
                )
                enqueued.append(periodic.name)
        except (RedisConnectionError, RedisTimeoutError):
            raise
        except RedisError as exc:
            _note(periodic.name, f"Redis refused it ({exc}); skipped this tick")
    return enqueued


_NOTED: set[tuple[str, str]] = set()


def _note(name: str, problem: str) -> None:
    """One log line per job and problem, not one every five seconds."""
    if (name, problem) not in _NOTED:
        _NOTED.add((name, problem))
        log.warning("periodic job %s: %s", name, problem)


def _interval_of(periodic: Periodic, app: Flask) -> int:
    try:
        value = periodic.interval(app)
        seconds = int(value)
        if seconds != value or not 1 <= seconds <= MAX_INTERVAL_SECONDS:
            raise ValueError(f"{value!r} seconds")
        return seconds
    except Exception as exc:  # noqa: BLE001 - a bad setting must not stop the other periodic jobs
        if isinstance(exc, SQLAlchemyError):
            # The tick's session is in a failed transaction now (PostgreSQL refuses every
            # statement until a rollback): the intervals read after this one would all fail too.
            try:
                db.session.rollback()
            except SQLAlchemyError:  # the connection itself is gone: the next read reconnects
                pass
        _note(periodic.name, f"interval unusable ({exc}); running every {periodic.default} s")
        return periodic.default


def _scheduler_loop(app: Flask, stop: threading.Event) -> None:
    conn = redis_connection(app.config["REDIS_URL"])
    while not stop.is_set():
        try:
            with app.app_context():
                tick(app, conn)
        except RedisError as exc:  # Redis restarting: try again next tick
            log.warning("periodic tick skipped: %s", exc)
        stop.wait(5)


def run_worker(queues: list[str] | None = None, burst: bool = False) -> None:
    app = current_app._get_current_object()
    set_app(app)
    _import_task_modules()
    # The worker blocks on Redis for minutes waiting for work, so its connection must not have
    # the short socket timeout the web tier uses (RQ would take the timeout for a lost Redis and quit).
    conn = Redis.from_url(app.config["REDIS_URL"], socket_connect_timeout=5, health_check_interval=30)
    # Jobs run in this process (no fork per job): the scheduler thread uses the database and
    # Redis, and forking while another thread holds one of their locks (SQLAlchemy's mapper
    # configuration mutex, a pool lock) leaves the child waiting forever on a lock nobody owns.
    configure_mappers()
    stop = threading.Event()
    if not burst:
        threading.Thread(target=_scheduler_loop, args=(app, stop), daemon=True).start()
    names = queues or list(QUEUE_NAMES)
    if "imports" in names:
        _resume_interrupted_imports(app)
    worker = SimpleWorker([Queue(n, connection=conn) for n in names], connection=conn)
    try:
        worker.work(with_scheduler=True, burst=burst, logging_level="INFO")
    finally:
        stop.set()
        webhook_sender.shutdown(wait=True)  # webhook attempts in flight finish (at most their timeout)


def _resume_interrupted_imports(app: Flask) -> None:
    """A worker starting up (after a crash, say) picks up import runs whose worker died."""
    from app.services.imports import recover_stuck_runs

    try:
        with app.app_context():
            recover_stuck_runs()
    except Exception:  # noqa: BLE001 - the periodic sweep tries again; the worker must start
        log.exception("could not check for interrupted imports at start-up")


def _import_task_modules() -> None:
    """Import every task module so domain modules can register their periodic jobs."""
    import importlib
    import pkgutil

    import app.tasks as tasks_pkg

    for info in pkgutil.iter_modules(tasks_pkg.__path__):
        importlib.import_module(f"app.tasks.{info.name}")
