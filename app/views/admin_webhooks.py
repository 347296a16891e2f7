"""Admin screens for webhooks: subscriptions, the delivery log and redelivery."""

from __future__ import annotations

from typing import Any

import htmx_flask
from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.extensions import db
from app.models.events import EVENT_TYPES
from app.models.webhooks import DELIVERY_STATUSES
from app.services.actors import Actor
from app.services.errors import ServiceError
from app.services.pagination import PageArgs, paginate
from app.services.webhooks import DEFAULT_MAX_ATTEMPTS, STRATEGIES, subscriptions
from app.views import number_or_text
from app.views.htmx import render, wants_fragment
from app.views.security import role_required

bp = Blueprint("admin_webhooks", __name__, url_prefix="/admin/webhooks")
PAGE_SIZE = 50


def _actor() -> Actor:
    return Actor.for_user(current_user)


def _form_data(form: Any) -> dict[str, Any]:
    """The create form as the service's input; bad numbers are passed on for it to reject. "All
    events" is ticked when the form opens: ticking particular events means those events, whether
    or not "All events" was unticked (the page's script unticks it; without script it stays)."""
    events = form.getlist("events")
    particular = [e for e in events if e != "*"]
    raw_attempts = form.get("max_attempts", "").strip()
    headers = {}
    for line in form.get("headers", "").splitlines():
        if line.strip():
            name, _unused, value = line.partition(":")
            headers[name.strip()] = value.strip()
    return {
        "url": form.get("url", "").strip(), "events": particular or (["*"] if "*" in events else []),
        "secret": form.get("secret", ""), "active": form.get("active") == "on",
        "retry": {"strategy": form.get("strategy", ""),
                  "max_attempts": number_or_text(raw_attempts)},
        "headers": headers, "description": form.get("description", "").strip() or None,
    }


def _index_context(form: dict | None = None, errors: dict | None = None) -> dict[str, Any]:
    _unused, rows = subscriptions.list_subscriptions(_actor(), 0, 500)
    failing = {row["id"]: row for row in subscriptions.failing_subscriptions()}
    return dict(subscriptions=rows, failing=failing, event_types=EVENT_TYPES, strategies=STRATEGIES,
                form=form or {"events": ["*"], "active": True,
                              "retry": {"strategy": "exponential", "max_attempts": DEFAULT_MAX_ATTEMPTS}},
                errors=errors or {})


@bp.get("/")
@role_required("admin", "supervisor")
def index():
    return render("admin/webhooks/index.html", "admin/webhooks/_index.html", **_index_context())


@bp.post("/")
@role_required("admin")
def create():
    data = _form_data(request.form)
    try:
        sub = subscriptions.create_subscription(data, _actor())
    except ServiceError as exc:
        db.session.rollback()
        context = _index_context(data, exc.details or {"__root__": exc.message})
        return render("admin/webhooks/index.html", "admin/webhooks/_index.html", status=422, **context)
    if wants_fragment():
        return render("admin/webhooks/index.html", "admin/webhooks/_index.html",
                      trigger={"webhooks:created": sub.id}, **_index_context())
    flash(_('Webhook saved.'), "success")
    return redirect(url_for(".index"), 303)


def _detail_context(subscription_id: int) -> dict[str, Any]:
    sub = subscriptions.get_subscription(subscription_id, _actor())
    status = request.args.get("status") or None
    if status not in (None, *DELIVERY_STATUSES):
        status = None
    page = paginate(subscriptions.deliveries_query(sub.id, _actor(), status), PageArgs.lenient(request.args, PAGE_SIZE))
    failed_count, _unused = subscriptions.list_deliveries(sub.id, _actor(), "failed", 0, 1)
    return dict(sub=sub, deliveries=page.items, count=page.total, page_number=page.page, pages=page.pages,
                status=status, statuses=DELIVERY_STATUSES, failed_count=failed_count)


@bp.get("/<int:subscription_id>")
@role_required("admin", "supervisor")
def detail(subscription_id: int):
    return render("admin/webhooks/detail.html", "admin/webhooks/_deliveries.html", **_detail_context(subscription_id))


@bp.post("/<int:subscription_id>/active")
@role_required("admin")
def set_active(subscription_id: int):
    active = request.form.get("active") == "1"
    subscriptions.update_subscription(subscription_id, {"active": active}, _actor())
    flash(_("Webhook turned on.") if active else _("Webhook turned off. Its events wait until you turn it on."), "success")
    return redirect(url_for(".detail", subscription_id=subscription_id), 303)


@bp.post("/<int:subscription_id>/delete")
@role_required("admin")
def delete(subscription_id: int):
    subscriptions.delete_subscription(subscription_id, _actor())
    flash(_('Webhook deleted.'), "success")
    if wants_fragment():
        return htmx_flask.make_response(redirect(url_for(".index"), 303), redirect=url_for(".index"))
    return redirect(url_for(".index"), 303)


@bp.post("/<int:subscription_id>/deliveries/<int:delivery_id>/redeliver")
@role_required("admin", "supervisor")
def redeliver(subscription_id: int, delivery_id: int):
    try:
        delivery = subscriptions.redeliver(subscription_id, delivery_id, _actor())
        message = _('Sending again now.')
    except ServiceError as exc:
        if exc.status == 404:
            abort(404)
        db.session.rollback()
        delivery = subscriptions.get_delivery(subscription_id, delivery_id, _actor())
        message = exc.message
    if wants_fragment():
        return render("admin/webhooks/detail.html", "admin/webhooks/_delivery_row.html", d=delivery,
                      sub=delivery.subscription, message=message)
    flash(message, "success")
    return redirect(url_for(".detail", subscription_id=subscription_id), 303)


@bp.post("/<int:subscription_id>/redeliver-failed")
@role_required("admin", "supervisor")
def redeliver_failed(subscription_id: int):
    count = subscriptions.redeliver_failed(subscription_id, _actor())
    message = _('Sending %(count)s failed deliveries again.', count=count) if count else _('There were no failed deliveries.')
    if wants_fragment():
        return render("admin/webhooks/detail.html", "admin/webhooks/_deliveries.html", message=message,
                      **_detail_context(subscription_id))
    flash(message, "success")
    return redirect(url_for(".detail", subscription_id=subscription_id), 303)
