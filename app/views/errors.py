"""Error pages for people and JSON errors for the API; never a traceback."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, MethodNotAllowed

from app.extensions import db
from app.services.errors import ServiceError

MESSAGES = {
    400: _l("The request could not be understood. Go back and try again."),
    403: _l("You do not have access to this page. Ask your supervisor if you need it."),
    404: _l("This page does not exist, or you do not have access to it."),
    405: _l("That action is not possible here."),
    413: _l("The file is too large."),
    429: _l("Too many attempts. Wait a minute and try again."),
    500: _l("Something went wrong on our side. Try again; if it keeps happening, tell your supervisor."),
}


def _said(exc: HTTPException) -> str:
    """Our words for the status (translated), unless the code that raised it said something of its own."""
    status = exc.code or 500
    own = exc.description if exc.description != type(exc).description else None
    return own or str(MESSAGES.get(status, _("Error")))


def _is_api() -> bool:
    return request.path.startswith("/api/")


def api_error(status: int, code: str, message: str, details: dict | None = None):
    return jsonify(error={"code": code, "message": message, "details": details or {}}), status


def _page(status: int, message: str):
    template = "errors/_fragment.html" if request.htmx else "errors/page.html"
    return render_template(template, status=status, message=message), status


# Callers that are programs with rules of their own: the API refuses NUL itself (400/422,
# app/views/api/bodies.py); a channel's webhook body is read raw for its signature, so its form
# must not be parsed here (its path is checked: a code in it is looked up).
_API = "/api/"
_RAW_BODIES = "/channels/"


def refuse_nul_characters():
    """No screen takes a NUL character (PostgreSQL cannot store or compare one, and no keyboard
    or scanner means one): a path, link, form or uploaded file's name holding one is refused,
    changing nothing, before any view reads it."""
    if request.path.startswith(_API):
        return None
    message = _("What was sent contains an invisible character that cannot be stored (NUL). "
             "Type the text again, or scan again, and send it.")
    if "\x00" in request.path:
        return _page(400, message)
    values = list(request.args.items(multi=True))
    if (not request.path.startswith(_RAW_BODIES) and request.method != "GET"
            and request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data")):
        values += list(request.form.items(multi=True))
        values += [(key, upload.filename or "") for key, upload in request.files.items(multi=True)]
    if any("\x00" in key or "\x00" in value for key, value in values):
        return _page(400, message)
    return None


def register_error_handlers(app: Flask) -> None:
    app.before_request(refuse_nul_characters)

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        message = _('Your session form expired. Reload the page and try again.')
        if _is_api():
            return api_error(400, "csrf_failed", message)
        return _page(400, message)

    @app.errorhandler(ServiceError)
    def service_error(exc: ServiceError):
        db.session.rollback()
        if _is_api():
            return api_error(exc.status, exc.code, exc.message, exc.details)
        return _page(exc.status, exc.message)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        status = exc.code or 500
        if _is_api():
            code = (exc.name or "error").lower().replace(" ", "_")
            body, status = api_error(status, code, _said(exc))
        else:
            body, status = _page(status, str(MESSAGES[status]) if status in MESSAGES else _said(exc))
        headers = {}
        if isinstance(exc, MethodNotAllowed) and exc.valid_methods:
            headers["Allow"] = ", ".join(exc.valid_methods)  # RFC 9110: a 405 names the methods the URL takes
        return body, status, headers

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        db.session.rollback()
        app.logger.exception("Unhandled error on %s %s", request.method, request.path)
        if _is_api():
            return api_error(500, "internal_error", _("Unexpected server error; it has been logged."))
        return _page(500, str(MESSAGES[500]))
