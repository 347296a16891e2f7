"""My settings: what one user prefers on the shop floor (for now, scan sound and vibration)."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_login import current_user, login_required

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
    committed(users.set_scan_feedback, current_user.id, on)
    message = ("Saved. Scans now beep (and vibrate where the device can)." if on
               else "Saved. Scans are now silent: watch the green or red line under the scan field.")
    if not wants_fragment():
        flash(message, "success")
        return redirect(url_for("store.my_settings", code=location.code), code=303)
    # store.js reads the new value from the event, so this page's scans follow it at once.
    return render("store/settings.html", "store/_settings.html", location=location,
                  notice={"text": message, "category": "success"}, trigger={"scan-feedback": "on" if on else "off"})
