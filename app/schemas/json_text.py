"""JSON typed or sent by people and programs, read strictly: Python's json module accepts NaN and
Infinity (and turns 1e999 into infinity), which JSON has no place for — PostgreSQL refuses them
in a JSON column and no client can read them back. The API's bodies and the admin's JSON fields
(settings, cargo company and channel configurations, pasted orders) read through `loads`."""

from __future__ import annotations

import json
from typing import Any


class NotStandardJson(ValueError):
    """NaN, Infinity or a number too large for a float."""


def _refuse_constant(name: str) -> Any:
    raise NotStandardJson(f"The body contains {name}, which JSON does not allow; send a number or null.")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise NotStandardJson(f"The number {text[:40]} is too large; send a smaller number.")
    return value


def loads(text: str | bytes) -> Any:
    """`json.loads` that refuses NaN, Infinity and numbers beyond a float (NotStandardJson, a
    ValueError); other mistakes raise json's own JSONDecodeError."""
    return json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)


def problem(exc: ValueError) -> str:
    """What is wrong with typed JSON, in words for a form: where the mistake is, or which value
    JSON does not allow."""
    if isinstance(exc, json.JSONDecodeError):
        return f"This is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno}). Check the quotes and brackets."
    if isinstance(exc, NotStandardJson):
        return str(exc).replace("The body contains", "It contains").replace("; send", "; use")
    return "This is not valid JSON."
