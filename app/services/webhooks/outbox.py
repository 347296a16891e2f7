"""From committed outbox events to webhook deliveries, and the life of one delivery attempt.

- The **relay** (`install_relay`) notices commits that wrote `OutboxEvent` rows and, after the
  commit, enqueues a publish job. If Redis is down it only logs: the events stay unpublished.
- `publish_pending` turns unpublished events, in outbox order, into one `WebhookDelivery` per
  matching active subscription and marks them published, in one transaction.
- The **sweeper** (`sweep`, every ~15 s) publishes whatever the relay missed and re-enqueues
  deliveries that are due: retries whose time has come, and attempts whose worker died.
- `claim_attempt` / `finish_attempt` bracket one HTTP attempt (`attempt.make_attempt`).
  Claiming takes a **lease**: it moves `next_attempt_at` to now + `WEBHOOK_LEASE_SECONDS`
  before anything is sent, so nobody else claims the delivery while the attempt runs, and a
  worker killed mid-attempt leaves a lease that simply expires and makes the delivery due
  again (at-least-once).
- **Ordering**: within a subscription, a delivery's first attempt waits until every earlier
  event's delivery (by outbox sequence) has had its first attempt. Retries never block newer
  events. When a first attempt finishes, the next delivery of the subscription is enqueued —
  or, on a sender thread, claimed in the same transaction that records the finished one
  (`finish_and_claim_next`: the subscription's head of line is the lowest pending event, so
  nothing earlier waits for it).
"""

from __future__ import annotations

import logging
import os
import time
from datetime import datetime, timedelta
from typing import Any

from flask import Flask, current_app, has_app_context
from sqlalchemy import case, event, func, insert, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, joinedload

from app.extensions import db
from app.models.base import utcnow
from app.models.events import OutboxEvent
from app.models.webhooks import WebhookAttempt, WebhookDelivery, WebhookSubscription
from app.queues import enqueue, get_queue, redis_connection
from app.services import config_cache
from app.services.db import begin_write
from app.services.said import N_, said
from app.services.settings import get_setting
from app.services.webhooks.attempt import AttemptResult, Claim
from app.services.webhooks.payload import build_body
from app.services.webhooks.retry import next_attempt_delay
from app.services.webhooks.urls import PRIVATE_URLS_SETTING

log = logging.getLogger("packline.webhooks")

QUEUE = "webhooks"
PUBLISH_JOB = "app.tasks.webhooks.publish"
DELIVER_JOB = "app.tasks.webhooks.deliver"
DELIVER_JOB_TIMEOUT = 60  # RQ kills a stuck attempt long before its lease runs out
DEFAULT_LEASE_SECONDS = 120
REDIS_BACKOFF_SECONDS = 5.0
PUBLISH_FLAG = "packline:webhooks:publish-queued"
PUBLISH_FLAG_SECONDS = 10  # if the queued job is lost, commits enqueue again after this
INTERRUPTED = N_("Interrupted: the worker stopped before this attempt finished.")

_installed = False
_redis_down_until = 0.0


# --- relay ---------------------------------------------------------------------------------------


def install_relay(app: Flask) -> None:
    """Publish outbox events right after each commit that wrote some (once per process)."""
    global _installed
    if _installed:
        return
    event.listen(db.session, "after_flush", _note_new_events)
    event.listen(db.session, "after_commit", _relay_after_commit)
    event.listen(db.session, "after_rollback", _forget_events)
    _installed = True


def _note_new_events(session: Session, flush_context: Any) -> None:
    ids = [obj.id for obj in session.new if isinstance(obj, OutboxEvent)]
    if ids:
        session.info["outbox_max_id"] = max(ids + [session.info.get("outbox_max_id", 0)])


def _forget_events(session: Session) -> None:
    session.info.pop("outbox_max_id", None)


