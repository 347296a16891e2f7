"""JSON typed or sent by people and programs, read strictly: Python's json module accepts NaN and
Infinity (and turns 1e999 into infinity), which JSON has no place for — PostgreSQL refuses them
in a JSON column and no client can read them back. The API's bodies and the admin's JSON fields
(settings, cargo company and channel configurations, pasted orders) read through `loads`."""

from __future__ import annotations

import json
from typing import Any

from flask_babel import gettext as _


class NotStandardJson(ValueError):
    """NaN, Infinity or a number too large for a float. `str()` is the API's English sentence;
    `value` is what was written, `too_large` whether it is a number (for `problem`)."""

    def __init__(self, message: str, value: str, too_large: bool = False):
        super().__init__(message)
        self.value, self.too_large = value, too_large


def _refuse_constant(name: str) -> Any:
    raise NotStandardJson(f"The body contains {name}, which JSON does not allow; send a number or null.", name)


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise NotStandardJson(f"The number {text[:40]} is too large; send a smaller number.", text[:40], too_large=True)
    return value


def loads(text: str | bytes) -> Any:
    """`json.loads` that refuses NaN, Infinity and numbers beyond a float (NotStandardJson, a
    ValueError); other mistakes raise json's own JSONDecodeError."""
    return json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float)


def problem(exc: ValueError) -> str:
    """What is wrong with typed JSON, in words for a form in the page's language: where the mistake
    is, or which value JSON does not allow (json's own English, "Expecting ',' delimiter", is not
    said: no reader of another language could use it)."""
    if isinstance(exc, json.JSONDecodeError):
        return _('This is not valid JSON: look near line %(line)s, column %(column)s, and check the quotes and '
                 'brackets.', line=exc.lineno, column=exc.colno)
    if isinstance(exc, NotStandardJson) and exc.too_large:
        return _('The number %(number)s is too large; use a smaller number.', number=exc.value)
    if isinstance(exc, NotStandardJson):
        return _('It contains %(value)s, which JSON does not allow; use a number or null.', value=exc.value)
    return _('This is not valid JSON.')
