"""Webhook subscriptions (admin only), their delivery log, and redelivery.

Delivery itself lives next door: `outbox` (publishing, claiming and finishing attempts),
`attempt` (one signed POST), `retry` (the schedules) and `urls` (which addresses are allowed).
"""

from __future__ import annotations

from typing import Any, TypeVar

from flask_babel import gettext as _
from pydantic import BaseModel
from pydantic import ValidationError as PydanticError
from sqlalchemy import Select, func, select

from app.extensions import db
from app.models.base import iso, utcnow
from app.models.webhooks import DELIVERY_STATUSES, WebhookAttempt, WebhookDelivery, WebhookSubscription
from app.schemas import parse
from app.schemas.webhooks import RetryIn, WebhookIn, WebhookUpdate
from app.services.actors import Actor
from app.services.db import begin_write
from app.services.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.services.settings import get_setting
from app.services.webhooks import outbox
from app.services.webhooks.retry import MAX_ATTEMPTS_LIMIT, MIN_ATTEMPTS, STRATEGIES, validate_retry_policy
from app.services.webhooks.urls import PRIVATE_URLS_SETTING, as_sentence, url_problem

INVALID = "The webhook subscription is not valid."
M = TypeVar("M", bound=BaseModel)


# --- representations -----------------------------------------------------------------------------


def subscription_dict(sub: WebhookSubscription) -> dict[str, Any]:
    """The subscription as the API returns it. The secret is write-only and never shown."""
    return {
        "id": sub.id, "url": sub.url, "events": list(sub.events or []), "active": sub.active,
        "retry": {"strategy": sub.retry_strategy, "max_attempts": sub.max_attempts},
        "headers": sorted((sub.headers or {}).keys()), "description": sub.description,
        "created_at": iso(sub.created_at), "updated_at": iso(sub.updated_at),
    }


def attempt_dict(attempt: WebhookAttempt) -> dict[str, Any]:
    return {"number": attempt.number, "status_code": attempt.status_code, "duration_ms": attempt.duration_ms,
            "response_excerpt": attempt.response_excerpt, "error": attempt.error,
            "created_at": iso(attempt.created_at)}


def delivery_dict(delivery: WebhookDelivery, with_attempts: bool = False) -> dict[str, Any]:
    event = delivery.event
    out: dict[str, Any] = {
        "id": delivery.id, "subscription_id": delivery.subscription_id,
        "event": {"id": event.event_id, "type": event.type, "occurred_at": iso(event.occurred_at)},
        "status": delivery.status, "attempts": delivery.attempts,
        "next_attempt_at": iso(delivery.next_attempt_at) if delivery.status in ("pending", "retrying") else None,
        "last_status_code": delivery.last_status_code, "last_error": delivery.last_error,
        "created_at": iso(delivery.created_at), "completed_at": iso(delivery.completed_at),
    }
    if with_attempts:
        out["attempt_log"] = [attempt_dict(a) for a in delivery.attempt_log]
    return out


# --- subscriptions -------------------------------------------------------------------------------


def _require_admin(actor: Actor) -> None:
    if actor.role not in ("admin", "system"):
        raise Forbidden(_('Only admins can manage webhooks.'))


def _require_manager(actor: Actor) -> None:
    # Supervisors watch failed deliveries and send them again (SPEC §10); only admins edit.
    if actor.role not in ("admin", "supervisor", "system"):
        raise Forbidden(_('Only admins and supervisors can see webhooks.'))


def _url_problems(url: Any) -> dict[str, str]:
    if not isinstance(url, str):
        return {}
    problem = url_problem(url, get_setting(PRIVATE_URLS_SETTING) is True)
    return {"url": as_sentence(problem)} if problem else {}  # in the reader's language; a host as typed


def _retry_problems(retry: Any) -> dict[str, str]:
    try:
        policy = RetryIn.model_validate(retry if retry is not None else {})
    except PydanticError:
        return {}  # already reported by the schema
    problem = validate_retry_policy(policy.strategy, policy.max_attempts)
    if not problem:
        return {}
    # In the words of the form's fields ("Retry strategy", "Attempts before giving up"), not the
    # API's field names: the details keys already say which field each is about.
    if problem.startswith("retry strategy"):
        return {"retry.strategy": _("Choose a retry strategy: %(choices)s.", choices=", ".join(STRATEGIES))}
    if problem.startswith("max_attempts"):
        return {"retry.max_attempts": _("Attempts before giving up must be a whole number from %(low)s to %(high)s.",
                                        low=MIN_ATTEMPTS, high=MAX_ATTEMPTS_LIMIT)}
    return {"retry.max_attempts": _("With this retry strategy the attempts end before 24 hours have passed: "
                                    "raise the attempts before giving up.")}