def _relay_after_commit(session: Session) -> None:
    max_id = session.info.pop("outbox_max_id", None)
    if max_id is None or not has_app_context() or current_app.config.get("RQ_SYNC"):
        return
    # The session cannot run SQL here; enqueueing only talks to Redis. While a publish job is
    # queued and not yet started, it will see this commit too: one job serves many commits.
    if _publish_flag(set_it=True):
        _safe_enqueue(PUBLISH_JOB, job_id=f"webhooks-publish-{max_id}")


def _publish_flag(set_it: bool) -> bool:
    """Set (True if it was not set yet) or clear the "a publish job is queued" flag in Redis."""
    global _redis_down_until
    if time.monotonic() < _redis_down_until:
        return False
    try:
        if set_it:
            return bool(redis_connection().set(PUBLISH_FLAG, "1", nx=True, ex=PUBLISH_FLAG_SECONDS))
        redis_connection().delete(PUBLISH_FLAG)
        return True
    except Exception as exc:  # Redis down: the sweeper publishes later
        _redis_down_until = time.monotonic() + REDIS_BACKOFF_SECONDS
        log.warning("webhook relay skipped: %s; the sweeper will publish", exc)
        return False


def start_publishing() -> None:
    """Called by the publish job before it reads the outbox, so later commits queue a new job."""
    reset_redis_backoff()  # this job was just fetched from Redis
    _publish_flag(set_it=False)


def _safe_enqueue(func: str, *args: Any, job_id: str, delay: timedelta | None = None) -> bool:
    """Enqueue on the webhooks queue; never raises. After a Redis failure, skip for a few
    seconds so commits do not each wait on a dead connection; the sweeper catches up."""
    global _redis_down_until
    if time.monotonic() < _redis_down_until:
        return False
    options = {"job_timeout": DELIVER_JOB_TIMEOUT} if func == DELIVER_JOB else {}
    try:
        if delay is not None:
            get_queue(QUEUE).enqueue_in(delay, func, *args, job_id=job_id, **options)
        else:
            enqueue(QUEUE, func, *args, job_id=job_id, **options)
        return True
    except Exception as exc:  # Redis down or restarting: the sweeper publishes later
        _redis_down_until = time.monotonic() + REDIS_BACKOFF_SECONDS
        log.warning("could not enqueue %s (%s): %s; the sweeper will pick it up", func, job_id, exc)
        return False


def reset_redis_backoff() -> None:
    """Forget a recent Redis failure (the sweeper calls it: it runs only when Redis works)."""
    global _redis_down_until
    _redis_down_until = 0.0


# --- publishing ----------------------------------------------------------------------------------


def _matches(subscription: WebhookSubscription, event_type: str) -> bool:
    events = subscription.events or []
    return "*" in events or event_type in events


def publish_pending(limit: int = 500) -> int:
    """Create the deliveries of up to `limit` unpublished events, oldest first, and mark them
    published; then enqueue the next delivery of every subscription that got one. Commits.
    Returns the number of events published."""
    begin_write()
    # FOR UPDATE (PostgreSQL) / BEGIN IMMEDIATE (SQLite): concurrent publishers queue up, so
    # each event is published once and deliveries are created in outbox order.
    events = db.session.scalars(
        select(OutboxEvent).where(OutboxEvent.published_at.is_(None)).order_by(OutboxEvent.id)
        .limit(limit).with_for_update()
    ).all()
    if not events:
        db.session.commit()
        return 0
    subscriptions = db.session.scalars(
        select(WebhookSubscription).where(WebhookSubscription.active.is_(True))
    ).all()
    now = utcnow()
    touched: set[int] = set()
    for outbox_event in events:
        for subscription in subscriptions:
            if _matches(subscription, outbox_event.type):
                db.session.add(WebhookDelivery(subscription_id=subscription.id, event_id=outbox_event.id,
                                               status="pending", attempts=0, next_attempt_at=now))
                touched.add(subscription.id)
        outbox_event.published_at = now
    count = len(events)
    db.session.commit()
    for subscription_id in sorted(touched):
        kick_subscription(subscription_id)
    return count


