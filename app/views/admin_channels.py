"""Admin screens for channel connections ("Integrations"): each channel's connection form,
mappings (one by one or from CSV), the inbox (filters, raw payload, re-process one or all),
what was told back to the channel (failed updates with retry) and the last stock pushed."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import func, select

from app.extensions import db
from app.i18n import lower
from app.models import Channel, ChannelInboxEntry, ChannelPush, ChannelStockSync, Order, Product, Return
from app.models.channels import INBOX_OUTCOMES, MAPPING_KINDS
from app.schemas import json_text
from app.services import said
from app.services.actors import Actor
from app.services.channels import CONNECTORS, intake, mappings, status
from app.services.channels import records as channel_records
from app.services.channels.config import masked
from app.services.db import committed
from app.services.errors import NotFound, ServiceError
from app.services.human_input import in_words, say
from app.services.local_times import show_time
from app.services.pagination import PageArgs, paginate
from app.services.state_labels import state_label
from app.views.security import role_required

bp = Blueprint("admin_channels", __name__, url_prefix="/admin/integrations")
PAGE_SIZE = 50
MAX_CSV_BYTES = 2 * 1024 * 1024
# What each kind of mapping maps, in the page's language (the form posts the key).
KIND_LABELS = {"sku": _l("SKU"), "location": _l("Location"), "payment": _l("Payment"), "delivery": _l("Delivery"),
               "cargo": _l("Cargo company"), "status": _l("Status")}


def _actor() -> Actor:
    return Actor.for_user(current_user)


def _channel(code: str) -> Channel:
    channel = db.session.scalar(select(Channel).where(Channel.code == code))
    if channel is None:
        abort(404)
    return channel


@bp.app_template_filter("logged_time")
def logged_time(value: str | None):
    """A time kept as ISO text in a push's log ("2026-12-01T10:00:00Z"), shown like every other
    time: in the page's language and the brand's zone."""
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return value or ""
    return show_time(moment, seconds=True)


@bp.app_template_filter("said")
def said_text(message: Any, fallback: str | None = None) -> str:
    """A stored message (services/said.py: an inbox entry's `reason_message`) in the page's
    language; `fallback` (the stored text) for a row kept before messages were."""
    return said.text(message) if said.is_message(message) else (fallback or "")


@bp.app_template_filter("stock_problem")
def stock_problem(error: str | None) -> str:
    """A stock push's problem (kept as English text): our own sentences ("Shopify has no variant
    with this SKU.") in the page's language, the channel's own words as it sent them."""
    return said.text(said.said(error)) if error else ""


@bp.app_template_filter("push_error")
def push_error(push: ChannelPush) -> str:
    """A channel update's last error in the page's language: the last attempt's message when it
    kept one (our words; the channel's own stay as it sent them), else the stored text."""
    last = (push.log or [])[-1:]
    if last and push.last_error and last[0].get("error") == push.last_error:
        return said_text(last[0].get("error_message"), push.last_error)
    return push.last_error or ""


@bp.app_template_global("channel_pushes")
def channel_pushes(order_id: int) -> list[ChannelPush]:
    """The updates told back to the channel about one order (the supervisor's order page)."""
    return status.pushes_for_order(order_id)


@bp.get("/")
@role_required("admin", "supervisor")
def index():
    channels = list(db.session.scalars(select(Channel).order_by(Channel.code)))
    waiting = dict(db.session.execute(select(ChannelInboxEntry.channel_id, func.count()).where(
        ChannelInboxEntry.outcome == "needs_attention").group_by(ChannelInboxEntry.channel_id)).all())
    failed = dict(db.session.execute(select(ChannelPush.channel_id, func.count()).where(
        ChannelPush.status == "failed").group_by(ChannelPush.channel_id)).all())
    return render_template("admin/channels/index.html", channels=channels, waiting=waiting, failed=failed,
                           connectors=CONNECTORS, webhook_url=channel_records.webhook_url)


# --- inbox ------------------------------------------------------------------------------------------------


@bp.get("/inbox")
@role_required("admin", "supervisor")
def inbox():
    outcome = request.args.get("outcome") or ""
    code = request.args.get("channel") or ""
    query = select(ChannelInboxEntry).order_by(ChannelInboxEntry.id.desc())
    if outcome in INBOX_OUTCOMES:
        query = query.where(ChannelInboxEntry.outcome == outcome)
    channel = db.session.scalar(select(Channel).where(Channel.code == code)) if code else None
    if channel is not None:
        query = query.where(ChannelInboxEntry.channel_id == channel.id)
    rows = paginate(query, PageArgs.lenient(request.args, PAGE_SIZE))
    channels = {c.id: c for c in db.session.scalars(select(Channel))}
    return render_template("admin/channels/inbox.html", rows=rows, outcome=outcome, code=code, channels=channels,
                           outcomes=INBOX_OUTCOMES)


@bp.get("/inbox/<int:entry_id>")
@role_required("admin", "supervisor")
def entry(entry_id: int):
    row = db.session.get(ChannelInboxEntry, entry_id)
    if row is None:
        abort(404)
    try:
        pretty = json.dumps(json.loads(row.body), indent=2, ensure_ascii=False)
    except ValueError:
        pretty = row.body
    order = db.session.get(Order, row.order_id) if row.order_id else None
    ret = db.session.get(Return, row.return_id) if row.return_id else None  # the return this entry made
    return render_template("admin/channels/entry.html", row=row, pretty=pretty, order=order, ret=ret,
                           channel=db.session.get(Channel, row.channel_id))


@bp.post("/inbox/<int:entry_id>/reprocess")
@role_required("admin")
def reprocess(entry_id: int):
    try:
        outcome = intake.reprocess(entry_id, _actor())
    except NotFound:
        abort(404)
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for(".entry", entry_id=entry_id), 303)
    row = db.session.get(ChannelInboxEntry, entry_id)
    if outcome == "needs_attention":
        flash(_('Still needs attention: %(reason)s', reason=said_text(row.reason_message, row.reason)), "error")
    else:
        flash(_('Processed again: %(value)s.', value=lower(state_label(outcome))), "ok")
    return redirect(url_for(".entry", entry_id=entry_id), 303)