def _validated(model: type[M], data: Any) -> M:
    """Schema errors, URL safety and the retry promise, all reported at once (422)."""
    details: dict[str, str] = {}
    spec = None
    try:
        spec = parse(model, data, INVALID)
    except ValidationFailed as exc:
        details.update(exc.details)
    raw = data if isinstance(data, dict) else {}
    if "url" not in details:
        details.update(_url_problems(raw.get("url")))
    if "retry" in raw or model is WebhookIn:
        for key, message in _retry_problems(raw.get("retry")).items():
            details.setdefault(key, message)
    if details or spec is None:
        raise ValidationFailed(INVALID, details)
    return spec


def subscriptions_query(actor: Actor) -> Select:
    """Every subscription, oldest first (for paging)."""
    _require_manager(actor)
    return select(WebhookSubscription).order_by(WebhookSubscription.id)


def list_subscriptions(actor: Actor, offset: int = 0, limit: int = 50) -> tuple[int, list[WebhookSubscription]]:
    stmt = subscriptions_query(actor)
    count = db.session.scalar(select(func.count()).select_from(WebhookSubscription)) or 0
    return count, list(db.session.scalars(stmt.offset(offset).limit(limit)))


def get_subscription(subscription_id: int, actor: Actor) -> WebhookSubscription:
    _require_manager(actor)
    sub = db.session.get(WebhookSubscription, subscription_id)
    if sub is None:
        raise NotFound(_('No such webhook subscription.'))
    return sub


def create_subscription(data: Any, actor: Actor) -> WebhookSubscription:
    """Validate and store a subscription (422 with per-field details when it is wrong). Commits."""
    _require_admin(actor)
    spec = _validated(WebhookIn, data)  # resolves DNS: before the write lock, not under it
    begin_write()
    sub = WebhookSubscription(url=spec.url, events=spec.events, secret=spec.secret, active=spec.active,
                              retry_strategy=spec.retry.strategy, max_attempts=spec.retry.max_attempts,
                              headers=spec.headers, description=spec.description)
    db.session.add(sub)
    db.session.commit()
    return sub


def update_subscription(subscription_id: int, data: Any, actor: Actor) -> WebhookSubscription:
    """Change the fields sent; the rest stay as they are. Reactivating a subscription makes its
    waiting deliveries go out again. Commits."""
    _require_admin(actor)
    spec = _validated(WebhookUpdate, data)
    changes = spec.model_dump(exclude_unset=True)
    nulls = {f: "Must not be null." for f in ("url", "events", "secret", "active", "retry", "headers")
             if f in changes and changes[f] is None}
    if nulls:
        raise ValidationFailed(INVALID, nulls)
    begin_write()
    sub = db.session.get(WebhookSubscription, subscription_id)
    if sub is None:
        raise NotFound(_('No such webhook subscription.'))
    if spec.url is not None:
        sub.url = spec.url
    if spec.retry is not None:
        sub.retry_strategy, sub.max_attempts = spec.retry.strategy, spec.retry.max_attempts
    for field in ("events", "secret", "active", "headers", "description"):
        if field in changes:
            setattr(sub, field, getattr(spec, field))
    reactivated = "active" in changes and spec.active
    db.session.commit()
    if reactivated:
        outbox.kick_subscription(sub.id)
    return sub


def delete_subscription(subscription_id: int, actor: Actor) -> None:
    """Delete a subscription with its delivery log. Commits."""
    _require_admin(actor)
    begin_write()
    sub = db.session.get(WebhookSubscription, subscription_id)
    if sub is None:
        raise NotFound(_('No such webhook subscription.'))
    db.session.delete(sub)
    db.session.commit()


# --- delivery log and redelivery -----------------------------------------------------------------


