"""One way to read page arguments and to page a query, for the API and the screens alike."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from flask_babel import gettext as _
from sqlalchemy import Select, func, select

from app.extensions import db
from app.services.errors import ValidationFailed

T = TypeVar("T")

# Far beyond any real list, and small enough that its offset fits every database's integer.
MAX_PAGE = 1_000_000


@dataclass(frozen=True)
class PageArgs:
    """Which page of a list to show: `page` from 1, `size` rows per page."""

    page: int = 1
    size: int = 50

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size

    @classmethod
    def lenient(cls, args: Mapping[str, str], size: int) -> PageArgs:
        """For screens: `?page=` as typed in a link; anything unusable (not a number, below 1,
        absurdly large) is the first page rather than an error."""
        raw = args.get("page") or ""
        page = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 9 else 1
        return cls(page=page if 1 <= page <= MAX_PAGE else 1, size=size)

    @classmethod
    def strict(cls, args: Mapping[str, str], default_size: int, max_size: int) -> PageArgs:
        """For the API: `?page=&page_size=`; a bad value is a 422 naming the parameter."""
        return cls(page=_whole_number(args, "page", 1, MAX_PAGE),
                   size=_whole_number(args, "page_size", default_size, max_size))


def _whole_number(args: Mapping[str, str], name: str, default: int, maximum: int) -> int:
    raw = args.get(name)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()) or not raw.strip("0"):  # not digits, or 0
        raise ValidationFailed(_('%(name)s must be a whole number of at least 1.', name=name), {name: _('Must be a whole number >= 1.')})
    # More digits than the maximum has is above it (and past ~4300 digits int() refuses: a 500).
    value = int(raw) if len(raw.lstrip("0")) <= len(str(maximum)) else maximum + 1
    if value > maximum:
        raise ValidationFailed(_('%(name)s may be at most %(maximum)s.', name=name, maximum=maximum), {name: _('Must be at most %(maximum)s.', maximum=maximum)})
    return value


@dataclass
class Page(Generic[T]):
    """One page of rows and where it sits in the whole list (the names templates use)."""

    items: list[T]
    total: int
    page: int
    size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page * self.size < self.total

    @property
    def prev_num(self) -> int | None:
        return self.page - 1 if self.has_prev else None

    @property
    def next_num(self) -> int | None:
        return self.page + 1 if self.has_next else None


def paginate(stmt: Select, args: PageArgs) -> Page:
    """One page of an ordered `select()` of ORM rows, with the total count of the whole list."""
    total = db.session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0
    items = list(db.session.execute(stmt.limit(args.size).offset(args.offset)).unique().scalars())
    return Page(items=items, total=total, page=args.page, size=args.size)