def _head_of_line(subscription_id: int) -> WebhookDelivery | None:
    """The subscription's oldest delivery still waiting for its first attempt."""
    return db.session.scalars(
        select(WebhookDelivery)
        .where(WebhookDelivery.subscription_id == subscription_id, WebhookDelivery.status == "pending")
        .order_by(WebhookDelivery.event_id).limit(1)
    ).first()


def kick_subscription(subscription_id: int) -> None:
    """Enqueue the subscription's next first attempt, if any (read-only; call after commit)."""
    head = _head_of_line(subscription_id)
    if head is not None:
        enqueue_delivery(head.id, head.attempts)
    db.session.rollback()  # end the read transaction


def enqueue_delivery(delivery_id: int, attempts: int, suffix: str = "") -> bool:
    return _safe_enqueue(DELIVER_JOB, delivery_id, job_id=f"webhook-{delivery_id}-{attempts}{suffix}")


# --- the sweeper ---------------------------------------------------------------------------------


def due_deliveries(now: datetime | None = None, limit: int = 500) -> list[tuple[int, int]]:
    """(delivery id, attempts) of deliveries that should be attempted now: due retries and
    expired leases, plus each active subscription's next first attempt when it is due."""
    now = now or utcnow()
    active = select(WebhookSubscription.id).where(WebhookSubscription.active.is_(True))
    retries = db.session.execute(
        select(WebhookDelivery.id, WebhookDelivery.attempts)
        .where(WebhookDelivery.status == "retrying", WebhookDelivery.next_attempt_at <= now,
               WebhookDelivery.subscription_id.in_(active))
        .order_by(WebhookDelivery.next_attempt_at).limit(limit)
    ).all()
    heads = (
        select(WebhookDelivery.subscription_id, func.min(WebhookDelivery.event_id).label("event_id"))
        .where(WebhookDelivery.status == "pending", WebhookDelivery.subscription_id.in_(active))
        .group_by(WebhookDelivery.subscription_id).subquery()
    )
    firsts = db.session.execute(
        select(WebhookDelivery.id, WebhookDelivery.attempts)
        .join(heads, (heads.c.subscription_id == WebhookDelivery.subscription_id)
              & (heads.c.event_id == WebhookDelivery.event_id))
        .where((WebhookDelivery.next_attempt_at.is_(None)) | (WebhookDelivery.next_attempt_at <= now))
    ).all()
    return [(row[0], row[1]) for row in [*firsts, *retries]]


def sweep(batch: int = 500) -> dict[str, int]:
    """Publish every unpublished event and re-enqueue every due delivery. Safe to run anywhere,
    any number of times: claiming a delivery is what decides who sends it."""
    reset_redis_backoff()
    published = 0
    while True:
        count = publish_pending(batch)
        published += count
        if count < batch:
            break
    due = due_deliveries(limit=batch)
    db.session.rollback()
    # A distinct job id: a retry's own scheduled job may still sit in RQ's scheduled registry.
    enqueued = sum(enqueue_delivery(delivery_id, attempts, "-sweep") for delivery_id, attempts in due)
    return {"published": published, "enqueued": enqueued}


# --- one attempt ---------------------------------------------------------------------------------


def lease_seconds() -> float:
    configured = current_app.config.get("WEBHOOK_LEASE_SECONDS") or os.environ.get("WEBHOOK_LEASE_SECONDS")
    return float(configured or DEFAULT_LEASE_SECONDS)


def _waits_for_earlier_event(delivery: WebhookDelivery) -> bool:
    earlier = db.session.scalar(
        select(WebhookDelivery.id).where(
            WebhookDelivery.subscription_id == delivery.subscription_id,
            WebhookDelivery.status == "pending",
            WebhookDelivery.event_id < delivery.event_id,
        ).limit(1)
    )
    return earlier is not None


