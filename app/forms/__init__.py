"""Flask-WTF forms, one module per area. Forms check shape; services check meaning.

`show_service_errors` puts a service's `ValidationFailed.details` next to the matching fields,
so both kinds of problem appear in the same place on the re-rendered form.
"""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm

from app.services.human_input import say


def show_service_errors(form: FlaskForm, details: dict[str, Any]) -> list[str]:
    """Attach each message (in plain words, `human_input.say`) to its field; return the messages
    that match no field, without the API's field paths."""
    unmatched: list[str] = []
    for path, message in (details or {}).items():
        name = str(path).split(".")[0]
        field = getattr(form, name, None) if name else None
        text = str(say(message, str(path)))
        if field is not None and hasattr(field, "errors"):
            field.errors = [*list(field.errors or []), text]
        elif text not in unmatched:
            unmatched.append(text)
    return unmatched


def form_data(form: FlaskForm, *, skip: tuple[str, ...] = ("csrf_token", "submit")) -> dict[str, Any]:
    return {name: value for name, value in form.data.items() if name not in skip}
