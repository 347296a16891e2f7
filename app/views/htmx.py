"""The one place that decides between a full page and an htmx fragment."""

from __future__ import annotations

import json
from typing import Any

from flask import make_response, render_template, request
from werkzeug.wrappers import Response


def wants_fragment() -> bool:
    """A plain htmx request gets a fragment; boosted requests and history restores get the page."""
    hx = getattr(request, "htmx", None)
    return bool(hx) and not hx.boosted and not hx.history_restore_request


def render(page: str, fragment: str | None = None, *, status: int = 200, trigger: dict | None = None,
           **context: Any) -> Response:
    """Render `fragment` for htmx requests and `page` otherwise; always `Vary: HX-Request`."""
    template = fragment if fragment and wants_fragment() else page
    response = make_response(render_template(template, **context), status)
    response.headers["Vary"] = "HX-Request"
    if trigger and wants_fragment():
        response.headers["HX-Trigger"] = json.dumps(trigger)
    return response