def claim_attempt(delivery_id: int) -> Claim | None:
    """Take the lease for the next attempt of a delivery and log the attempt as started.
    Returns None when there is nothing to do now: already succeeded or failed, not due yet,
    leased by another worker, its subscription is inactive, or an earlier event of the same
    subscription has not had its first attempt. Commits."""
    begin_write()
    # The subscription and the event come along (one statement; only the delivery row is locked).
    delivery = db.session.get(WebhookDelivery, delivery_id, with_for_update={"of": WebhookDelivery},
                              populate_existing=True,
                              options=[joinedload(WebhookDelivery.subscription, innerjoin=True),
                                       joinedload(WebhookDelivery.event, innerjoin=True)])
    now = utcnow()
    if (
        delivery is None
        or not _claimable(delivery, now)
        or (delivery.status == "pending" and _waits_for_earlier_event(delivery))
    ):
        db.session.commit()
        return None
    subscription, outbox_event = delivery.subscription, delivery.event
    claim = _lease(now, delivery_id=delivery.id, attempts=delivery.attempts, first=delivery.status == "pending",
                   subscription_id=delivery.subscription_id, url=subscription.url, secret=subscription.secret,
                   headers=subscription.headers, event_id=outbox_event.event_id, event_type=outbox_event.type,
                   occurred_at=outbox_event.occurred_at, data=outbox_event.data, previous=outbox_event.previous)
    db.session.commit()
    return claim


def _claimable(delivery: WebhookDelivery, now: datetime) -> bool:
    """Still to be attempted, due (not leased by someone else) and its subscription active."""
    return _due(delivery.status, delivery.next_attempt_at, delivery.subscription.active, now)


def _due(status: str, next_attempt_at: datetime | None, active: bool, now: datetime) -> bool:
    return status in ("pending", "retrying") and (next_attempt_at is None or next_attempt_at <= now) and active


def _lease(now: datetime, *, delivery_id: int, attempts: int, first: bool, subscription_id: int, url: str,
           secret: str, headers: dict | None, event_id: str, event_type: str, occurred_at: datetime,
           data: dict | None, previous: dict | None) -> Claim:
    """Take the lease of a locked, claimable delivery and log the attempt as started, in the
    caller's write transaction (plain statements, no unit of work); the caller commits. What
    may fail on the event's or subscription's data (the body, the headers) is worked out before
    anything is written, so a claim that fails there leaves the transaction as it found it."""
    extra_headers = dict(headers or {})
    body = build_body(event_id, event_type, occurred_at, data or {}, previous or {})
    allow_private = get_setting(PRIVATE_URLS_SETTING) is True
    if attempts:  # an earlier attempt still open was cut off (its worker died; the lease ran out)
        db.session.execute(
            update(WebhookAttempt)
            .where(WebhookAttempt.delivery_id == delivery_id, WebhookAttempt.duration_ms.is_(None),
                   WebhookAttempt.status_code.is_(None), WebhookAttempt.error.is_(None))
            .values(error=INTERRUPTED, error_message=said(INTERRUPTED)).execution_options(synchronize_session=False)
        )
    number = attempts + 1
    db.session.execute(
        update(WebhookDelivery).where(WebhookDelivery.id == delivery_id)
        .values(attempts=number, next_attempt_at=now + timedelta(seconds=lease_seconds()))
        .execution_options(synchronize_session=False)
    )
    attempt_id = db.session.execute(
        insert(WebhookAttempt).values(delivery_id=delivery_id, number=number, created_at=now)
        .returning(WebhookAttempt.id)
    ).scalar_one()
    return Claim(
        delivery_id=delivery_id, attempt_id=attempt_id, number=number, url=url, secret=secret,
        extra_headers=extra_headers, event_id=event_id, event_type=event_type, body=body,
        allow_private=allow_private, subscription_id=subscription_id, first=first,
    )


def _retry_base_seconds() -> float | None:
    base = current_app.config.get("WEBHOOK_RETRY_BASE_SECONDS")
    return float(base) if base else None


