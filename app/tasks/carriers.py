"""Carrier jobs: label requests with retries, invoices from the optional invoice service, and
the periodic poll (parcel statuses, carrier cancellations, lost label requests).

`request_label` retries by returning an RQ `Retry` rather than relying on how it was enqueued:
the package commands enqueue it with a plain `enqueue`, and the retry policy belongs here, next
to the knowledge of which carrier errors are worth retrying.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from flask import Flask, current_app
from redis.exceptions import RedisError
from rq import Retry, get_current_job
from sqlalchemy.exc import OperationalError

from app.queues import enqueue
from app.services import invoices, shipment_tracking, shipments
from app.services.carriers import CarrierError
from app.tasks import job
from app.worker import Periodic, register_periodic

log = logging.getLogger(__name__)

QUEUE = "carriers"
# Seconds before each retry of a transient failure; tests shorten it with CARRIER_RETRY_INTERVALS.
RETRY_INTERVALS = [10, 30, 60, 120, 300]
POLL_EVERY_SECONDS = 300
STALE_LABEL_SECONDS = 15 * 60  # a pending label untouched this long lost its job (worker killed, Redis down)


def retry_intervals() -> list[int]:
    return list(current_app.config.get("CARRIER_RETRY_INTERVALS") or RETRY_INTERVALS)


def _retries() -> tuple[int, bool, Retry]:
    """(retries done so far, whether this is the last attempt, the Retry to return for another).

    Outside a worker (a direct call) every attempt is the last one."""
    intervals = retry_intervals()
    current = get_current_job()
    done = (current.number_of_retries or 0) if current is not None else len(intervals)
    return done, done >= len(intervals), Retry(max=len(intervals), interval=intervals)


label_retries = _retries  # the channel label job (app.tasks.channels.fetch_label) retries the same way


@job
def request_label(shipment_id: int) -> dict[str, Any] | Retry:
    """Get the shipment's tracking number and label; transient failures retry with backoff."""
    retries_done, last_attempt, retry = _retries()
    try:
        outcome = shipments.request_label(shipment_id, last_attempt=last_attempt)
    except (CarrierError, OperationalError):
        # CarrierError only escapes when it is transient and attempts remain; a database that is
        # briefly unreachable is retried the same way (on the last attempt it fails the job and
        # the shipment stays pending, which refresh_label can restart).
        if last_attempt:
            raise
        return retry
    if outcome == "label_ready" and current_app.config.get("INVOICE_SERVICE_URL"):
        package_id = shipments.package_id_of(shipment_id)
        try:
            enqueue(QUEUE, "app.tasks.carriers.fetch_invoice", package_id, job_id=f"invoice-{package_id}")
        except RedisError:  # the label is stored; the invoice can still be set by update_invoice
            log.warning("could not enqueue the invoice request of package %s", package_id, exc_info=True)
    return {"shipment_id": shipment_id, "outcome": outcome, "retries": retries_done}


@job
def fetch_invoice(package_id: int) -> dict[str, Any] | Retry:
    """Ask the configured invoice service for the package's invoice (INVOICE_SERVICE_URL).

    A failure that survives the retries fails the job, so it shows among the failed jobs with
    its reason, where a supervisor can retry it.
    """
    url = current_app.config.get("INVOICE_SERVICE_URL")
    if not url:
        return {"package_id": package_id, "outcome": "skipped: no invoice service configured"}
    _done, last_attempt, retry = _retries()
    try:
        outcome = invoices.fetch_invoice(package_id, url)
    except invoices.InvoiceServiceError as exc:
        if exc.transient and not last_attempt:
            return retry
        current = get_current_job()
        if current is not None and exc.said is not None:  # the failed-jobs page says it in the reader's language
            current.meta["error_message"] = exc.said
            current.save_meta()
        raise
    return {"package_id": package_id, "outcome": outcome}


@job
def poll_shipments() -> dict[str, int]:
    """Ask carriers about every parcel out for delivery, tell them about cancelled shipments,
    and re-enqueue label requests whose job was lost."""
    counts = shipment_tracking.poll_open_shipments()
    counts.update(shipment_tracking.cancel_cancelled_at_carriers())
    stale = shipment_tracking.stale_label_requests(
        timedelta(seconds=current_app.config.get("CARRIER_LABEL_STALE_SECONDS") or STALE_LABEL_SECONDS))
    for task, shipment_id, job_id in stale:
        enqueue(QUEUE, task, shipment_id, job_id=job_id)
    return {**counts, "label_requests_requeued": len(stale)}


register_periodic(Periodic("poll_shipments", QUEUE, "app.tasks.carriers.poll_shipments",
                           lambda app: _poll_interval(app)))


def _poll_interval(app: Flask) -> int:
    return int(app.config.get("CARRIER_POLL_SECONDS") or POLL_EVERY_SECONDS)
