"""My settings: what one user prefers on the shop floor: scan sound and vibration, and language."""

from __future__ import annotations

from flask import flash, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_babel import refresh
from flask_login import current_user, login_required

from app import i18n
from app.services import users
from app.services.db import committed
from app.views.htmx import render, wants_fragment
from app.views.store import bp, location_or_404


@bp.route("/<code>/settings", methods=["GET", "POST"])
@login_required
def my_settings(code: str):
    """Reached from the store header, so it keeps the store's links around it."""
    location = location_or_404(code)
    if request.method == "GET":
        return render("store/settings.html", "store/_settings.html", location=location)
    on = request.form.get("scan_feedback") == "on"
    language = request.form.get("language", "")
    if language and language not in i18n.LANGUAGES:
        language = current_user.language or ""  # not one of ours: keep what was chosen
    language_changed = (language or None) != current_user.language
    committed(users.set_scan_feedback, current_user.id, on)
    if language_changed:
        committed(users.set_language, current_user.id, language or None)
        session.pop(i18n.SESSION_KEY, None)
        refresh()  # the answer is already in the new language
    message = (_("Saved. Scans now beep (and vibrate where the device can).") if on
               else _("Saved. Scans are now silent: watch the green or red line under the scan field."))
    if not wants_fragment() or language_changed:
        # A new language redraws the whole page (header and all), not only this box.
        flash(message, "success")
        if wants_fragment():
            return "", 204, {"HX-Redirect": url_for("store.my_settings", code=location.code)}
        return redirect(url_for("store.my_settings", code=location.code), code=303)
    # store.js reads the new value from the event, so this page's scans follow it at once.
    return render("store/settings.html", "store/_settings.html", location=location,
                  notice={"text": message, "category": "success"}, trigger={"scan-feedback": "on" if on else "off"})
