"""The audit log: every change a person makes to configuration, written by one hook.

Admin and supervisor changes reach the database through many doors (admin forms, the API, the
scenario editor, imports, the CLI), but all of them through the ORM session. One `after_flush`
listener looks at the configuration records a flush created, changed or deleted and writes one
`audit_entries` row each, with {field: [before, after]}, in the same transaction: a change that
rolls back leaves no entry, a committed one always has its entry. The one write that bypasses
the ORM's unit of work (the settings upsert) calls `record` itself.

Who acted comes from the request (the signed-in user, or the API token's user) or from `acting`
(a job or the CLI acting for a person). Writes with no person behind them (the seed, migrations,
a channel's sync bookkeeping) are not audited. Secrets never reach the log: password and token
hashes, webhook secrets and headers, and every configuration key that names a secret, key,
token or password are masked; a changed secret shows as changed, not what it was or became.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import g, has_request_context
from sqlalchemy import event, insert, inspect, select, update
from sqlalchemy.orm import Session

from app.extensions import db
from app.models import (
    ApiToken,
    CargoCompany,
    Channel,
    ChannelMapping,
    DenialReason,
    Scenario,
    ScenarioRule,
    Setting,
    StockLocation,
    User,
    WebhookSubscription,
)
from app.models.audit import AuditEntry
from app.models.base import iso, utcnow
from app.services.actors import Actor

MASK = "••••••"
CHANGED_SECRET = "•••••• (changed)"
# A key of a configuration dict (a channel's or cargo company's config, a webhook's headers, a
# setting) whose value is a secret.
SECRET_KEY = re.compile(r"secret|token|password|passwd|api[_-]?key|apikey|private|credential|auth|signature|"
                        r"cookie|^key$|_key$", re.IGNORECASE)
IGNORED = frozenset({"id", "created_at", "updated_at"})

_ACTOR: ContextVar[Actor | None] = ContextVar("packline_audit_actor", default=None)


@dataclass(frozen=True)
class Audited:
    kind: str  # what the page and the API call it
    key: Callable[[Any], str]  # what people call one record
    ignore: frozenset[str] = frozenset()  # bookkeeping columns nobody "changes"
    secret: frozenset[str] = frozenset()  # columns always masked
    secret_dicts: frozenset[str] = frozenset()  # JSON columns whose secret-looking keys are masked


def _loaded(obj: Any, name: str) -> Any:
    """An attribute's value without ever loading it (the flush must not read the database)."""
    return inspect(obj).dict.get(name)


def _or_id(obj: Any, name: str) -> str:
    value = _loaded(obj, name)
    return str(value) if value not in (None, "") else f"#{_loaded(obj, 'id')}"


AUDITED: dict[type, Audited] = {
    Scenario: Audited("scenario", lambda o: _or_id(o, "name")),
    ScenarioRule: Audited("rule", lambda o: f"scenario #{_loaded(o, 'scenario_id')}: {_or_id(o, 'name')}"),
    Setting: Audited("setting", lambda o: _or_id(o, "key"), secret_dicts=frozenset({"value"})),
    StockLocation: Audited("location", lambda o: _or_id(o, "code")),
    Channel: Audited("channel", lambda o: _or_id(o, "code"), secret_dicts=frozenset({"config"})),
    ChannelMapping: Audited("channel mapping", lambda o: f"channel #{_loaded(o, 'channel_id')}: "
                                                         f"{_loaded(o, 'kind')} {_loaded(o, 'channel_value')}"),
    CargoCompany: Audited("cargo company", lambda o: _or_id(o, "code"), secret_dicts=frozenset({"config"})),
    DenialReason: Audited("denial reason", lambda o: _or_id(o, "code")),
    User: Audited("user", lambda o: _or_id(o, "username"),
                  ignore=frozenset({"last_login_at", "session_version", "scan_feedback", "language"}),
                  secret=frozenset({"password_hash"})),
    ApiToken: Audited("token", lambda o: f"{_loaded(o, 'prefix') or ''}… (user #{_loaded(o, 'user_id')})",
                      ignore=frozenset({"last_used_at"}), secret=frozenset({"token_hash"})),
    WebhookSubscription: Audited("webhook", lambda o: _or_id(o, "url"), secret=frozenset({"secret"}),
                                 secret_dicts=frozenset({"headers"})),
}
KINDS = tuple(sorted({a.kind for a in AUDITED.values()}))


