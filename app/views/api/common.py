"""What every API view shares: the route registry behind the OpenAPI document, JSON body
parsing, pagination, role checks, and Idempotency-Key handling for POST/PUT/PATCH."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from flask import Response, g, jsonify, request
from pydantic import BaseModel
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import IdempotencyRecord, TransitionLog
from app.models.base import iso, utcnow
from app.schemas.common import MAX_INT
from app.services.actors import Actor
from app.services.db import begin_write
from app.services.errors import Forbidden, ServiceError, ValidationFailed
from app.views.api import bp
from app.views.errors import api_error

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
MAX_PAGE = 1_000_000
IDEMPOTENCY_TTL = timedelta(hours=24)
# A record still "in progress" after this long belongs to a request that died; let a retry run.
IDEMPOTENCY_ABANDONED = timedelta(minutes=5)
WRITE_METHODS = ("POST", "PUT", "PATCH")


@dataclass(frozen=True)
class QueryParam:
    name: str
    type: str = "string"  # string | integer | date-time
    description: str = ""
    repeatable: bool = False


@dataclass
class Operation:
    rule: str
    method: str
    endpoint: str
    summary: str
    tag: str
    body: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    many: bool = False  # a paginated list of `response`
    query: Sequence[QueryParam] = ()
    body_required: bool = True
    # Per-command request models for ".../commands/<command>" routes, resolved when the document is built.
    commands: Callable[[], dict[str, type[BaseModel] | None]] | None = None
    produces: tuple[str, ...] = ("application/json",)


REGISTRY: list[Operation] = []
PAGINATION = (QueryParam("page", "integer", "Page number, from 1."),
              QueryParam("page_size", "integer", f"Rows per page (default {DEFAULT_PAGE_SIZE}, max {MAX_PAGE_SIZE})."))


def api_route(rule: str, method: str, *, summary: str, tag: str, body: type[BaseModel] | None = None,
              response: type[BaseModel] | None = None, status: int = 200, many: bool = False,
              query: Sequence[QueryParam] = (), body_required: bool = True,
              commands: Callable[[], dict[str, type[BaseModel] | None]] | None = None,
              produces: tuple[str, ...] = ("application/json",)):
    """Register a view on the API blueprint and record it for the OpenAPI document."""

    def decorator(view):
        endpoint = view.__name__
        bp.add_url_rule(rule, endpoint=endpoint, view_func=view, methods=[method])
        REGISTRY.append(Operation(rule=bp.url_prefix + rule, method=method, endpoint=f"{bp.name}.{endpoint}",
                                  summary=summary, tag=tag, body=body, response=response, status=status,
                                  many=many, query=tuple(query) + (PAGINATION if many else ()),
                                  body_required=body_required, commands=commands, produces=produces))
        return view

    return decorator


def actor() -> Actor:
    return g.actor


def require_manager() -> None:
    if not g.actor.is_manager:
        raise Forbidden("Only supervisors and admins may do this.")


def require_admin() -> None:
    if g.actor.role != "admin":
        raise Forbidden("Only admins may do this.")


# --- request bodies ----------------------------------------------------------------------------------

def json_body(optional: bool = False) -> Any:
    """The parsed JSON body; 400 for a wrong content type or malformed JSON."""
    raw = request.get_data(cache=True)
    if optional and not raw.strip():
        return {}
    if not request.is_json:
        raise ServiceError("Send the body as JSON with 'Content-Type: application/json'.",
                           code="unsupported_content_type")
    try:
        data = request.get_json(silent=True)
    except RecursionError:  # silent=True only covers ValueError
        raise ServiceError("The body is nested too deeply.", code="malformed_json") from None
    if data is None and raw.strip() != b"null":
        raise ServiceError("The body is not valid JSON.", code="malformed_json")
    if _has_nul(data):
        raise ValidationFailed("Text must not contain NUL (\\u0000) characters.", {"body": "Contains a NUL character."})
    return data


def _has_nul(data: Any) -> bool:
    """NUL cannot be stored in a text column (PostgreSQL refuses it) and is never meaningful."""
    stack = [data]  # not recursive: deeply nested JSON must not hit the recursion limit
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                return True
        elif isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list):
            stack.extend(value)
    return False


def json_object(optional: bool = False) -> dict[str, Any]:
    data = json_body(optional=optional)
    if not isinstance(data, dict):
        raise ValidationFailed("Send a JSON object.", {"body": "Must be a JSON object."})
    return data


# --- lists -------------------------------------------------------------------------------------------

def _positive_int(name: str, default: int, maximum: int | None = None) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
        raise ValidationFailed(f"{name} must be a whole number of at least 1.", {name: "Must be a whole number >= 1."})
    value = int(raw)
    if maximum is not None and value > maximum:
        raise ValidationFailed(f"{name} may be at most {maximum}.", {name: f"Must be at most {maximum}."})
    return value


def _page_url(page: int) -> str:
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "page"] + [("page", str(page))]
    return f"{request.base_url}?{urlencode(args)}"


def paginate(stmt, serialize: Callable[[Any], dict[str, Any]]) -> Response:
    """{"count", "next", "previous", "results"} for a select() of ORM rows (already ordered)."""
    page = _positive_int("page", 1, MAX_PAGE)
    size = _positive_int("page_size", DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    count = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = db.session.scalars(stmt.limit(size).offset((page - 1) * size)).all()
    return jsonify(
        count=count,
        next=_page_url(page + 1) if page * size < count else None,
        previous=_page_url(page - 1) if page > 1 else None,
        results=[serialize(row) for row in rows],
    )


def parse_time(name: str) -> datetime | None:
    """An ISO 8601 query parameter as naive UTC (the database's convention)."""
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        value = datetime.fromisoformat(raw.replace(" ", "+"))
    except ValueError:
        raise ValidationFailed(f"{name} is not a date-time.",
                               {name: "Use ISO 8601, e.g. 2026-11-20T10:00:00Z."}) from None
    if value.tzinfo is not None:
        try:
            value = value.astimezone(UTC).replace(tzinfo=None)
        except OverflowError:
            raise ValidationFailed(f"{name} is out of range.", {name: "Not a representable date-time."}) from None
    return value


def history_page(entity_type: str, entity_id: int) -> Response:
    """The transition log of one work order, oldest first, as a page of TransitionOut."""
    stmt = (select(TransitionLog).where(TransitionLog.entity_type == entity_type,
                                        TransitionLog.entity_id == entity_id).order_by(TransitionLog.id))
    return paginate(stmt, lambda row: {
        "id": row.id, "from_state": row.from_state, "to_state": row.to_state, "command": row.command,
        "params": row.params or {}, "actor": row.actor, "at": iso(row.created_at)})


# --- optimistic versions -----------------------------------------------------------------------------

def expected_version() -> int | None:
    """`If-Match: <version>` (the ETag of the last GET) makes a command apply only to that version."""
    raw = request.headers.get("If-Match", "").strip().strip('"')
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit()) or int(raw) > MAX_INT:
        raise ValidationFailed("If-Match must be the ETag (version) you last saw.", {"If-Match": "Not a number."})
    return int(raw)


