"""Optimistic versions: the ETag of a work order, and `If-Match` on its commands."""

from __future__ import annotations

from flask import Response, request

from app.schemas.common import MAX_INT
from app.services.errors import ValidationFailed


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
