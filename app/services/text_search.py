"""Search and sort text the way Turkish staff type it (SPEC §15), the same on SQLite and PostgreSQL.

`fold` turns text into its search form: İ, I, ı and i all become "i", and ş ğ ç ö ü (â î û) lose
their marks, then ASCII is lower-cased. So "istanbul" finds "İSTANBUL", "ILIK" finds "ılık", and
"sisli" (typed on a keyboard without Turkish letters) finds "Şişli". The database side does the
very same with nested `replace()` calls and `lower()` (`folded(column)`): both databases have
those, and after the replacements only ASCII letters are left for `lower()` to change, which
SQLite's built-in `lower()` (ASCII only) and PostgreSQL's (locale-aware) do alike. Locale-aware
`lower()`/`ILIKE` alone would not do: SQLite leaves "İ" and "Ş" as they are, and PostgreSQL
lowers "I" to "i", never to "ı". (docs/decisions.md, "Turkish-aware search".)

Searches with a leading wildcard scan anyway, so folding in the query costs no index.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from sqlalchemy import func
from sqlalchemy.sql.elements import ColumnElement

# Every letter that search treats as another: both cases, so the database needs no Unicode lower().
FOLDS: dict[str, str] = {
    "İ": "i", "ı": "i", "Î": "i", "î": "i",
    "Ş": "s", "ş": "s",
    "Ğ": "g", "ğ": "g",
    "Ç": "c", "ç": "c",
    "Ö": "o", "ö": "o",
    "Ü": "u", "ü": "u", "Û": "u", "û": "u",
    "Â": "a", "â": "a",
}
_TABLE = str.maketrans({**FOLDS, "\u0307": ""})  # "İ".lower() in Python is "i" + a combining dot

# The Turkish alphabet (with q, w and x, which names and codes use), the order of sorted names.
ALPHABET = "abcçdefgğhıijklmnoöpqrsştuüvwxyz"
_ORDER = {letter: index for index, letter in enumerate(ALPHABET)}
_TURKISH_LOWER = {"I": "ı", "İ": "i"}
COLLATION = "turkish"  # migration 0020 on PostgreSQL, `register_collation` on SQLite

def fold(text: str | None) -> str:
    """The search form of `text` (see the module's docstring)."""
    if not text:
        return ""
    folded = text.translate(_TABLE)
    return "".join(ch.lower() if ch.isascii() else ch for ch in folded)


def folded(column: ColumnElement) -> ColumnElement:
    """`fold` in SQL, for SQLite and PostgreSQL alike."""
    expression = column
    for letter, plain in FOLDS.items():
        expression = func.replace(expression, letter, plain)
    return func.lower(expression)


def escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def contains(column: ColumnElement, term: str) -> ColumnElement:
    """`column` holds `term` anywhere, Turkish-aware and case-insensitive."""
    return folded(column).like(f"%{escape_like(fold(term.strip()))}%", escape="\\")


def starts_with(column: ColumnElement, term: str) -> ColumnElement:
    """`column` starts with `term`, Turkish-aware and case-insensitive (numbers, codes)."""
    return folded(column).like(f"{escape_like(fold(term.strip()))}%", escape="\\")


def equals(column: ColumnElement, term: str) -> ColumnElement:
    """`column` is `term`, Turkish-aware and case-insensitive (a code typed by hand)."""
    return folded(column) == fold(term.strip())


def _letter_weights(ch: str) -> tuple[tuple, int, int]:
    """(primary, secondary, tertiary) of one character, as ICU's Turkish collation weighs them."""
    lower = _TURKISH_LOWER.get(ch) or ch.lower()
    case = 1 if lower != ch else 0  # lower case first, as ICU
    if len(lower) != 1:
        lower = lower[0]
    if lower in _ORDER:
        return (4, _ORDER[lower]), 0, case
    base, *marks = unicodedata.normalize("NFD", lower)
    accent = sum(ord(m) for m in marks)  # â, î, û, é: the letter itself, told apart after the letters
    if base in _ORDER:
        return (4, _ORDER[base]), accent, case
    category = unicodedata.category(ch)
    if ch.isspace():
        return (0, 0), 0, 0
    if category.startswith("P"):
        return (1, ord(ch)), 0, 0
    if category.startswith("N") and ch.isdigit():
        return (3, unicodedata.digit(ch, 0)), 0, 0
    if ch.isalpha():
        return (5, ord(base)), accent, case  # letters Turkish does not have: after z
    return (2, ord(ch)), 0, 0  # symbols


@lru_cache(maxsize=65536)
def sort_key(text: str | None) -> tuple:
    """Turkish alphabetical order, the same as PostgreSQL's ICU Turkish collation: letters first
    ("Cem" < "Çiğdem", "ılgın" < "Işık" < "İpek"), then marks (a < â), then case (lower first).
    Spaces come before signs, signs before digits, digits before letters."""
    if not text:
        return ((), (), ())
    weights = [_letter_weights(ch) for ch in text if not unicodedata.combining(ch)]
    return (tuple(w[0] for w in weights), tuple(w[1] for w in weights), tuple(w[2] for w in weights))


def compare(a: str | None, b: str | None) -> int:
    """The SQLite collation function: -1, 0 or 1."""
    ka, kb = sort_key(a), sort_key(b)
    return (ka > kb) - (ka < kb)


def register_collation(dbapi_connection) -> None:
    """`COLLATE turkish` on a SQLite connection (PostgreSQL has it from migration 0020)."""
    dbapi_connection.create_collation(COLLATION, compare)


def turkish_order(column: ColumnElement) -> ColumnElement:
    """`column` sorted in Turkish alphabetical order, on SQLite and PostgreSQL alike."""
    return column.collate(COLLATION)
