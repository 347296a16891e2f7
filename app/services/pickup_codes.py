"""Click & collect pickup codes cannot be guessed: wrong codes are counted per package and per
person, and after a few the handover is refused for a while (HTTP 429), with a log line each time.

A wrong code rolls its command back, so the failure is written afterwards in its own short
transaction (`record_failure`, called by `run_package_command`).
"""

from __future__ import annotations

import hmac
import logging
from datetime import timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.models import PickupCodeFailure
from app.models.base import utcnow
from app.services.db import begin_write
from app.services.errors import TooManyAttempts, ValidationFailed

log = logging.getLogger("packline.security")

WINDOW = timedelta(minutes=15)
PER_PACKAGE = 5  # wrong codes for one package within WINDOW, then it is locked
PER_PERSON = 15  # wrong codes by one person (any package) within WINDOW, then they are


class WrongPickupCode(ValidationFailed):
    """The code given at the counter is not the package's."""


def check(package_id: int, actor_label: str, expected: str, given: str | None) -> None:
    """Raise TooManyAttempts while the package or the person is locked, WrongPickupCode when the
    code does not match; return when it does."""
    since = utcnow() - WINDOW
    recent = select(func.count(PickupCodeFailure.id)).where(PickupCodeFailure.created_at >= since)
    if (db.session.scalar(recent.where(PickupCodeFailure.package_id == package_id)) or 0) >= PER_PACKAGE:
        raise TooManyAttempts("Too many wrong pickup codes for this package. Ask the customer to show the code "
                              "from their message, or try again in 15 minutes.", {"otp": "Locked for 15 minutes."})
    if (db.session.scalar(recent.where(PickupCodeFailure.actor == actor_label)) or 0) >= PER_PERSON:
        raise TooManyAttempts("You entered too many wrong pickup codes. Wait 15 minutes or ask a supervisor.",
                              {"otp": "Locked for 15 minutes."})
    given = (given or "").strip()
    if not given or not hmac.compare_digest(given.encode(), expected.encode()):
        raise WrongPickupCode("The pickup code is not correct.", {"otp": "The pickup code is not correct."})


def record_failure(package_id: int, actor_label: str) -> None:
    """Count one wrong code (own transaction: the command that saw it was rolled back)."""
    begin_write()
    try:
        db.session.add(PickupCodeFailure(package_id=package_id, actor=actor_label[:200]))
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    since = utcnow() - WINDOW
    count = db.session.scalar(select(func.count(PickupCodeFailure.id)).where(
        PickupCodeFailure.package_id == package_id, PickupCodeFailure.created_at >= since)) or 0
    db.session.rollback()
    log.warning("wrong pickup code for package %s by %s (%s in 15 minutes%s)", package_id, actor_label, count,
                "; the package is now locked" if count >= PER_PACKAGE else "")
