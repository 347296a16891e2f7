"""Errors the service layer raises; views turn them into JSON (API) or messages (screens)."""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, details: dict[str, Any] | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.details = details or {}
        if code:
            self.code = code


class NotFound(ServiceError):
    status = 404
    code = "not_found"


class Forbidden(ServiceError):
    status = 403
    code = "forbidden"


class Conflict(ServiceError):
    """State conflict or duplicate (HTTP 409)."""

    status = 409
    code = "conflict"


class ValidationFailed(ServiceError):
    """Input that is well-formed but wrong; `details` maps field paths to messages (HTTP 422)."""

    status = 422
    code = "validation_failed"


class TooManyAttempts(ServiceError):
    """Guessing is being slowed down (HTTP 429); the message says how long to wait."""

    status = 429
    code = "too_many_attempts"
