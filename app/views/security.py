"""Login manager wiring, idle timeout, role checks and security headers."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flask import Flask, abort, redirect, request, session, url_for
from flask_login import current_user, logout_user

from app.extensions import db, login_manager
from app.models.users import User

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    try:
        raw_id, version = user_id.split(":", 1)
        user = db.session.get(User, int(raw_id))
    except (ValueError, TypeError):
        return None
    if user is None or str(user.session_version) != version or not user.active:
        return None
    return user


def register_security(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.session_protection = "basic"

    @app.before_request
    def enforce_idle_timeout() -> Any:
        if request.blueprint in ("api", "health", "static") or request.endpoint == "static":
            return None
        if not current_user.is_authenticated:
            return None
        now = datetime.now(UTC).timestamp()
        last = session.get("last_seen", now)
        if now - last > app.permanent_session_lifetime.total_seconds():
            logout_user()
            session.clear()
            return redirect(url_for("auth.login", next=request.path, expired=1))
        session["last_seen"] = now
        session.permanent = True
        return None

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
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
