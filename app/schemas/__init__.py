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


def is_strict_json_input() -> bool:
    return _STRICT_JSON.get()


def validated_input(model: type[M], data: Any) -> M:
    """`data` validated by `model`: strict JSON types for API input, lax for people's input."""
    if _STRICT_JSON.get():
        return model.model_validate_json(json.dumps(_whole_numbers(data)), strict=True)
    return model.model_validate(data)


# Beyond 2**53 a float no longer stands for one whole number.
_EXACT = 2**53


def _whole_numbers(data: Any) -> Any:
    """JSON has one number type: `2.0` is the integer 2 (as JSON Schema and the OpenAPI document
    say), while `2.5`, `true` and `"2"` are still not integers. Rewrites `data` in place, without
    recursion (a body may be nested as deep as the JSON parser allows)."""
    if isinstance(data, float):
        return _whole(data)
    stack = [data]
    while stack:
        container = stack.pop()
        entries = container.items() if isinstance(container, dict) else \
            enumerate(container) if isinstance(container, list) else ()
        for key, value in list(entries):
            if isinstance(value, float):
                container[key] = _whole(value)
            elif isinstance(value, dict | list):
                stack.append(value)
    return data


def _whole(value: float) -> float | int:
    return int(value) if value.is_integer() and abs(value) <= _EXACT else value


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
