"""Pydantic models that validate command and API input; the OpenAPI document is generated from them."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from app.services.errors import ValidationFailed

M = TypeVar("M", bound=BaseModel)


def error_details(exc: ValidationError) -> dict[str, str]:
    """Pydantic errors as {"items.0.quantity": "message"} (the 422 `details` shape)."""
    details: dict[str, str] = {}
    for err in exc.errors():
        path = ".".join(str(part) for part in err["loc"]) or "__root__"
        message = err["msg"]
        if message.startswith("Value error, "):
            message = message[len("Value error, "):]
        details.setdefault(path, message)
    return details


def parse(model: type[M], data: Any, message: str = "The request is not valid.") -> M:
    """Validate `data` with `model` or raise ValidationFailed with per-field details."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ValidationFailed(message, {"__root__": "Send a JSON object."})
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed(message, error_details(exc)) from None
