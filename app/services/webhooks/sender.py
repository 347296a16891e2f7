"""Webhook attempts beside the worker's job loop, so a slow receiver holds a thread, not a worker.

A `deliver` job claims its delivery (a short transaction) and hands the claim to this process's
sender threads (`WEBHOOK_SENDER_THREADS`, 8 by default; 0 = attempt inline in the job). The
thread makes the HTTP attempt, records it and, after a first attempt, goes straight on with the
same subscription's next first attempt (recording one and claiming the next is one
transaction, `outbox.finish_and_claim_next`, under the order and lease rules of outbox.py), up
to `CHAIN_LIMIT` in a row; then the rest is left to a job again.

Why: first attempts of one subscription go one at a time (ordering), so a receiver that takes
5 s used to keep one worker busy for 5 s per event, and two such receivers stopped every
delivery of a 2-worker installation. Now it keeps one thread busy; the worker goes on taking jobs.
When every thread is busy, a job waits for one (back-pressure, nothing queues in memory). A
worker that dies mid-attempt leaves leases that expire: the sweeper sends those again
(at-least-once, as before). On a normal stop the worker waits for the attempts in flight.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from flask import Flask, current_app

from app.extensions import db
from app.services.webhooks import outbox
from app.services.webhooks.attempt import Claim, make_attempt

log = logging.getLogger("packline.webhooks")

DEFAULT_THREADS = 8
CHAIN_LIMIT = 100  # first attempts of one subscription sent in a row by one thread before a job takes over

_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None
_slots: threading.BoundedSemaphore | None = None


def thread_count() -> int:
    configured = current_app.config.get("WEBHOOK_SENDER_THREADS")
    return DEFAULT_THREADS if configured is None else max(0, int(configured))


def hand_over(claim: Claim) -> bool:
    """Send `claim` on a sender thread (waiting for a free one); False when threads are off."""
    global _pool, _slots
    threads = thread_count()
    if threads == 0:
        return False
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="webhook-sender")
            _slots = threading.BoundedSemaphore(threads)
        pool, slots = _pool, _slots
    slots.acquire()
    try:
        pool.submit(_run, current_app._get_current_object(), claim, slots)
    except BaseException:
        slots.release()
        raise
    return True


def _run(app: Flask, claim: Claim, slots: threading.BoundedSemaphore) -> None:
    try:
        with app.app_context():
            try:
                send_in_order(claim)
            except Exception:  # noqa: BLE001 - the lease expires and the sweeper sends it again
                log.exception("webhook delivery %s: the attempt could not be finished", claim.delivery_id)
            finally:
                db.session.remove()
    finally:
        slots.release()


def send_in_order(claim: Claim, limit: int = CHAIN_LIMIT) -> int:
    """Attempt `claim`; after a first attempt, claim and attempt the subscription's next
    first attempts too, up to `limit` in all, then leave the next one to a job. Returns the
    number of attempts made.

    Recording a first attempt and claiming the next is one transaction
    (`outbox.finish_and_claim_next`)."""
    made = 0
    current: Claim | None = claim
    while current is not None:
        result = make_attempt(current)
        made += 1
        if not current.first:
            outbox.finish_attempt(current, result, kick=False)  # a retry: the order does not wait for it
            return made
        if made >= limit:
            outbox.finish_attempt(current, result)  # and enqueue the subscription's next for a job
            return made
        # None: nothing due (an attempt in flight elsewhere, a retry's lease), being claimed by
        # another worker, or the subscription was switched off.
        current = outbox.finish_and_claim_next(current, result)
    return made


def shutdown(wait: bool = True) -> None:
    """Let the attempts in flight finish (the worker calls this when it stops)."""
    global _pool, _slots
    with _lock:
        pool, _pool, _slots = _pool, None, None
    if pool is not None:
        pool.shutdown(wait=wait)