@bp.post("/inbox/reprocess-all")
@role_required("admin")
def reprocess_all():
    code = request.form.get("channel") or ""
    channel = db.session.scalar(select(Channel).where(Channel.code == code)) if code else None
    counts = intake.reprocess_all(channel.id if channel else None, _actor())
    if not counts:
        flash(_('Nothing was waiting for attention.'), "ok")
    else:
        words = ", ".join(_('%(count)s %(outcome)s', count=n, outcome=lower(state_label(outcome)))
                          for outcome, n in sorted(counts.items()))
        flash(_('Processed again: %(words)s.', words=words), "ok" if "needs_attention" not in counts else "error")
    return redirect(url_for(".inbox", outcome="needs_attention", channel=code or None), 303)


# --- one channel: connection, mappings, pushes, stock ----------------------------------------------------


def _channel_page(channel: Channel, *, config_text: str | None = None, errors: dict | None = None,
                  mapping_errors: dict | None = None, status_code: int = 200):
    adapter = channel.adapter or "api"
    shown = masked(channel.config, channel_records.secret_fields(adapter))
    maps = list(db.session.scalars(mappings.query(channel.id)))
    failed = list(db.session.scalars(select(ChannelPush).where(ChannelPush.channel_id == channel.id)
                                     .order_by(ChannelPush.status != "failed", ChannelPush.id.desc()).limit(50)))
    stock = db.session.execute(
        select(Product.sku, ChannelStockSync.quantity, ChannelStockSync.pushed_at, ChannelStockSync.delay_ms,
               ChannelStockSync.error).join(Product, Product.id == ChannelStockSync.product_id)
        .where(ChannelStockSync.channel_id == channel.id).order_by(Product.sku).limit(200)).all()
    orders = {o.id: o for o in db.session.scalars(select(Order).where(Order.id.in_({p.order_id for p in failed})))}
    return render_template(
        "admin/channels/channel.html", channel=channel, connectors=CONNECTORS, adapter=adapter,
        connector=CONNECTORS.get(adapter), config_text=config_text or json.dumps(shown, indent=2),
        errors=errors or {}, mapping_errors=mapping_errors or {}, maps=maps, pushes=failed, stock=stock,
        orders=orders, webhook_url=channel_records.webhook_url(channel), kinds=MAPPING_KINDS, kind_labels=KIND_LABELS,
    ), status_code


@bp.get("/<code>")
@role_required("admin", "supervisor")
def channel_view(code: str):
    return _channel_page(_channel(code))


