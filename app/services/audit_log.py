"""Reading the audit log (services/audit.py writes it): filter by kind of record, who, what (the
record's name contains the text) and date, newest first a keyset page at a time. Admins only."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select

from app.extensions import db
from app.models import AuditEntry
from app.models.base import iso
from app.services import listing
from app.services.actors import Actor
from app.services.audit import KINDS
from app.services.errors import Forbidden

HEADER = ("id", "at", "actor", "kind", "record", "action", "changes")
CURSOR_KINDS = (int,)
ACTIONS = ("created", "changed", "deleted")
# What each kind of record is called on the screen (the API and the CSV keep the codes).
KIND_LABELS = {
    "cargo company": _l("Cargo company"), "channel": _l("Channel"), "channel mapping": _l("Channel mapping"),
    "denial reason": _l("Denial reason"), "location": _l("Location"), "rule": _l("Scenario rule"),
    "scenario": _l("Scenario"), "setting": _l("Setting"), "token": _l("API token"), "user": _l("User"),
    "webhook": _l("Webhook"),
}


def kind_label(kind: str) -> str:
    """A kind of record in plain words, in the request's language ("denial reason" → "Ret nedeni")."""
    label = KIND_LABELS.get(kind)
    return str(label) if label is not None else kind.replace("_", " ").capitalize()


@dataclass(frozen=True)
class AuditFilters:
    kind: str = ""
    action: str = ""
    actor: str = ""
    q: str = ""
    date_from: date | None = None
    date_to: date | None = None

    def as_args(self) -> dict[str, str]:
        out = {"kind": self.kind, "action": self.action, "actor": self.actor, "q": self.q,
               "from": self.date_from.isoformat() if self.date_from else "",
               "to": self.date_to.isoformat() if self.date_to else ""}
        return {k: v for k, v in out.items() if v}


def require_admin(actor: Actor) -> None:
    if actor.role != "admin":
        raise Forbidden(_('Only admins can read the audit log.'))


def read_filters(args: Mapping[str, str], actor: Actor, problems: listing.Problems) -> AuditFilters:
    require_admin(actor)
    first, last = listing.date_range(args, problems)
    return AuditFilters(kind=listing.choice(args, "kind", KINDS, problems),
                        action=listing.choice(args, "action", ACTIONS, problems),
                        actor=listing.text(args, "actor", problems), q=listing.text(args, "q", problems),
                        date_from=first, date_to=last)


def _like(text: str) -> str:
    return "%" + text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def audit_query(actor: Actor, f: AuditFilters) -> Select:
    require_admin(actor)
    query = select(AuditEntry)
    if f.kind:
        query = query.where(AuditEntry.kind == f.kind)
    if f.action:
        query = query.where(AuditEntry.action == f.action)
    if f.actor:
        query = query.where(func.lower(AuditEntry.actor).like(_like(f.actor), escape="\\"))
    if f.q:
        query = query.where(func.lower(AuditEntry.entity_key).like(_like(f.q), escape="\\"))
    start, end = listing.utc_bounds(f.date_from, f.date_to)
    if start is not None:
        query = query.where(AuditEntry.created_at >= start)
    if end is not None:
        query = query.where(AuditEntry.created_at < end)
    return query


def page(actor: Actor, f: AuditFilters, cursor: list[Any] | None, size: int) -> listing.KeysetPage:
    query = audit_query(actor, f).order_by(AuditEntry.id.desc())
    if cursor is not None:
        query = query.where(AuditEntry.id < cursor[0])
    rows = list(db.session.scalars(query.limit(size + 1)))
    more = len(rows) > size
    rows = rows[:size]
    return listing.KeysetPage(rows, listing.encode_cursor([rows[-1].id]) if more else None, size)


def count(actor: Actor, f: AuditFilters) -> int:
    return db.session.scalar(select(func.count()).select_from(audit_query(actor, f).subquery())) or 0


def changes_text(entry: AuditEntry) -> str:
    """The changes as one line: `field: before → after; ...`."""
    return "; ".join(f"{name}: {_show(pair[0])} → {_show(pair[1])}" for name, pair in (entry.changes or {}).items())


def _show(value: Any) -> str:
    if value is None:
        return "—"
    return str(value)


def export_rows(actor: Actor, f: AuditFilters, batch: int = 1000) -> Iterator[list[Any]]:
    cursor = None
    while True:
        chunk = page(actor, f, cursor, batch)
        rows = [[e.id, e.created_at, e.actor, e.kind, e.entity_key, e.action, changes_text(e)] for e in chunk.items]
        db.session.expunge_all()
        yield from rows
        if chunk.next_cursor is None:
            return
        cursor = [rows[-1][0]]


def entry_dict(e: AuditEntry) -> dict[str, Any]:
    return {"id": e.id, "at": iso(e.created_at), "actor": e.actor, "kind": e.kind, "record": e.entity_key,
            "record_id": e.entity_id, "action": e.action,
            "changes": {name: {"before": pair[0], "after": pair[1]} for name, pair in (e.changes or {}).items()}}
