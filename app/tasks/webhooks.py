"""Webhook jobs on the "webhooks" queue: publish the outbox, deliver one delivery, sweep.

`deliver` is idempotent: it only sends after claiming the delivery's lease (see
app/services/webhooks/outbox.py), so a duplicate job, a job for a succeeded delivery or a job that
arrives before a retry is due does nothing.
"""

from __future__ import annotations

from app.services.webhooks import attempt, outbox, sender
from app.tasks import job
from app.worker import Periodic, register_periodic

SWEEP_SECONDS = 15


@job
def publish() -> int:
    """Publish every committed, unpublished outbox event (the relay enqueues this after commit)."""
    outbox.start_publishing()
    total = 0
    while (count := outbox.publish_pending()) > 0:
        total += count
    return total


@job
def deliver(delivery_id: int) -> str:
    """One attempt of one delivery, if it is due and nobody else holds it: on one of the
    process's sender threads (sender.py), so a slow receiver does not hold up the worker."""
    claim = outbox.claim_attempt(delivery_id)
    if claim is None:
        return "skipped"
    if sender.hand_over(claim):
        return "sending"
    result = attempt.make_attempt(claim)
    outbox.finish_attempt(claim, result)
    return "succeeded" if result.ok else (result.error or "failed")


@job
def sweep() -> dict[str, int]:
    """Periodic safety net: publish what the relay missed, re-enqueue due and stuck deliveries."""
    return outbox.sweep()


register_periodic(Periodic("webhooks-sweep", "webhooks", "app.tasks.webhooks.sweep", lambda app: SWEEP_SECONDS))
