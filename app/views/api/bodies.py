"""Reading what the client sent: JSON bodies (never with NUL), date-time query parameters, and
URLs that cannot name anything."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import request
from flask_babel import gettext as _

from app.schemas import json_text
from app.schemas.common import MAX_INT
from app.schemas.json_text import NotStandardJson
from app.services.errors import ServiceError, ValidationFailed
from app.views.errors import api_error


def json_body(optional: bool = False) -> Any:
    """The parsed JSON body; 400 for a wrong content type or malformed JSON (NaN and Infinity too)."""
    raw = request.get_data(cache=True)
    if optional and not raw.strip():
        return {}
    if not request.is_json:
        raise ServiceError(_("Send the body as JSON with 'Content-Type: application/json'."),
                           code="unsupported_content_type")
    try:
        data = json_text.loads(raw)
    except NotStandardJson as exc:
        raise ServiceError(str(exc), code="malformed_json") from None
    except ValueError:  # also text that is not UTF-8
        raise ServiceError(_('The body is not valid JSON.'), code="malformed_json") from None
    except RecursionError:
        raise ServiceError(_('The body is nested too deeply.'), code="malformed_json") from None
    if _has_nul(data):
        raise ValidationFailed(_('Text must not contain NUL (\\u0000) characters.'), {"body": _('Contains a NUL character.')})
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
        raise ValidationFailed(_('Send a JSON object.'), {"body": _('Must be a JSON object.')})
    return data


def parse_time(name: str) -> datetime | None:
    """An ISO 8601 query parameter as naive UTC (the database's convention); left out is None,
    sent empty is a 422 like any other text that is not a date-time."""
    raw = request.args.get(name)
    if raw is None:
        return None
    try:
        value = datetime.fromisoformat(raw.replace(" ", "+"))
    except ValueError:
        raise ValidationFailed(_('%(name)s is not a date-time.', name=name),
                               {name: _('Use ISO 8601, e.g. 2026-11-20T10:00:00Z.')}) from None
    if value.tzinfo is not None:
        try:
            value = value.astimezone(UTC).replace(tzinfo=None)
        except OverflowError:
            raise ValidationFailed(_('%(name)s is out of range.', name=name), {name: _('Not a representable date-time.')}) from None
    return value


def reject_impossible_urls():
    """Ids beyond the database's integer range cannot exist (404); NUL in a URL is never valid (400)."""
    if "\x00" in request.path or any("\x00" in k + v for k, v in request.args.items(multi=True)):
        return api_error(400, "invalid_characters", "The URL must not contain NUL (%00) characters.")
    for name, value in (request.view_args or {}).items():
        if isinstance(value, int) and value > MAX_INT:
            return api_error(404, "not_found", f"There is no such {name.removesuffix('_id')} ({value}).")
    return None
