"""RQ job functions: thin wrappers that take ids, re-load rows and call a service.

Every job runs inside an application context created once per worker process; the
`job` decorator provides it and makes sure a forked work-horse never reuses its parent's
database connections.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app, has_app_context

F = TypeVar("F", bound=Callable[..., Any])

_app: Flask | None = None
_engine_pid: int | None = None


def _get_app() -> Flask:
    global _app
    if _app is None:
        from app import create_app

        _app = create_app()
    return _app


def job(func: F) -> F:
    """Run `func` in an app context with fresh DB connections in forked work-horses."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        global _engine_pid
        from app.extensions import db

        if has_app_context():
            app = current_app._get_current_object()
            ctx = None
        else:
            app = _get_app()
            ctx = app.app_context()
            ctx.push()
        try:
            if _engine_pid != os.getpid():
                # Connections opened before fork belong to the parent; drop them without closing.
                db.engine.dispose(close=False)
                _engine_pid = os.getpid()
            return func(*args, **kwargs)
        finally:
            db.session.remove()
            if ctx is not None:
                ctx.pop()

    return wrapper  # type: ignore[return-value]


def set_app(app: Flask) -> None:
    """Let jobs use an app created elsewhere (the worker command, tests)."""
    global _app, _engine_pid
    _app = app
    _engine_pid = None
