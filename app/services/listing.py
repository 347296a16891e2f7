"""What the explorers (orders, the stock ledger, the audit log) share: reading filters people type
into a URL, and keyset pages ("the next 50 after this row") that cost the same on page 1 and
page 10,000 because they never count or skip rows.

Filters are read leniently and every problem is named: an unknown status, a date that is no date,
a range that ends before it starts, a page size out of bounds. The screens show those messages
and no rows; the API answers them as a 422 naming the parameter. Nothing here raises a 500.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l

from app.services import local_times

DEFAULT_SIZE = 50
MAX_SIZE = 200
EARLIEST = date(2000, 1, 1)
LATEST = date(2100, 12, 31)
MAX_TEXT = 200


@dataclass
class Problems:
    """{parameter: message} gathered while reading filters."""

    found: dict[str, str] = field(default_factory=dict)

    def add(self, name: str, message: Any) -> None:
        self.found.setdefault(name, str(message))

    def __bool__(self) -> bool:
        return bool(self.found)


def text(args: Mapping[str, str], name: str, problems: Problems, limit: int = MAX_TEXT) -> str:
    value = (args.get(name) or "").strip()
    if len(value) > limit:
        problems.add(name, _l("Use at most %(limit)s characters.", limit=limit))
        return ""
    if "\x00" in value:  # PostgreSQL refuses NUL in a query parameter: a 500 instead of "not found"
        problems.add(name, _l("Contains a NUL character."))
        return ""
    return value


def choice(args: Mapping[str, str], name: str, allowed: tuple[str, ...] | list[str], problems: Problems) -> str:
    value = (args.get(name) or "").strip()
    if value and value not in allowed:
        problems.add(name, _l("Unknown value “%(value)s”: choose one from the list.", value=value[:60]))
        return ""
    return value


def flag(args: Mapping[str, str], name: str) -> bool:
    return (args.get(name) or "").strip().lower() in ("1", "on", "true", "yes")


def day(args: Mapping[str, str], name: str, problems: Problems) -> date | None:
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = date.fromisoformat(raw[:10]) if len(raw) <= 10 else None
    except ValueError:
        value = None
    if value is None:
        problems.add(name, _l("Enter a date as YYYY-MM-DD, for example 2026-11-30."))
        return None
    if not EARLIEST <= value <= LATEST:
        problems.add(name, _l("Choose a date between 2000 and 2100."))
        return None
    return value


def date_range(args: Mapping[str, str], problems: Problems, start: str = "from",
               end: str = "to") -> tuple[date | None, date | None]:
    first, last = day(args, start, problems), day(args, end, problems)
    if first and last and first > last:
        problems.add(end, _l("The end date is before the start date: swap them."))
        return None, None
    return first, last


def utc_bounds(first: date | None, last: date | None) -> tuple[datetime | None, datetime | None]:
    """Local calendar days (the brand's time zone) as naive UTC [start, end) bounds."""
    zone = local_times.zone()

    def utc(d: date) -> datetime:
        local = datetime.combine(d, time.min, tzinfo=zone)
        return local.astimezone(UTC).replace(tzinfo=None)

    return (utc(first) if first else None), (utc(last + timedelta(days=1)) if last else None)


def page_size(args: Mapping[str, str], problems: Problems, default: int = DEFAULT_SIZE,
              name: str = "size") -> int:
    raw = (args.get(name) or "").strip()
    if not raw:
        return default
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw[:6]) <= MAX_SIZE or len(raw) > 6:
        problems.add(name, _l("Show 1 to %(max)s rows per page.", max=MAX_SIZE))
        return default
    return int(raw)


# ------------------------------------------------------------------------------------ keysets

def encode_cursor(values: list[Any]) -> str:
    """An opaque "after this row" marker for a URL."""
    plain = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    return base64.urlsafe_b64encode(json.dumps(plain, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(raw: str | None, kinds: tuple[type, ...], problems: Problems, name: str = "after") -> list[Any] | None:
    """The values of a cursor made by `encode_cursor` (datetimes and ints as `kinds` says), or
    None with a problem noted when the link was cut or edited."""
    if not raw:
        return None
    try:
        padded = raw + "=" * (-len(raw) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
        if not isinstance(values, list) or len(values) != len(kinds):
            raise ValueError
        out: list[Any] = []
        for value, kind in zip(values, kinds, strict=True):
            if kind is datetime:
                out.append(datetime.fromisoformat(value) if value is not None else None)
            elif kind is int:
                if not isinstance(value, int) or isinstance(value, bool):
                    raise ValueError
                out.append(value)
            else:
                out.append(value)
        return out
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError, json.JSONDecodeError):
        problems.add(name, _l("This page link is broken; start again from the first page."))
        return None


@dataclass
class KeysetPage:
    items: list[Any]
    next_cursor: str | None
    size: int
