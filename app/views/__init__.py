"""Blueprints, one per audience and domain."""

from __future__ import annotations

from flask import Flask, abort, request
from flask_babel import gettext as _

from app.i18n import format_number

MAX_INT = 2_147_483_647  # PostgreSQL's integer: ids beyond it exist nowhere


def whole_number(raw: str, max_digits: int = 9) -> int | None:
    """A whole number typed in a form (0 or more, ASCII digits, at most `max_digits` of them), or
    None. `str.isdigit()` alone lets "²" or thousands of digits through to `int()`, which raises
    (Python refuses over 4,300 digits): a 500 where the person should read "enter a number"."""
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= max_digits else None


def whole_number_refused(max_digits: int = 9) -> str:
    """What to say when `whole_number(raw, max_digits)` refused what was typed: the range it takes."""
    return _("Enter a whole number from %(min)s to %(max)s.", min=format_number(0),
             max=format_number(10**max_digits - 1))


def number_or_text(raw: str) -> int | str:
    """`raw` as a whole number when it is one a service could hold, else the text as typed, for the
    service's validation to refuse with its own message (a huge number: "at most ...")."""
    value = whole_number(raw)
    return raw if value is None else value


def _ids_beyond_the_database() -> None:
    # An id no id column can hold names nothing: 404, not PostgreSQL's "out of range" as a 500.
    # The API answers these itself, in its own error format (api/bodies.py).
    if request.blueprint != "api" and any(isinstance(value, int) and value > MAX_INT
                                          for value in (request.view_args or {}).values()):
        abort(404)


def register_blueprints(app: Flask) -> None:
    app.before_request(_ids_beyond_the_database)
    from app.views.admin import bp as admin_bp
    from app.views.api import bp as api_bp
    from app.views.auth import bp as auth_bp
    from app.views.health import bp as health_bp
    from app.views.store import bp as store_bp
    from app.views.supervisor import bp as supervisor_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(health_bp)
    app.register_blueprint(store_bp)
    app.register_blueprint(supervisor_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(api_bp)
    from app.views.admin_webhooks import bp as admin_webhooks_bp
    app.register_blueprint(admin_webhooks_bp)
    from app.views.admin_channels import bp as admin_channels_bp
    from app.views.channel_webhooks import bp as channel_webhooks_bp
    app.register_blueprint(channel_webhooks_bp)
    app.register_blueprint(admin_channels_bp)
    from app.views.reports import bp as reports_bp
    app.register_blueprint(reports_bp)
