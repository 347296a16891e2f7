"""Click & collect pickup codes cannot be guessed: wrong codes are counted per package and per
person, and after a few the handover is refused for a while (HTTP 429), with a log line each time.

The code is compared before the handover command runs (`verify`, called by
`run_package_command`), in a short transaction of its own that holds the package's row lock and
a lock on the person: the count, the comparison and the wrong code's row commit together, so
guesses sent all at once are counted one after another and no more than the limits are ever
compared. A wrong code commits only its failure; the command then never runs.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from app.extensions import db
from app.models import Package, PickupCodeFailure
from app.models.base import utcnow
from app.services.actors import Actor
from app.services.db import begin_write, lock_names
from app.services.errors import TooManyAttempts, ValidationFailed
from app.services.settings import get_setting

log = logging.getLogger("packline.security")

WINDOW = timedelta(minutes=15)
PER_PACKAGE = 5  # wrong codes for one package within WINDOW, then it is locked
PER_PERSON = 15  # wrong codes by one person (any package) within WINDOW, then they are


NO_CODE = _l("This package has no pickup code: it was put on the pickup shelf before pickup codes were switched "
             "on, so the customer was sent none. Leave the code empty, check the customer's name against the "
             "order and hand it over.")


class WrongPickupCode(ValidationFailed):
    """The code given at the counter is not the package's."""


def verify(package_id: int, actor: Actor, params: Any, states: Iterable[str]) -> None:
    """Compare the pickup code of a handover before its command runs. Commits a wrong code.

    Raises TooManyAttempts while the package or the person is locked, WrongPickupCode (after
    recording it) when the code does not match. Returns when it matches, and when there is
    nothing to compare: codes are off, the package is not one this actor sees, is not waiting
    in `states` or has no code, or `otp` is not text (the command then answers as usual).
    """
    given = params.get("otp") if isinstance(params, dict) else None
    if (given is not None and not isinstance(given, str)) or not get_setting("IS_OTP_ENABLED", False):
        return
    begin_write()
    try:
        package = db.session.execute(select(Package.otp_code, Package.location_id, Package.state)
                                     .where(Package.id == package_id).with_for_update()).first()
        if (package is None or not actor.can_see(package.location_id) or package.state not in states
                or not package.otp_code):
            db.session.rollback()
            return
        lock_names(f"pickup-codes:{actor.label}")  # the person's count, across packages
        try:
            check(package_id, actor.label, package.otp_code, given)
        except WrongPickupCode:
            db.session.add(PickupCodeFailure(package_id=package_id, actor=actor.label[:200]))
            db.session.flush()
            count = _recent_failures(PickupCodeFailure.package_id == package_id)
            db.session.commit()
            log.warning("wrong pickup code for package %s by %s (%s in 15 minutes%s)", package_id, actor.label,
                        count, "; the package is now locked" if count >= PER_PACKAGE else "")
            raise
        db.session.rollback()  # nothing to record: the command's own transaction does the rest
    except BaseException:
        db.session.rollback()
        raise


def check(package_id: int, actor_label: str, expected: str, given: str | None) -> None:
    """Raise TooManyAttempts while the package or the person is locked, WrongPickupCode when the
    code does not match; return when it does. Records nothing: `verify` does, before the command;
    inside the command this catches a code that changed since."""
    if _recent_failures(PickupCodeFailure.package_id == package_id) >= PER_PACKAGE:
        raise TooManyAttempts(_("Too many wrong pickup codes for this package. Ask the customer to show the code "
                                "from their message, or try again in 15 minutes."), {"otp": _("Locked for 15 minutes.")})
    if _recent_failures(PickupCodeFailure.actor == actor_label[:200]) >= PER_PERSON:
        raise TooManyAttempts(_("You entered too many wrong pickup codes. Wait 15 minutes or ask a supervisor."),
                              {"otp": _("Locked for 15 minutes.")})
    given = (given or "").strip()
    if not given or not hmac.compare_digest(given.encode(), expected.encode()):
        # The form shows the field's words next to the code and the message at the top: not the same twice.
        raise WrongPickupCode(_("The pickup code is not correct: the package was not handed over."),
                              {"otp": _("Not this package's code. Ask the customer to show the code from their "
                                        "message.")})


def refuse_code_for_codeless() -> None:
    """A code typed for a package that has none (put on the pickup shelf while codes were off) is
    refused: it cannot be compared with anything, and handing over on it would let any code work."""
    raise ValidationFailed(str(NO_CODE), {"otp": str(NO_CODE)}, code="no_pickup_code")


def _recent_failures(which) -> int:
    since = utcnow() - WINDOW
    return db.session.scalar(select(func.count(PickupCodeFailure.id))
                             .where(which, PickupCodeFailure.created_at >= since)) or 0
