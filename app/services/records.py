"""Master-data records kept by a code — locations, channels, products, cargo companies, denial
reasons: the one write path the API, the admin forms and the imports share.

A `Kind` names a record's table, key column, API schemas and its own rules; `create`, `update`
and `upsert` validate with those schemas, refuse duplicates and clashes, write and flush. They
never commit: the edge that called them (an API view, an admin form, the import job) owns the
transaction (`services.db.committed`, or a savepoint per import row). Problems are
`ValidationFailed` (422) or `Conflict` (409) whose `details` name the field, so a form shows
them in place, an import reports them per line and the API answers them as they are.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.schemas.common import validate
from app.services.actors import Actor
from app.services.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.services.said import N_

INVALID = "Some fields are not valid."

# Each kind's sentences whole, by its label: a kind's name inside a sentence must be part of the
# sentence's msgid (Turkish puts it elsewhere and inflects it). A kind not listed here gets the
# "record" sentences.
_SENTENCES: dict[str, dict[str, str]] = {
    "product": {"missing": N_("There is no product %(key)s."), "exists": N_("Product %(key)s already exists."),
                "taken": N_("Another product already uses this SKU.")},
    "location": {"missing": N_("There is no location %(key)s."), "exists": N_("Location %(key)s already exists."),
                 "taken": N_("Another location already uses this code.")},
    "channel": {"missing": N_("There is no channel %(key)s."), "exists": N_("Channel %(key)s already exists."),
                "taken": N_("Another channel already uses this code.")},
    "supplier": {"missing": N_("There is no supplier %(key)s."), "exists": N_("Supplier %(key)s already exists."),
                 "taken": N_("Another supplier already uses this code.")},
    "cargo company": {"missing": N_("There is no cargo company %(key)s."),
                      "exists": N_("Cargo company %(key)s already exists."),
                      "taken": N_("Another cargo company already uses this code.")},
    "denial reason": {"missing": N_("There is no denial reason %(key)s."),
                      "exists": N_("Denial reason %(key)s already exists."),
                      "taken": N_("Another denial reason already uses this code.")},
}
_RECORD_SENTENCES = {"missing": N_("There is no record %(key)s."), "exists": N_("Record %(key)s already exists."),
                     "taken": N_("Another record already uses this code.")}


def _no_problems(*_args: Any) -> dict[str, str]:
    return {}


@dataclass(frozen=True)
class Kind:
    """One kind of master data and the rules its records obey beyond the schema."""

    model: Any
    key: str  # the column that names a record: "code" or "sku"; it never changes
    schema: type[BaseModel]  # the whole record: creating, an admin form's edit, a bulk row
    patch: type[BaseModel]  # some fields: an API PATCH, an import line for an existing record
    label: str  # "cargo company"
    current: Callable[[Any], dict[str, Any]]  # a stored record in the schema's shape
    # More rules on a whole record (no database): {field: message}, answered with 422.
    check: Callable[[dict[str, Any]], dict[str, str]] = _no_problems
    # Clashes with other records (a barcode of another product): {field: message}, answered with 409.
    conflicts: Callable[[dict[str, Any], Any], dict[str, str]] = _no_problems
    conflict_message: str = "The record clashes with another one."
    # Fields that are not a plain column (a product's barcodes): field -> setter(record, value).
    setters: Mapping[str, Callable[[Any, Any], None]] = field(default_factory=dict)
    # What null means in a PATCH for fields that are not columns ({"barcodes": []}).
    null_as: Mapping[str, Any] = field(default_factory=dict)
    # Called after the flush that created (old None) or changed (old: previous values) a record.
    written: Callable[[Any, dict[str, Any] | None], None] | None = None

    @property
    def key_word(self) -> str:
        return "SKU" if self.key == "sku" else "code"

    def says(self, sentence: str, **values: Any) -> str:
        """One of this kind's sentences ("missing", "exists", "taken") in the page's language."""
        return _(_SENTENCES.get(self.label, _RECORD_SENTENCES)[sentence], **values)


def require_admin(actor: Actor) -> None:
    """Only admins (and the system, for imports) change master data and stock figures."""
    if actor.role not in ("admin", "system"):
        raise Forbidden(_('Only admins can change master data.'))


def get(kind: Kind, key: str):
    """The record `key` of `kind`, or NotFound."""
    record = db.session.scalar(select(kind.model).where(getattr(kind.model, kind.key) == key))
    if record is None:
        raise NotFound(kind.says("missing", key=key))
    return record


def create(kind: Kind, data: Any, actor: Actor):
    """Create one record from its whole API shape (fields left out take their defaults).
    Flushes. 422 for invalid fields, 409 (`duplicate`) when the code is taken or the record
    clashes with another, 403 unless the actor is an admin."""
    require_admin(actor)
    body = validate(kind.schema, data, INVALID).model_dump()
    _refuse(kind.check(body))
    key = body[kind.key]
    if db.session.scalar(select(kind.model.id).where(getattr(kind.model, kind.key) == key)) is not None:
        raise _duplicate(kind, key)
    _refuse_conflicts(kind, body, None)
    record = kind.model()
    assign(kind, record, body)
    db.session.add(record)
    _flush(kind, key)
    if kind.written:
        kind.written(record, None)
    return record


def update(kind: Kind, key: str, data: Any, actor: Actor, *, partial: bool = True):
    """Change the record `key`. With `partial` (an API PATCH, an import line) `data` holds only
    the fields to change; otherwise it is the whole record (an admin form), whose fields left out
    return to their defaults and whose code must be `key`. Flushes; a change that changes nothing
    writes nothing. 422 / 409 / 403 as `create`, 404 for an unknown key."""
    require_admin(actor)
    if partial:
        changes = validate(kind.patch, data, INVALID).model_dump(exclude_unset=True)
        changes.update({name: value for name, value in kind.null_as.items() if name in changes and changes[name] is None})
        _refuse({name: _("May not be null.") for name, value in changes.items()
                 if value is None and not _nullable(kind, name)})
    else:
        whole = validate(kind.schema, data, INVALID).model_dump()
        if whole[kind.key] != key:  # codes are referenced by scenarios, imports and integrations
            _refuse({kind.key: _("The SKU cannot be changed.") if kind.key == "sku" else _("The code cannot be changed.")})
    record = db.session.scalar(select(kind.model).where(getattr(kind.model, kind.key) == key).with_for_update())
    if record is None:
        raise NotFound(kind.says("missing", key=key))
    current = kind.current(record)
    body = {**current, **changes} if partial else whole
    _refuse(kind.check(body))
    _refuse_conflicts(kind, body, record)
    old = {name: current.get(name) for name, value in body.items() if name != kind.key and current.get(name) != value}
    if not old:
        return record
    assign(kind, record, {name: body[name] for name in old})
    _flush(kind, key)
    if kind.written:
        kind.written(record, old)
    return record


def upsert(kind: Kind, data: Mapping[str, Any], actor: Actor) -> tuple[Any, bool]:
    """Create the record `data` names by its code, or change the fields `data` holds on the one
    that exists (an import line: fields it leaves out keep their values). Flushes.
    Returns (record, created)."""
    given = data.get(kind.key)
    exists = isinstance(given, str) and given and db.session.scalar(
        select(kind.model.id).where(getattr(kind.model, kind.key) == given))
    if not exists:
        return create(kind, data, actor), True
    changes = {name: value for name, value in data.items() if name != kind.key}
    return update(kind, given, changes, actor), False


def assign(kind: Kind, record: Any, values: Mapping[str, Any]) -> None:
    """Write validated values onto a record (columns, and the kind's setters for the rest)."""
    for name, value in values.items():
        setter = kind.setters.get(name)
        if setter is not None:
            setter(record, value)
        else:
            setattr(record, name, value)


def _nullable(kind: Kind, name: str) -> bool:
    column = kind.model.__table__.c.get(name)
    return column is not None and column.nullable


def _refuse(problems: dict[str, str]) -> None:
    if problems:
        raise ValidationFailed(INVALID, problems)


def _refuse_conflicts(kind: Kind, body: dict[str, Any], record: Any) -> None:
    clashes = kind.conflicts(body, record)
    if clashes:
        raise Conflict(kind.conflict_message, clashes, code="duplicate")


def _duplicate(kind: Kind, key: str) -> Conflict:
    return Conflict(kind.says("exists", key=key), {kind.key: kind.says("taken")}, code="duplicate")


def _flush(kind: Kind, key: str) -> None:
    # A concurrent writer may have taken the code between the check and the insert (PostgreSQL
    # waits on the unique index, then refuses); SQLite's write lock rules that race out.
    try:
        db.session.flush()
    except IntegrityError:
        raise _duplicate(kind, key) from None