def with_version(response: Response, version: int) -> Response:
    response.headers["ETag"] = f'"{version}"'
    return response


# --- URLs --------------------------------------------------------------------------------------------

@bp.before_request
def reject_impossible_urls():
    """Ids beyond the database's integer range cannot exist (404); NUL in a URL is never valid (400)."""
    if "\x00" in request.path or any("\x00" in k + v for k, v in request.args.items(multi=True)):
        return api_error(400, "invalid_characters", "The URL must not contain NUL (%00) characters.")
    for name, value in (request.view_args or {}).items():
        if isinstance(value, int) and value > MAX_INT:
            return api_error(404, "not_found", f"There is no such {name.removesuffix('_id')} ({value}).")
    return None


# --- Idempotency-Key ---------------------------------------------------------------------------------

def request_fingerprint(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


@bp.before_request
def idempotency_start():
    """Replay, refuse, or record the start of a keyed write (runs after token authentication)."""
    key = request.headers.get("Idempotency-Key")
    if key is None or request.method not in WRITE_METHODS or "api_user" not in g:
        return None
    key = key.strip()
    if not key or len(key) > 200:
        return api_error(400, "invalid_idempotency_key", "Idempotency-Key must be 1 to 200 characters.")
    user_id = g.api_user.id
    fingerprint = request_fingerprint(request.method, request.path, request.get_data(cache=True))
    for _attempt in range(2):
        begin_write()
        record = db.session.scalar(select(IdempotencyRecord).where(
            IdempotencyRecord.user_id == user_id, IdempotencyRecord.key == key))
        now = utcnow()
        if record is not None and (record.created_at < now - IDEMPOTENCY_TTL or (
                record.status_code is None and record.created_at < now - IDEMPOTENCY_ABANDONED)):
            db.session.delete(record)
            db.session.flush()
            record = None
        if record is None:
            # `path` is for people reading the table (the fingerprint covers the whole path); the
            # column holds 500 characters and PostgreSQL refuses longer values.
            record = IdempotencyRecord(user_id=user_id, key=key, method=request.method, path=request.path[:500],
                                       request_hash=fingerprint)
            db.session.add(record)
            try:
                db.session.commit()
            except IntegrityError:  # a concurrent request with the same key got there first
                db.session.rollback()
                continue
            g.idempotency_record_id = record.id
            return None
        db.session.commit()
        return _answer_existing(record, fingerprint)
    return api_error(409, "request_in_progress", "A request with this Idempotency-Key is still running.")


def _answer_existing(record: IdempotencyRecord, fingerprint: str):
    if record.request_hash != fingerprint:
        return api_error(409, "idempotency_key_reused",
                         "This Idempotency-Key was used with a different request; use a new key.")
    if record.status_code is None:
        return api_error(409, "request_in_progress", "A request with this Idempotency-Key is still running.")
    response = Response(record.response_body, status=record.status_code, mimetype="application/json")
    response.headers["Idempotent-Replayed"] = "true"
    return response


@bp.after_request
def idempotency_finish(response: Response) -> Response:
    """Store the first answer for replay; a server error frees the key so the client can retry."""
    record_id = g.pop("idempotency_record_id", None)
    if record_id is None:
        return response
    db.session.rollback()  # views never leave pending changes; this only ends the read transaction
    if response.status_code >= 500:
        db.session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.id == record_id))
    else:
        db.session.execute(update(IdempotencyRecord).where(IdempotencyRecord.id == record_id).values(
            status_code=response.status_code, response_body=response.get_data(as_text=True)))
    db.session.commit()
    return response

