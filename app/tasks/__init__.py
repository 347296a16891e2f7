"""RQ job functions: thin wrappers that take ids, re-load rows and call a service.

Every job runs inside an application context created once per worker process; the
`job` decorator provides it, makes sure a forked work-horse never reuses its parent's
database connections, and puts the job id and the request id that enqueued it on its log lines.
"""

from __future__ import annotations

import functools
import logging
import os
import time
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, current_app, has_app_context
from rq import get_current_job

from app import metrics
from app.logs import log_context

F = TypeVar("F", bound=Callable[..., Any])

log = logging.getLogger("packline.jobs")

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
    name = f"{func.__module__}.{func.__qualname__}"

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        current = get_current_job()
        request_id = current.meta.get("request_id") if current is not None else None
        with log_context(request_id=request_id, job_id=current.id if current is not None else None):
            return _run(*args, **kwargs)

    def _run(*args: Any, **kwargs: Any) -> Any:
        global _engine_pid
        from app.extensions import db

        if has_app_context():
            app = current_app._get_current_object()
            ctx = None
        else:
            app = _get_app()
            ctx = app.app_context()
            ctx.push()
        started, error = time.perf_counter(), None
        try:
            if _engine_pid != os.getpid():
                # Connections opened before fork belong to the parent; drop them without closing.
                db.engine.dispose(close=False)
                _engine_pid = os.getpid()
            return func(*args, **kwargs)
        except BaseException as exc:
            error = exc
            raise
        finally:
            seconds = time.perf_counter() - started
            metrics.observe_job(name, seconds, error)
            if error is None:
                log.info("job %s done in %.0f ms", name, seconds * 1000)
            else:  # RQ logs the traceback; this line carries the job's ids
                log.warning("job %s failed after %.0f ms: %s: %s", name, seconds * 1000, type(error).__name__, error)
            db.session.remove()
            if ctx is not None:
                ctx.pop()

    return wrapper  # type: ignore[return-value]


def set_app(app: Flask) -> None:
    """Let jobs use an app created elsewhere (the worker command, tests)."""
    global _app, _engine_pid
    _app = app
    _engine_pid = None