@contextmanager
def acting(actor: Actor) -> Iterator[None]:
    """Audit what happens inside as done by `actor` (a job or CLI command acting for a person)."""
    token = _ACTOR.set(actor)
    try:
        yield
    finally:
        _ACTOR.reset(token)


@contextmanager
def acting_for_user(user_id: int | None) -> Iterator[None]:
    """`acting` as the user `user_id` (a job working for the person who started it); no user:
    the work is the system's and is not audited."""
    user = db.session.get(User, user_id) if user_id else None
    if user is None:
        yield
        return
    with acting(Actor.for_user(user)):
        yield


def _who() -> tuple[str, int | None] | None:
    """(label, user id) of the person behind the current work, or None for the system."""
    actor = _ACTOR.get()
    if actor is None and has_request_context():
        actor = g.get("actor")  # the API's token actor
        if actor is None:
            user = g.get("_login_user")  # Flask-Login's user, once the request has looked at it
            if user is not None and getattr(user, "is_authenticated", False):
                state = inspect(user)
                name = state.dict.get("username")
                user_id = state.identity[0] if state.identity else None
                return (f"user:{name}" if name else f"user#{user_id}"), user_id
    if actor is None or actor.role == "system" and actor.user_id is None:
        return None
    return actor.label, actor.user_id


# ------------------------------------------------------------------------------- values and masks

def plain(value: Any) -> Any:
    """A value as JSON the log can keep."""
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def masked(value: Any) -> Any:
    """A configuration value with every secret-looking key's value masked, at any depth."""
    if isinstance(value, dict):
        return {k: (MASK if SECRET_KEY.search(str(k)) and v not in (None, "") else masked(v))
                for k, v in value.items()}
    if isinstance(value, list):
        return [masked(v) for v in value]
    return value


def _masked_pair(before: Any, after: Any) -> tuple[Any, Any]:
    """Before/after of a JSON column with secrets masked; a secret that changed says so."""
    mb, ma = masked(before), masked(after)
    if isinstance(mb, dict) and isinstance(ma, dict) and isinstance(before, dict) and isinstance(after, dict):
        for k in ma:
            if ma[k] == MASK and before.get(k) != after.get(k):
                ma[k] = CHANGED_SECRET if k in before else MASK
    return mb, ma


def _pair(spec: Audited, name: str, before: Any, after: Any) -> tuple[Any, Any] | None:
    before, after = plain(before), plain(after)
    if before == after:
        return None
    if name in spec.secret:
        return (MASK if before not in (None, "") else None,
                (CHANGED_SECRET if before not in (None, "") else MASK) if after not in (None, "") else None)
    if name in spec.secret_dicts or spec.kind == "setting" and name == "value":
        mb, ma = _masked_pair(before, after)
        if spec.kind == "setting" and SECRET_KEY.search(str(_setting_key_hint.get() or "")):
            mb, ma = (MASK if before is not None else None), (CHANGED_SECRET if before is not None else MASK)
        return mb, ma
    return before, after


_setting_key_hint: ContextVar[str | None] = ContextVar("packline_audit_setting_key", default=None)


# --------------------------------------------------------------------------------- the hook

def _columns(obj: Any) -> list[str]:
    return [attr.key for attr in inspect(type(obj)).column_attrs]


