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

# The Turkish alphabet's order for sorting names people read (a list sorted in Python).
ALPHABET = "aâbcçdefgğhıiîjklmnoöprsştuûüvyz"
_ORDER = {letter: index for index, letter in enumerate(ALPHABET)}


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


def sort_key(text: str | None) -> tuple:
    """Turkish alphabetical order, case-insensitive: "Çiçek" after "Cem", "Işık" before "İpek"."""
    if not text:
        return ()
    lowered = text.replace("I", "ı").replace("İ", "i").lower()
    # Spaces, digits and signs first, then the alphabet, then letters Turkish does not have.
    return tuple((1, _ORDER[ch]) if ch in _ORDER else (2, ord(ch)) if ch.isalpha() else (0, ord(ch))
                 for ch in lowered)