def _connection_errors(details: dict[str, Any] | None) -> dict[str, str]:
    """The service's problems ({"config.base_url": "Required."}, the API's field paths) as the
    form says them: a setting by the key typed in the Settings box, in the page's language."""
    out: dict[str, str] = {}
    for key, message in (details or {}).items():
        key = str(key)
        if key.startswith("config."):
            setting = key.removeprefix("config.")
            out[key] = _('Settings, “%(setting)s”: %(problem)s', setting=setting, problem=say(message, setting))
        else:
            out[key] = str(say(message, key))
    return out


@bp.post("/<code>/connection")
@role_required("admin")
def save_connection(code: str):
    channel = _channel(code)
    text = request.form.get("config", "").strip() or "{}"
    try:
        config = json_text.loads(text)
    except ValueError as exc:
        return _channel_page(channel, config_text=text, errors={"config": json_text.problem(exc)}, status_code=422)
    data: dict[str, Any] = {"adapter": request.form.get("adapter", "api"), "config": config}
    try:
        saved = committed(channel_records.update, code, data, _actor())
    except ServiceError as exc:
        db.session.rollback()
        return _channel_page(_channel(code), config_text=text, errors=_connection_errors(exc.details)
                             or {"config": exc.message}, status_code=422)
    channel_records.connection_changed(saved)
    flash(_('Connection saved.'), "ok")
    return redirect(url_for(".channel_view", code=code), 303)


@bp.post("/<code>/mappings")
@role_required("admin")
def add_mapping(code: str):
    channel = _channel(code)
    data = {key: request.form.get(key, "") for key in ("kind", "channel_value", "our_value")}
    try:
        mapping, previous = committed(mappings.change_mapping, code, data, _actor())
    except ServiceError as exc:
        db.session.rollback()
        return _channel_page(channel, mapping_errors=in_words(exc.details) or {"__root__": exc.message}, status_code=422)
    if previous is None:
        flash(_('Mapped %(channel_value)s to %(our_value)s.', channel_value=mapping.channel_value,
                our_value=mapping.our_value), "ok")
    elif previous == mapping.our_value:
        flash(_('%(channel_value)s already maps to %(our_value)s.', channel_value=mapping.channel_value,
                our_value=mapping.our_value), "ok")
    else:
        flash(_('%(channel_value)s now maps to %(our_value)s (was %(previous)s).', channel_value=mapping.channel_value,
                our_value=mapping.our_value, previous=previous), "ok")
    return redirect(url_for(".channel_view", code=code) + "#mappings", 303)


@bp.post("/<code>/mappings/<int:mapping_id>/delete")
@role_required("admin")
def delete_mapping(code: str, mapping_id: int):
    try:
        committed(mappings.delete_mapping, code, mapping_id, _actor())
    except NotFound:
        abort(404)
    flash(_('Mapping removed.'), "ok")
    return redirect(url_for(".channel_view", code=code) + "#mappings", 303)


@bp.post("/<code>/mappings/import")
@role_required("admin")
def import_mappings(code: str):
    channel = _channel(code)
    upload = request.files.get("file")
    raw = upload.read(MAX_CSV_BYTES + 1) if upload else b""
    if len(raw) > MAX_CSV_BYTES:
        return _channel_page(channel, mapping_errors={"file": _("The file is larger than 2 MB; split it.")},
                             status_code=422)
    try:
        count = committed(mappings.import_csv, code, raw.decode("utf-8-sig", "replace"), _actor())
    except ServiceError as exc:
        db.session.rollback()
        return _channel_page(channel, mapping_errors=in_words(exc.details) or {"file": exc.message}, status_code=422)
    flash(_('Imported %(count)s mappings.', count=count), "ok")
    return redirect(url_for(".channel_view", code=code) + "#mappings", 303)


@bp.post("/pushes/<int:push_id>/retry")
@role_required("admin", "supervisor")
def retry_push(push_id: int):
    from app.tasks.channels import enqueue_push

    try:
        push = status.retry(push_id, _actor())
    except NotFound:
        abort(404)
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for(".index"), 303)
    enqueue_push(push.id)
    flash(_('The channel update will be tried again now.'), "ok")
    target = request.form.get("next") or ""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        target = url_for(".index")  # only our own pages: never an address from outside
    return redirect(target, 303)


@bp.post("/<code>/resync")
@role_required("admin")
def resync(code: str):
    from app.queues import enqueue

    channel = _channel(code)
    enqueue("channels", "app.tasks.channels.full_resync", channel.id, job_id=f"channel-resync-{channel.id}")
    flash(_("Every SKU's quantity will be sent to the channel again."), "ok")
    return redirect(url_for(".channel_view", code=code), 303)

