"""Typed access to the key → JSON settings, with defaults and per-key validation."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from typing import Any

from flask_babel import gettext as _
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.extensions import db
from app.models.base import utcnow
from app.models.settings import Setting
from app.services import audit, order_filtering
from app.services.db import begin_write
from app.services.errors import ValidationFailed

log = logging.getLogger("packline.settings")


def _bool(value: Any) -> str | None:
    return None if isinstance(value, bool) else "Must be true or false."


def _positive_int(value: Any) -> str | None:
    return None if isinstance(value, int) and not isinstance(value, bool) and value > 0 else "Must be a whole number above 0."


MAX_INTERVAL_MINUTES = 10_080  # one week: a background job that runs less often than weekly is a mistake


def _minutes(too_many: str) -> Callable[[Any], str | None]:
    """A number of minutes from 1 to a week; `too_many` says what the setting does, in its own words
    (admin_settings.py marks each sentence for translation)."""

    def check(value: Any) -> str | None:
        problem = _positive_int(value)
        if problem:
            return problem
        return too_many if value > MAX_INTERVAL_MINUTES else None

    return check


REPLAN_TOO_MANY = "Re-plan out-of-stock packages every 1 to 10080 minutes (10080 minutes is one week)."
REQUISITION_TOO_MANY = "Propose what to order every 1 to 10080 minutes (10080 minutes is one week)."


def _order_filtering(value: Any) -> str | None:
    if not isinstance(value, dict):
        return 'Must be an object like {"accepted_statuses": ["approved"]}.'
    statuses = value.get("accepted_statuses")
    if statuses is not None and not (isinstance(statuses, list) and all(isinstance(s, str) for s in statuses)):
        return "accepted_statuses must be a list of status names."
    return None


def _time_zone(value: Any) -> str | None:
    from app.services.local_times import zone_problem

    return zone_problem(value)


def _language(value: Any) -> str | None:
    from app.i18n import language_problem

    return language_problem(value)


def _geolocation(value: Any) -> str | None:
    return None if value in ("offline", "none") else 'Must be "offline" or "none".'


# key: (default, validator, description)
KNOWN_SETTINGS: dict[str, tuple[Any, Callable[[Any], str | None], str]] = {
    "ORDER_FILTERING": ({"accepted_statuses": []}, _order_filtering,
                        "Source statuses that may be planned; an empty list accepts every status."),
    "GEOLOCATION_DISCOVERY": ("offline", _geolocation, "How addresses without coordinates are located."),
    "REPLAN_INTERVAL_MINUTES": (30, _minutes(REPLAN_TOO_MANY), "How often out-of-stock packages are re-planned."),
    "REQUISITION_INTERVAL_MINUTES": (60, _minutes(REQUISITION_TOO_MANY), "How often the requisition job proposes what to order."),
    "REQUIRE_SCAN_TO_PACK": (False, _bool, "Staff must scan every item before packing."),
    "IS_OTP_ENABLED": (False, _bool, "Click & collect handover needs the customer's one-time code."),
    "WEBHOOK_ALLOW_PRIVATE_URLS": (False, _bool, "Allow webhooks to private/loopback addresses (SSRF risk)."),
    "LANGUAGE": ("en", _language, 'Language of the screens for people who have not chosen one and whose browser '
                                  'asks for neither English nor Turkish ("en" or "tr").'),
    "TIME_ZONE": ("UTC", _time_zone, "Time zone of the times on screens, for locations without their own "
                                     '(an IANA name such as "Europe/Istanbul").'),
}


# A security setting whose stored value cannot be used (only possible by writing the settings
# table straight) falls to its safe side, not to its default: the handover still asks for the
# customer's code, webhooks still refuse private addresses (docs/decisions.md).
SAFE_WHEN_UNUSABLE: dict[str, Any] = {"IS_OTP_ENABLED": True, "WEBHOOK_ALLOW_PRIVATE_URLS": False}


def used_instead(key: str) -> Any:
    """The value used while a known setting's stored value fails its check."""
    return SAFE_WHEN_UNUSABLE.get(key, KNOWN_SETTINGS[key][0])


def _env_override(key: str) -> Any:
    raw = os.environ.get(key)
    if raw is None:
        return None
    if raw.strip().lower() in ("1", "true", "yes", "on"):
        return True
    if raw.strip().lower() in ("0", "false", "no", "off"):
        return False
    return None


def get_setting(key: str, default: Any = None) -> Any:
    """The stored value, else an environment override (booleans), else the default. Stored
    values come from the process's configuration snapshot (`config_cache`: checked against the
    database once per transaction)."""
    from app.services import config_cache

    config = config_cache.current()
    if config.has_setting(key):
        value = config.setting(key)
        if key not in KNOWN_SETTINGS or not KNOWN_SETTINGS[key][1](value):
            return value
        # A value stored before its key was checked this way (or written straight into the
        # table): the default does the job (a security setting's safe side), and the log says
        # so once per process and value.
        _note_bad_value(key, value)
        return used_instead(key)
    env = _env_override(key)
    if env is not None:
        return env
    if key in KNOWN_SETTINGS:
        return KNOWN_SETTINGS[key][0]
    return default


_NOTED: set[tuple[str, str]] = set()


def _note_bad_value(key: str, value: Any) -> None:
    shown = json.dumps(value)[:100]
    if (key, shown) not in _NOTED:
        _NOTED.add((key, shown))
        safe = " (the safe side)" if key in SAFE_WHEN_UNUSABLE else " (its default)"
        log.warning("setting %s has the unusable value %s; using %s%s until an admin fixes it",
                    key, shown, json.dumps(used_instead(key)), safe)


MAX_VALUE_CHARS = 10_000  # a setting is configuration, not a data store


def validate_setting(key: str, value: Any) -> None:
    if len(json.dumps(value)) > MAX_VALUE_CHARS:
        raise ValidationFailed(_("Invalid value for %(key)s.", key=key),
                               {"value": f"A setting's value is at most {MAX_VALUE_CHARS:,} characters of JSON."})
    if key in KNOWN_SETTINGS:
        problem = KNOWN_SETTINGS[key][1](value)
        if problem:
            raise ValidationFailed(_("Invalid value for %(key)s.", key=key), {"value": problem})
    if key == "ORDER_FILTERING" and (problem := order_filtering.unknown_keys_problem(value)):
        raise ValidationFailed(_("Invalid value for %(key)s.", key=key), {"value": problem})  # checked when saved only


def put_setting(key: str, value: Any) -> None:
    """Validate and store a setting. Commits."""
    if not key or len(key) > 100:
        raise ValidationFailed("Invalid setting key.", {"key": "Use 1 to 100 characters."})
    validate_setting(key, value)
    begin_write()
    try:
        # One upsert: two admins saving a key nobody set yet must not both INSERT (the second
        # would fail on the primary key on PostgreSQL, where rows are not locked before they exist).
        dialect = db.session.get_bind().dialect.name
        insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
        existed, before = audit.setting_before(db.session(), key)
        statement = insert(Setting).values(key=key, value=value)
        db.session.execute(statement.on_conflict_do_update(index_elements=[Setting.key],
                                                           set_={"value": statement.excluded.value,
                                                                 "updated_at": utcnow()}))
        audit.record_setting(db.session(), key, before, value, existed)  # the flush hook cannot see an upsert
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise

