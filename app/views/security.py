"""Login manager wiring, server-side sessions (idle and absolute timeouts), role checks and
security headers."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Flask, abort, g, redirect, request, session, url_for
from flask_login import current_user

from app.extensions import login_manager
from app.models.users import User
from app.services import sessions
from app.views.client import register_client

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    # The cookie's user id ("id:session_version") must match the live server-side session it
    # names: a signed-out, timed-out or superseded session loads nobody.
    record = sessions.find_session(session.get("sid"))
    if record is None or record.user.get_id() != user_id or not record.user.active:
        return None
    if ended := sessions.why_ended(record):
        g.session_ended = ended
        return None
    g.user_session = record
    return record.user


def register_security(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.session_protection = "basic"
    register_client(app)

    @app.before_request
    def keep_session_alive() -> Any:
        if request.blueprint in ("api", "health", "static") or request.endpoint == "static":
            return None
        if current_user.is_authenticated:
            if record := g.get("user_session"):
                sessions.keep_alive(record)
            return None
        ended = g.pop("session_ended", None)
        if ended and request.endpoint not in ("auth.login", "auth.logout"):
            session.clear()
            return redirect(url_for("auth.login", next=request.path, expired=1 if ended == "idle" else ended))
        return None

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if request.endpoint != "static":
            # Pages and answers carry customers' data, live states and (once) new API tokens: no
            # browser, proxy or Back button may serve a stored copy. Static files keep their own rules.
            response.headers.setdefault("Cache-Control", "no-store")
        if app.config["ENV_NAME"] == "production":
            # Browsers honour it only over HTTPS (and ignore it on plain HTTP), so it is always sent.
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response


def role_required(*roles: str) -> Callable:
    """Only signed-in users with one of `roles` may open the view; others get 403."""

    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return wrapper

    return decorator
