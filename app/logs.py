"""Structured logs and the request id.

Every HTTP request gets an id: the caller's `X-Request-Id` when it is a safe token of at most 64
characters, else a new one. It is echoed in the response, written on the request's log lines,
passed in the meta of every job the request enqueues (app/queues.py) and put back on the log lines
of those jobs when they run (app/tasks `job`), so one id follows a command from the web process
into the worker. With `PACKLINE_LOG_FORMAT=json` every log line is one JSON object.
Standard library only: a Formatter and a contextvars-based Filter.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

from flask import Flask, g, request

REQUEST_ID_HEADER = "X-Request-Id"
_SAFE_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")

# What the current request or job adds to every log line: request_id, and job_id inside jobs.
_context: ContextVar[dict[str, str]] = ContextVar("packline_log_context", default={})  # noqa: B039 - never mutated

request_log = logging.getLogger("packline.request")

# The attributes every LogRecord has; anything else on a record came from `extra=` and is kept.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


def current_request_id() -> str | None:
    """The id of the request or job this code runs for (None outside both)."""
    return _context.get().get("request_id")


@contextmanager
def log_context(**values: str | None) -> Iterator[None]:
    """Add `values` (request_id, job_id) to every log line written inside the block."""
    token = _context.set({**_context.get(), **{k: v for k, v in values.items() if v}})
    try:
        yield
    finally:
        _context.reset(token)


class ContextFilter(logging.Filter):
    """Copies the current request_id / job_id onto each record (on a handler: every logger)."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = _context.get()
        for key in ("request_id", "job_id"):
            if getattr(record, key, None) is None:
                setattr(record, key, context.get(key))
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, job_id (in jobs), any
    `extra=` fields, and the traceback as `exception`."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        if getattr(record, "job_id", None):
            line["job_id"] = record.job_id
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in line and key != "job_id":
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, default=str, ensure_ascii=False)


def configure_logging(log_format: str | None) -> None:
    """`json`: every line of this process goes to stderr as JSON, at INFO and above. Anything else
    leaves logging as Python and the servers set it up. Safe to call again (one handler, replaced)."""
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h.formatter, JsonFormatter)]:
        root.removeHandler(handler)
    if (log_format or "").strip().lower() != "json":
        return
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ContextFilter())
    root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)


def register_request_id(app: Flask) -> None:
    """Give each request its id (first before_request hook, so every later one logs with it) and
    write one line per answered request on `packline.request`."""

    @app.before_request
    def _bind_request_id() -> None:
        given = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = given if _SAFE_ID.fullmatch(given) else uuid.uuid4().hex
        g.request_started = time.perf_counter()
        g.log_context_token = _context.set({"request_id": g.request_id})

    @app.after_request
    def _echo_request_id(response):
        if request_id := g.get("request_id"):
            response.headers[REQUEST_ID_HEADER] = request_id
            elapsed = time.perf_counter() - g.get("request_started", time.perf_counter())
            request_log.info("%s %s %s %.0f ms", request.method, request.path, response.status_code, elapsed * 1000,
                             extra={"method": request.method, "path": request.path,
                                    "status": response.status_code, "duration_ms": round(elapsed * 1000, 1)})
        return response

    @app.teardown_request
    def _unbind_request_id(_exc: BaseException | None) -> None:
        token = g.pop("log_context_token", None)
        if token is not None:
            try:
                _context.reset(token)
            except ValueError:  # reset from another context (should not happen): just clear
                _context.set({})
