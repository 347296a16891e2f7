"""The `Idempotency-Key` header on POST/PUT/PATCH, around `services.idempotency`."""

from __future__ import annotations

import re

from flask import Response, g, request

from app.services import idempotency
from app.services.errors import ServiceError
from app.views.errors import api_error

WRITE_METHODS = ("POST", "PUT", "PATCH")
# 1 to 200 printable ASCII characters; spaces only inside (HTTP trims them around a header value).
KEY_PATTERN = r"^[!-~]([ -~]*[!-~])?$"
MAX_KEY_LENGTH = 200


def start_keyed_write():
    """Replay or refuse a repeated keyed write, or let it run with its claim (after authentication)."""
    key = request.headers.get("Idempotency-Key")
    if key is None or request.method not in WRITE_METHODS or "api_user" not in g:
        return None
    key = key.strip(" \t")
    if len(key) > MAX_KEY_LENGTH or not re.fullmatch(KEY_PATTERN, key):
        return api_error(400, "invalid_idempotency_key", "Idempotency-Key must be 1 to 200 printable ASCII characters.")
    try:
        stored = idempotency.begin(g.api_user.id, key, request.method, request.path, request.get_data(cache=True))
    except ServiceError as exc:
        return api_error(exc.status, exc.code, exc.message)
    return None if stored is None else _replay(stored)


def key_taken_meanwhile(exc: idempotency.KeyInUse):
    """A concurrent identical request committed first; this one applied nothing: answer as it did."""
    try:
        return _replay(idempotency.answer_for(exc.claim))
    except ServiceError as error:
        return api_error(error.status, error.code, error.message)


def finish_keyed_write(response: Response) -> Response:
    """Store the answer of a keyed write that committed (a repeat replays it)."""
    if not idempotency.claimed():
        return response
    if response.headers.get("Idempotent-Replayed") == "true":
        idempotency.discard()
    else:
        idempotency.finish(response.status_code, response.get_data(as_text=True))
    return response


def _replay(stored: idempotency.StoredAnswer) -> Response:
    response = Response(stored.body, status=stored.status, mimetype="application/json")
    response.headers["Idempotent-Replayed"] = "true"
    return response