def _changes(spec: Audited, obj: Any, action: str) -> dict[str, list[Any]]:
    state = inspect(obj)
    found: dict[str, list[Any]] = {}
    for name in _columns(obj):
        if name in IGNORED or name in spec.ignore:
            continue
        if action == "changed":
            history = state.attrs[name].history
            if not history.added:
                continue
            before = history.deleted[0] if history.deleted else None
            pair = _pair(spec, name, before, history.added[0])
        elif action == "created":
            pair = _pair(spec, name, None, state.dict.get(name))
        else:
            pair = _pair(spec, name, state.dict.get(name), None)
        if pair is not None:
            found[name] = list(pair)
    if isinstance(obj, User):
        history = state.attrs["locations"].history
        if history.added or history.deleted:
            codes = lambda objs: sorted(str(_loaded(o, "code")) for o in objs)  # noqa: E731
            kept = codes(history.unchanged or [])
            before, after = sorted(kept + codes(history.deleted or [])), sorted(kept + codes(history.added or []))
            if before != after:
                found["locations"] = [before, after]
    return found


def _entries(session: Session) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for objects, action in ((session.new, "created"), (session.dirty, "changed"), (session.deleted, "deleted")):
        for obj in objects:
            spec = AUDITED.get(type(obj))
            if spec is None or (action == "changed" and not session.is_modified(obj)):
                continue
            changes = _changes(spec, obj, action)
            if changes or action != "changed":
                rows.append({"kind": spec.kind, "entity_key": spec.key(obj)[:300],
                             "entity_id": str(_loaded(obj, "id") or _loaded(obj, "key") or "")[:64] or None,
                             "action": action, "changes": changes})
    return rows


_WRITTEN = "packline.audit_written"  # this transaction's entries: (kind, id) -> [entry id, action, changes]


@event.listens_for(Session, "after_flush")
def _audit_flush(session: Session, _context) -> None:
    if not (session.new or session.dirty or session.deleted):
        return
    who = _who()
    if who is None:
        return
    written = session.info.setdefault(_WRITTEN, {})
    connection = session.connection()
    for row in _entries(session):
        key = (row["kind"], row["entity_id"])
        prior = written.get(key)
        if prior is None:
            # One save may flush a record more than once (a user's role, then their locations):
            # its entry then collects the changes of the whole transaction.
            entry_id = connection.execute(insert(AuditEntry.__table__).returning(AuditEntry.__table__.c.id),
                                          [{**row, "actor": who[0][:200], "user_id": who[1],
                                            "created_at": utcnow()}]).scalar_one()
            written[key] = [entry_id, row["action"], dict(row["changes"])]
            continue
        entry_id, action, changes = prior
        for name, (before, after) in row["changes"].items():
            changes[name] = [changes[name][0], after] if name in changes else [before, after]
        action = "deleted" if row["action"] == "deleted" else action
        prior[1] = action
        connection.execute(update(AuditEntry.__table__).where(AuditEntry.__table__.c.id == entry_id)
                           .values(action=action, changes=changes))


@event.listens_for(Session, "after_transaction_end")
def _audit_transaction_ended(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_WRITTEN, None)


def record_setting(session: Session, key: str, before: Any, after: Any, existed: bool) -> None:
    """Audit a setting written by the settings upsert (which the flush hook cannot see)."""
    who = _who()
    if who is None:
        return
    token = _setting_key_hint.set(key)
    try:
        pair = _pair(AUDITED[Setting], "value", before if existed else None, after)
    finally:
        _setting_key_hint.reset(token)
    if pair is None and existed:
        return
    session.connection().execute(insert(AuditEntry.__table__), [{
        "kind": "setting", "entity_key": key[:300], "entity_id": key[:64], "action": "changed" if existed else "created",
        "changes": {"value": list(pair or (None, None))}, "actor": who[0][:200], "user_id": who[1],
        "created_at": utcnow()}])


def setting_before(session: Session, key: str) -> tuple[bool, Any]:
    """(exists, value) of a setting as stored, read before the upsert changes it."""
    row = session.execute(select(Setting.value).where(Setting.key == key)).first()
    return (row is not None, row[0] if row is not None else None)
