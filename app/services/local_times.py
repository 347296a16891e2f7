"""Times as people at a location read them.

The database keeps naive UTC datetimes. Screens show them in a zone: a location's own
`time_zone` (an IANA name such as "Europe/Istanbul"), else the brand's `TIME_ZONE` setting
(default "UTC"). `show_time` is the one place that turns a datetime into text on a screen;
templates reach it through the `when` macro (admin/_macros.html) and the `local_time` global.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from babel import Locale
from babel.dates import format_date, format_time
from flask import g, has_request_context
from flask_babel import get_locale
from flask_babel import gettext as _
from markupsafe import Markup, escape

DEFAULT_TIME_ZONE = "UTC"


def zone_problem(name: object) -> str | None:
    """None when `name` is a time zone this server knows, else what to type instead."""
    if not isinstance(name, str) or not name.strip():
        return _('Enter a time zone name such as "Europe/Istanbul" or "UTC", or leave it empty for the brand\'s.')
    if not _known(name):
        return _('“%(name)s” is not a time zone we know. Enter a time zone name such as "Europe/Istanbul" or "UTC".',
                 name=name[:64])
    return None


@cache
def _zone_names() -> frozenset[str]:
    return frozenset(name for name in available_timezones() if _loads(name))


def _loads(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return True


def zone_names() -> list[str]:
    """Every zone name a location or the brand may use, sorted (the API's OpenAPI enum)."""
    return sorted(_zone_names())


def _known(name: str) -> bool:
    """Only the IANA names (no paths, no files such as "zone.tab" that ZoneInfo would try)."""
    return name in _zone_names()


def brand_zone_name() -> str:
    """The brand's TIME_ZONE setting, read once per request."""
    if has_request_context() and "packline_time_zone" in g:
        return g.packline_time_zone
    from app.services.settings import get_setting

    name = get_setting("TIME_ZONE")
    if not isinstance(name, str) or zone_problem(name):
        name = DEFAULT_TIME_ZONE
    if has_request_context():
        g.packline_time_zone = name
    return name


def zone_name(location: object | None = None) -> str:
    """The location's zone, else the brand's."""
    own = getattr(location, "time_zone", None)
    if own and not zone_problem(own):
        return own
    return brand_zone_name()


def zone(location: object | None = None) -> tzinfo:
    return ZoneInfo(zone_name(location))


def local(value: datetime, location: object | None = None) -> datetime:
    """A naive UTC datetime (or an aware one) in the location's zone."""
    aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value
    return aware.astimezone(zone(location))


def _locale() -> Locale:
    """The request's language (app/i18n.py chooses it); English outside one."""
    return get_locale() or Locale.parse("en")


def time_text(value: datetime, location: object | None = None, *, seconds: bool = False) -> str:
    """"6 Dec 2026, 22:30 +03" (English) / "6 Ara 2026, 22:30 +03" (Turkish): day, 24-hour time
    and the zone's short name, in the request's language."""
    moment = local(value, location)
    locale = _locale()
    day = format_date(moment.date(), "d MMM y", locale=locale)
    clock = format_time(moment.time(), "HH:mm:ss" if seconds else "HH:mm", locale=locale)
    return f"{day}, {clock} {moment.tzname()}"


def date_text(value: date | datetime, location: object | None = None) -> str:
    """A calendar day in the request's language ("6 Dec 2026" / "6 Ara 2026"); a datetime is read
    in the location's zone first."""
    if isinstance(value, datetime):
        value = local(value, location).date()
    return format_date(value, "d MMM y", locale=_locale())


def show_date(value: date | datetime | None, location: object | None = None) -> str:
    return "" if value is None else date_text(value, location)


def show_time(value: datetime | None, location: object | None = None, *, seconds: bool = False) -> Markup:
    """`<time datetime="…Z">6 Dec 2026, 22:30 +03</time>`; empty for None."""
    if value is None:
        return Markup("")
    aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value
    utc = aware.astimezone(UTC).replace(tzinfo=None)
    return Markup('<time datetime="{}Z">{}</time>').format(
        utc.isoformat(timespec="seconds"), escape(time_text(value, location, seconds=seconds)))


def show_planned(value: datetime | None, location: object | None = None) -> Markup:
    """A planned day — a purchase order's expected or supplier-confirmed date, a shipment's ETA.
    Typed as a date it is stored as midnight UTC and shown as that day only (`<time
    datetime="2026-12-20">20 Dec 2026</time>` / "20 Ara 2026"), never as "03:00 +03"; one given
    with a time of day (over the API) is shown as a time in the location's zone (`show_time`)."""
    if value is None:
        return Markup("")
    aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value
    utc = aware.astimezone(UTC)
    if (utc.hour, utc.minute, utc.second, utc.microsecond) != (0, 0, 0, 0):
        return show_time(value, location)
    day = utc.date()
    return Markup('<time datetime="{}">{}</time>').format(day.isoformat(), escape(date_text(day)))