def finish_attempt(claim: Claim, result: AttemptResult, kick: bool = True) -> WebhookDelivery | None:
    """Log the attempt's outcome; mark the delivery succeeded, retrying (with its next time)
    or failed after its last attempt. Commits, then enqueues the retry and, after a first
    attempt, the subscription's next delivery (unless `kick` is False: the caller goes on with
    it itself, see `sender.py`)."""
    begin_write()
    delivery, was_first, retry_in = _record_outcome(claim, result, utcnow())
    if delivery is None:
        db.session.commit()
        return None
    subscription_id, attempts = delivery.subscription_id, delivery.attempts
    db.session.commit()
    _enqueue_retry(claim, attempts, retry_in)
    if was_first and kick:
        kick_subscription(subscription_id)
    return delivery


def finish_and_claim_next(claim: Claim, result: AttemptResult) -> Claim | None:
    """After a first attempt: `finish_attempt` and, in the same transaction, claim the
    subscription's next first attempt (its head of line). One transaction instead of three (a
    finish, a read of the head, a claim) per delivery of a chain (`sender.send_in_order`).

    The head is the subscription's pending delivery with the lowest event id, so nothing earlier
    waits for its first attempt; it is taken only if it is due (an attempt in flight holds a
    lease into the future) and its subscription is active — the same rules as `claim_attempt`.
    On PostgreSQL its row is locked with SKIP LOCKED, so this never waits. A head locked by
    another transaction is being claimed there — but that claim may give up, because in its
    snapshot the delivery finished here is still waiting for its first attempt. So when no claim
    is made here, the subscription is kicked after the commit (as `finish_attempt` does): a job
    then claims whatever is due. Returns the new claim or None. Commits, then enqueues the
    finished delivery's retry, if any."""
    begin_write()
    now = utcnow()
    if result.ok:
        found, retry_in, attempts = _record_success(claim, result, now), None, 0
    else:
        delivery, _, retry_in = _record_outcome(claim, result, now)
        found, attempts = delivery is not None, delivery.attempts if delivery is not None else 0
    following = _claim_next_safely(claim, now) if found else None
    db.session.commit()
    if found:
        _enqueue_retry(claim, attempts, retry_in)
        if following is None:
            kick_subscription(claim.subscription_id)
    return following


def _claim_next_safely(claim: Claim, now: datetime) -> Claim | None:
    """`_claim_head`, where a next delivery that cannot be claimed (an event whose body cannot be
    built, a broken subscription row) must not take the outcome just recorded with it: the
    receiver has answered, and losing that would send the delivery again and hold the
    subscription's line until its lease ran out. `_lease` works such things out before it writes,
    so the transaction is as it was and the next delivery is left to a job (the kick after the
    commit), as before the chain claimed it itself. A database error still fails the whole
    transaction (a savepoint would cost two statements per delivery); the lease then expires and
    the sweeper sends the finished delivery again (at-least-once)."""
    try:
        return _claim_head(claim.subscription_id, now)
    except SQLAlchemyError:
        raise
    except Exception:  # noqa: BLE001 - logged; the job that claims it next meets the same error and fails visibly
        log.exception("webhook subscription %s: the delivery after %s could not be claimed; left to a job",
                      claim.subscription_id, claim.delivery_id)
        return None


def _record_success(claim: Claim, result: AttemptResult, now: datetime) -> bool:
    """`_record_outcome` for a 2xx answer in two statements, without reading the delivery first:
    it ends succeeded (its completion time kept if it already had succeeded). False when it
    was deleted with its subscription meanwhile."""
    already = WebhookDelivery.status == "succeeded"
    updated = db.session.execute(
        update(WebhookDelivery).where(WebhookDelivery.id == claim.delivery_id)
        .values(status="succeeded", last_status_code=result.status_code, last_error=result.error,
                last_error_message=result.error_message,
                completed_at=case((already, WebhookDelivery.completed_at), else_=now),
                next_attempt_at=case((already, WebhookDelivery.next_attempt_at), else_=None))
        .execution_options(synchronize_session=False)
    ).rowcount
    if not updated:
        return False
    _record_attempt(claim, result)
    return True


