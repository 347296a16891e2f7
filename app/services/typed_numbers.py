"""Decimal numbers as people type them into a form, in their page's language, and back.

A Turkish page writes "0,5" and "1.234,5", an English one "0.5" and "1,234.5": `read_decimal`
reads a number the way the page's locale writes it (Babel's `parse_decimal`, strict, so "1.2.3"
or "12,5kg" is refused rather than guessed at). A number that the locale cannot read but that has
one separator between digits and no thousands in it ("0.5" typed on a Turkish page, "2,50" on an
English one) is a decimal: the separator cannot be a thousands separator there, so nothing is
guessed. A lone thousands group with nothing after it ("1.234" on a Turkish page, "1,234" on an
English one) is refused as `AmbiguousNumber`: it is how the page's language writes one thousand two
hundred and thirty-four, and also how the other language writes one and a bit, and a weight or a
price read 1,000 times too big is worse than a second try. "1.234,5" and "12.345.678" are read.

`show_decimal` is the other way: a stored value in the page's format for an input box (no
thousands separators, trailing zeros dropped unless `places` asks for them), so that what the box
shows reads back as the same number.
"""

from __future__ import annotations

import re
from decimal import Decimal, localcontext

from babel.numbers import NumberFormatError, format_decimal, get_decimal_symbol, get_group_symbol, parse_decimal
from flask_babel import get_locale

# Only ASCII digits, a sign and the two separators: Babel also reads "٣" or full-width digits,
# exponents ("1e3") and "NaN", none of which a person types for a weight or a price.
_TYPED = re.compile(r"[+-]?(?=[0-9.,]*[0-9])[0-9.,]+")
_ONE_SEPARATOR = re.compile(r"[+-]?[0-9]+[.,][0-9]+")
MAX_LENGTH = 40


def _locale() -> str:
    locale = get_locale()
    return str(locale) if locale is not None else "en"


class AmbiguousNumber(ValueError):
    """A number that reads both as thousands and as a decimal ("1.234" on a Turkish page)."""

    def __init__(self, typed: str, whole: str, decimal: str):
        super().__init__(typed)
        self.typed, self.whole, self.decimal = typed, whole, decimal


def read_decimal(raw: str) -> Decimal:
    """`raw` as typed on the current page (its language's decimal sign), or ValueError
    (AmbiguousNumber for a lone thousands group, see above)."""
    text = (raw or "").strip()
    if not text or len(text) > MAX_LENGTH or not _TYPED.fullmatch(text):
        raise ValueError(raw)
    locale = _locale()
    group, point = get_group_symbol(locale), get_decimal_symbol(locale)
    if re.fullmatch(r"[+-]?[0-9]{1,3}" + re.escape(group) + r"[0-9]{3}", text):
        raise AmbiguousNumber(text, text.replace(group, ""), text.replace(group, point))
    try:
        value = parse_decimal(text, locale=locale, strict=True)
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
    value = Decimal(value)
    pattern = "0." + "0" * places + "#" * 12
    # Babel rounds in the current decimal context (28 digits): a number typed with 20 whole digits
    # and shown with its decimals needs more, or formatting it raises InvalidOperation.
    with localcontext() as context:
        context.prec = max(context.prec, max(value.adjusted(), 0) + 1 + places + 12)
        return format_decimal(value, format=pattern, locale=_locale(), decimal_quantization=False)
