"""Optimistic versions: the ETag of a work order, and `If-Match` on its commands."""

from __future__ import annotations

import re

from flask import Response, request
from flask_babel import gettext as _

from app.services.errors import ValidationFailed

# The ETag as sent ("3") or bare (3); empty means no condition.
IF_MATCH_PATTERN = r'^("?[0-9]{1,18}"?)?$'


def expected_version() -> int | None:
    """`If-Match: <version>` (the ETag of the last GET) makes a command apply only to that version;
    a version that is not the current one (however large) is a 409 `stale`."""
    raw = request.headers.get("If-Match", "").strip(" \t")
    if not re.fullmatch(IF_MATCH_PATTERN, raw):
        raise ValidationFailed(_('If-Match must be the ETag (version) you last saw.'), {"If-Match": _('Not a version.')})
    digits = raw.strip('"')
    return int(digits) if digits else None


def with_version(response: Response, version: int) -> Response:
    response.headers["ETag"] = f'"{version}"'
    return response
