"""Channel jobs (SPEC §13): inbox entries into orders, pulls from channels without webhooks,
status pushes back, stock out. Thin wrappers: they take ids, reload rows and call
`services.channels.*`; the periodic ones are registered with the worker's scheduler."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from flask import Flask
from redis.exceptions import RedisError
from rq import Retry

from app.queues import enqueue, get_queue
from app.services.channels import intake, inventory, pull, status
from app.tasks import job
from app.worker import Periodic, register_periodic

log = logging.getLogger(__name__)

QUEUE = "channels"
DEFAULT_SYNC_SECONDS = 10


@job
def process_inbox_entry(entry_id: int) -> str:
    return intake.process_entry(entry_id)


@job
def pull_channel(channel_id: int) -> dict[str, Any]:
    return pull.pull_channel(channel_id)


@job
def pull_due() -> dict[str, int]:
    due = pull.due_channels()
    for channel_id in due:
        enqueue(QUEUE, "app.tasks.channels.pull_channel", channel_id, job_id=f"channel-pull-{channel_id}")
    return {"queued": len(due)}


def enqueue_push(push_id: int, delay_seconds: float | None = None) -> None:
    try:
        if delay_seconds:
            get_queue(QUEUE).enqueue_in(timedelta(seconds=delay_seconds), "app.tasks.channels.push_status",
                                        push_id)
        else:
            enqueue(QUEUE, "app.tasks.channels.push_status", push_id, job_id=f"channel-push-{push_id}")
    except RedisError:  # the sweep finds pending pushes nobody works on
        log.warning("could not enqueue channel push %s", push_id, exc_info=True)


@job
def push_status(push_id: int) -> dict[str, Any]:
    """One attempt; a transient failure schedules the next after the backoff or the channel's
    Retry-After, whichever is longer."""
    outcome = status.run_push(push_id)
    if outcome["retry_in"] is not None:
        enqueue_push(push_id, outcome["retry_in"])
    return outcome


@job
def scan_status() -> dict[str, int]:
    created = status.scan()
    for push_id in created:
        enqueue_push(push_id)
    return {"created": len(created)}


@job
def fetch_label(shipment_id: int) -> str | Retry:
    """A marketplace label for a package packed without a scanned tracking number.

    Transient failures (the marketplace has no label yet, did not answer, the database was
    briefly away) are retried with the carrier label job's backoff by returning an RQ `Retry`;
    after the last attempt the shipment stays pending with the reason, and the carrier poll's
    sweep of stale label requests queues this job again later."""
    from sqlalchemy.exc import OperationalError

    from app.services.channels import ChannelError
    from app.services.channels.labels import fetch_for_shipment
    from app.tasks.carriers import label_retries

    _done, last_attempt, retry = label_retries()
    try:
        return fetch_for_shipment(shipment_id, last_attempt=last_attempt)
    except (ChannelError, OperationalError):
        if last_attempt:
            raise
        return retry


@job
def sync_stock() -> dict[str, Any]:
    return inventory.sync_changes()


@job
def full_resync(channel_id: int | None = None) -> dict[str, Any]:
    return inventory.full_resync(channel_id)


@job
def sweep() -> dict[str, Any]:
    """Re-enqueue inbox entries and status pushes whose job was lost."""
    stale = intake.stale_pending()
    for entry_id in stale:
        intake.enqueue_processing(entry_id)
    pushes = status.stale_pending()
    for push_id in pushes:
        enqueue_push(push_id)
    return {"inbox_requeued": len(stale), "pushes_requeued": len(pushes)}


def _sync_interval(app: Flask) -> int:
    # Half the promised window: a change waits at most one interval plus the scheduler's tick.
    seconds = app.config.get("CHANNEL_SYNC_SECONDS") or DEFAULT_SYNC_SECONDS
    return max(1, int(seconds) // 2)


register_periodic(Periodic("channels_sweep", QUEUE, "app.tasks.channels.sweep",
                           lambda app: int(app.config.get("CHANNEL_SWEEP_SECONDS") or 60)))
register_periodic(Periodic("channels_pull", QUEUE, "app.tasks.channels.pull_due", lambda app: 10))
register_periodic(Periodic("channels_status", QUEUE, "app.tasks.channels.scan_status", lambda app: 10))
register_periodic(Periodic("channels_stock", QUEUE, "app.tasks.channels.sync_stock", _sync_interval))
register_periodic(Periodic("channels_resync", QUEUE, "app.tasks.channels.full_resync", lambda app: 86_400))
