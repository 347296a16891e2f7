"""Decimal numbers as people type them into a form, in their page's language, and back.

A Turkish page writes "0,5" and "1.234,5", an English one "0.5" and "1,234.5": `read_decimal`
reads a number the way the page's locale writes it (Babel's `parse_decimal`, strict, so "1.2.3"
or "12,5kg" is refused rather than guessed at). A number that the locale cannot read but that has
one separator between digits and no thousands in it ("0.5" typed on a Turkish page, "2,50" on an
English one) is a decimal: the separator cannot be a thousands separator there, so nothing is
guessed. "1.234" on a Turkish page stays one thousand two hundred and thirty-four, as Turkish
writes it.

`show_decimal` is the other way: a stored value in the page's format for an input box (no
thousands separators, trailing zeros dropped unless `places` asks for them), so that what the box
shows reads back as the same number.
"""

from __future__ import annotations

import re
from decimal import Decimal

from babel.numbers import NumberFormatError, format_decimal, parse_decimal
from flask_babel import get_locale

# Only ASCII digits, a sign and the two separators: Babel also reads "٣" or full-width digits,
# exponents ("1e3") and "NaN", none of which a person types for a weight or a price.
_TYPED = re.compile(r"[+-]?(?=[0-9.,]*[0-9])[0-9.,]+")
_ONE_SEPARATOR = re.compile(r"[+-]?[0-9]+[.,][0-9]+")
MAX_LENGTH = 40


def _locale() -> str:
    locale = get_locale()
    return str(locale) if locale is not None else "en"


def read_decimal(raw: str) -> Decimal:
    """`raw` as typed on the current page (its language's decimal sign), or ValueError."""
    text = (raw or "").strip()
    if not text or len(text) > MAX_LENGTH or not _TYPED.fullmatch(text):
        raise ValueError(raw)
    try:
        value = parse_decimal(text, locale=_locale(), strict=True)
    except NumberFormatError:
        if not _ONE_SEPARATOR.fullmatch(text):
            raise ValueError(raw) from None
        value = Decimal(text.replace(",", "."))
    if not value.is_finite():
        raise ValueError(raw)
    return value


def show_decimal(value: Decimal | float | int | None, places: int = 0) -> str:
    """`value` for an input box on the current page: Decimal("0.500") → "0,5" (tr) / "0.5" (en);
    `places` keeps that many decimals (a price: "2,50")."""
    if value is None:
        return ""
    if isinstance(value, float):
        value = Decimal(repr(value))
    pattern = "0." + "0" * places + "#" * 12
    return format_decimal(value, format=pattern, locale=_locale(), decimal_quantization=False)
