"""Who is calling (set by token authentication) and the role checks views make."""

from __future__ import annotations

from flask import g
from flask_babel import gettext as _

from app.services.actors import Actor
from app.services.errors import Forbidden


def actor() -> Actor:
    return g.actor


def require_manager() -> None:
    if not g.actor.is_manager:
        raise Forbidden(_('Only supervisors and admins may do this.'))


def require_admin() -> None:
    if g.actor.role != "admin":
        raise Forbidden(_('Only admins may do this.'))
