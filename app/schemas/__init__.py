"""Pydantic models that validate command and API input; the OpenAPI document is generated from them."""

from __future__ import annotations

import json
from contextvars import ContextVar
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from app.services.errors import ValidationFailed

M = TypeVar("M", bound=BaseModel)

# JSON from the API is validated in pydantic's strict JSON mode: `true` is not 1, "2" is not 2, but
# ISO date strings and decimal strings stay valid. People's input (admin forms, CSV imports, store
# screens) arrives as text and is converted (lax mode). The API blueprint turns this on per request.
_STRICT_JSON: ContextVar[bool] = ContextVar("packline_strict_json", default=False)


def strict_json_input(on: bool = True) -> None:
    _STRICT_JSON.set(on)


def validated_input(model: type[M], data: Any) -> M:
    """`data` validated by `model`: strict JSON types for API input, lax for people's input."""
    if _STRICT_JSON.get():
        return model.model_validate_json(json.dumps(data), strict=True)
    return model.model_validate(data)


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
        return validated_input(model, data)
    except ValidationError as exc:
        raise ValidationFailed(message, error_details(exc)) from None