def deliveries_query(subscription_id: int, actor: Actor, status: str | None = None) -> Select:
    """A subscription's deliveries, newest event first, optionally only one status."""
    get_subscription(subscription_id, actor)
    if status is not None and status not in DELIVERY_STATUSES:
        raise ValidationFailed(_('Unknown delivery status.'), {"status": _('Use one of %(value)s.', value=', '.join(DELIVERY_STATUSES))})
    stmt = select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription_id)
    if status:
        stmt = stmt.where(WebhookDelivery.status == status)
    return stmt.order_by(WebhookDelivery.event_id.desc())


def list_deliveries(subscription_id: int, actor: Actor, status: str | None = None, offset: int = 0,
                    limit: int = 50) -> tuple[int, list[WebhookDelivery]]:
    stmt = deliveries_query(subscription_id, actor, status)
    count = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    return count, list(db.session.scalars(stmt.offset(offset).limit(limit)))


def get_delivery(subscription_id: int, delivery_id: int, actor: Actor) -> WebhookDelivery:
    _require_manager(actor)
    delivery = db.session.get(WebhookDelivery, delivery_id)
    if delivery is None or delivery.subscription_id != subscription_id:
        raise NotFound(_('No such delivery for this webhook subscription.'))
    return delivery


def _reopen(delivery: WebhookDelivery) -> None:
    delivery.status = "retrying"  # a redelivery never holds up newer events of the subscription
    delivery.next_attempt_at = utcnow()
    delivery.completed_at = None


def redeliver(subscription_id: int, delivery_id: int, actor: Actor) -> WebhookDelivery:
    """Send a delivery again now, with the same event id. If the delivery still had retries
    left they continue; a failed one gets this one new attempt. Commits, then enqueues."""
    _require_manager(actor)
    begin_write()
    delivery = db.session.get(WebhookDelivery, delivery_id, with_for_update=True, populate_existing=True)
    if delivery is None or delivery.subscription_id != subscription_id:
        raise NotFound(_('No such delivery for this webhook subscription.'))
    if delivery.status == "pending":
        raise Conflict(_('This delivery has not been sent yet; it goes out in event order.'),
                       details={"status": delivery.status})
    if delivery.status == "retrying" and delivery.next_attempt_at and delivery.next_attempt_at > utcnow() \
            and any(a.duration_ms is None and a.error is None for a in delivery.attempt_log):
        raise Conflict(_('This delivery is being sent right now.'), details={"status": delivery.status})
    _reopen(delivery)
    attempts = delivery.attempts
    db.session.commit()
    outbox.enqueue_delivery(delivery.id, attempts, "-redeliver")
    return delivery


def redeliver_failed(subscription_id: int, actor: Actor) -> int:
    """Redeliver every failed delivery of a subscription; returns how many. Commits, then enqueues."""
    get_subscription(subscription_id, actor)
    begin_write()
    failed = db.session.scalars(
        select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription_id,
                                      WebhookDelivery.status == "failed")
        .order_by(WebhookDelivery.event_id).with_for_update()
    ).all()
    queued = [(d.id, d.attempts) for d in failed]
    for delivery in failed:
        _reopen(delivery)
    db.session.commit()
    for delivery_id, attempts in queued:
        outbox.enqueue_delivery(delivery_id, attempts, "-redeliver")
    return len(queued)


def failing_subscriptions() -> list[dict[str, Any]]:
    """Subscriptions with failed deliveries (for the supervisor's failed list): id, url,
    active, failed count and the last failure's time and error."""
    rows = db.session.execute(
        select(WebhookDelivery.subscription_id, func.count(), func.max(WebhookDelivery.completed_at))
        .where(WebhookDelivery.status == "failed").group_by(WebhookDelivery.subscription_id)
    ).all()
    out = []
    for subscription_id, failed, last_at in rows:
        sub = db.session.get(WebhookSubscription, subscription_id)
        last = db.session.scalars(
            select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription_id,
                                          WebhookDelivery.status == "failed")
            .order_by(WebhookDelivery.completed_at.desc()).limit(1)
        ).first()
        out.append({"id": subscription_id, "url": sub.url if sub else "", "active": bool(sub and sub.active),
                    "failed": failed, "last_failed_at": last_at, "last_error": last.last_error if last else None,
                    "last_error_message": last.last_error_message if last else None})
    return sorted(out, key=lambda row: row["id"])