def _record_attempt(claim: Claim, result: AttemptResult) -> None:
    # By primary key, without reading the attempt first (it is this claim's own row).
    db.session.execute(
        update(WebhookAttempt).where(WebhookAttempt.id == claim.attempt_id)
        .values(status_code=result.status_code, duration_ms=result.duration_ms,
                response_excerpt=result.response_excerpt, error=result.error, error_message=result.error_message)
        .execution_options(synchronize_session=False)
    )


def _record_outcome(claim: Claim, result: AttemptResult,
                    now: datetime) -> tuple[WebhookDelivery | None, bool, timedelta | None]:
    """Write the attempt's outcome and the delivery's new state (no commit). Returns the
    delivery (None when it was deleted with its subscription meanwhile), whether it was waiting
    for its first attempt, and when to retry it (None: no retry)."""
    delivery = db.session.get(WebhookDelivery, claim.delivery_id, with_for_update=True, populate_existing=True)
    if delivery is None:
        return None, False, None
    _record_attempt(claim, result)
    was_first = delivery.status == "pending"
    still_ours = delivery.attempts == claim.number and delivery.status in ("pending", "retrying")
    retry_in: timedelta | None = None
    if result.ok and delivery.status != "succeeded":
        delivery.status, delivery.completed_at, delivery.next_attempt_at = "succeeded", now, None
    elif still_ours and not result.ok:
        subscription = delivery.subscription
        retry_in = next_attempt_delay(subscription.retry_strategy, delivery.attempts, _retry_base_seconds(),
                                      subscription.max_attempts, jitter_key=str(delivery.id))
        if retry_in is None:
            delivery.status, delivery.completed_at, delivery.next_attempt_at = "failed", now, None
        else:
            delivery.status, delivery.next_attempt_at = "retrying", now + retry_in
    if still_ours or result.ok:
        delivery.last_status_code = result.status_code
        delivery.last_error, delivery.last_error_message = result.error, result.error_message
    return delivery, was_first, retry_in


def _enqueue_retry(claim: Claim, attempts: int, retry_in: timedelta | None) -> None:
    if retry_in is not None:
        _safe_enqueue(DELIVER_JOB, claim.delivery_id, job_id=f"webhook-{claim.delivery_id}-{attempts}",
                      delay=retry_in)


def _claim_head(subscription_id: int, now: datetime) -> Claim | None:
    """Claim the subscription's head of line in the caller's write transaction, if it is due."""
    head = (
        select(WebhookDelivery.id)
        .where(WebhookDelivery.subscription_id == subscription_id, WebhookDelivery.status == "pending")
        .order_by(WebhookDelivery.event_id).limit(1).scalar_subquery()
    )
    # One statement: the head (found by a seek on 0017's index), what its claim needs of its
    # subscription and event, and the configuration token (for the private-URLs setting),
    # locking only the delivery's row. Plain columns: no objects to build.
    row = db.session.execute(
        select(WebhookDelivery.id, WebhookDelivery.status, WebhookDelivery.attempts, WebhookDelivery.next_attempt_at,
               WebhookSubscription.active, WebhookSubscription.url, WebhookSubscription.secret,
               WebhookSubscription.headers, OutboxEvent.event_id, OutboxEvent.type, OutboxEvent.occurred_at,
               OutboxEvent.data, OutboxEvent.previous, config_cache.token_query())
        .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
        .join(OutboxEvent, OutboxEvent.id == WebhookDelivery.event_id)
        .where(WebhookDelivery.id == head)
        .with_for_update(of=WebhookDelivery, skip_locked=True)
    ).first()
    if row is None:
        return None
    (delivery_id, status, attempts, next_attempt_at, active, url, secret, headers, event_id, event_type,
     occurred_at, data, previous, token) = row
    # Locked after the head was chosen: another transaction may have changed it meanwhile.
    if status != "pending" or not _due(status, next_attempt_at, active, now):
        return None
    config_cache.current(token=token)
    return _lease(now, delivery_id=delivery_id, attempts=attempts, first=True, subscription_id=subscription_id,
                  url=url, secret=secret, headers=headers, event_id=event_id, event_type=event_type,
                  occurred_at=occurred_at, data=data, previous=previous)
