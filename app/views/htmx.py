"""The one place that decides between a full page and an htmx fragment."""

from __future__ import annotations

from typing import Any

import htmx_flask
from flask import render_template, request
from werkzeug.wrappers import Response


def wants_fragment() -> bool:
    """A plain htmx request gets a fragment; boosted requests and history restores get the page."""
    hx = getattr(request, "htmx", None)
    return bool(hx) and not hx.boosted and not hx.history_restore_request


def render(page: str, fragment: str | None = None, *, status: int = 200, trigger: dict | None = None,
           **context: Any) -> Response:
    """Render `fragment` for htmx requests and `page` otherwise; always `Vary: HX-Request`."""
    template = fragment if fragment and wants_fragment() else page
    response = htmx_flask.make_response(render_template(template, **context), status,
                                        trigger=trigger if wants_fragment() else None)
    response.headers["Vary"] = "HX-Request"
    return response
