"""Settings: each known key with its description and a value validated per key: on/off settings
are a switch, numbers and names a plain field, structured values JSON."""

from __future__ import annotations

import json

from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.extensions import db
from app.forms import show_service_errors
from app.forms.admin import OnOffSettingForm, SettingForm, setting_form_class
from app.models.settings import Setting
from app.services.errors import ValidationFailed
from app.services.settings import KNOWN_SETTINGS, get_setting, put_setting, used_instead
from app.views.admin import bp
from app.views.htmx import render, wants_fragment
from app.views.security import role_required

# What each setting does, for the page (services/settings.py keeps the English for the API).
SETTING_WORDS = {
    "ORDER_FILTERING": _l("Source statuses that may be planned; an empty list accepts every status."),
    "GEOLOCATION_DISCOVERY": _l("How addresses without coordinates are located."),
    "REPLAN_INTERVAL_MINUTES": _l("How often out-of-stock packages are re-planned."),
    "REQUISITION_INTERVAL_MINUTES": _l("How often the requisition job proposes what to order."),
    "REQUIRE_SCAN_TO_PACK": _l("Staff must scan every item before packing."),
    "IS_OTP_ENABLED": _l("Click & collect handover needs the customer's one-time code."),
    "WEBHOOK_ALLOW_PRIVATE_URLS": _l("Allow webhooks to private/loopback addresses (SSRF risk)."),
    "LANGUAGE": _l('Language of the screens for people who have not chosen one and whose browser asks for '
                   'neither English nor Turkish ("en" or "tr").'),
    "TIME_ZONE": _l('Time zone of the times on screens, for locations without their own (an IANA name such as '
                    '"Europe/Istanbul").'),
}


# The settings' own problems (services/settings.py says them in English; `say` finds these).
SETTING_PROBLEMS = (
    _l("Re-plan out-of-stock packages every 1 to 10080 minutes (10080 minutes is one week)."),
    _l("Propose what to order every 1 to 10080 minutes (10080 minutes is one week)."),
    _l("Must be a whole number above 0."),
    _l('Must be an object like {"accepted_statuses": ["approved"]}.'),
    _l("accepted_statuses must be a list of status names."),
)


# An on/off setting's switch is labelled with what it does, which reads right whether the box is
# ticked or not (a static "On" beside an unticked box read as if it were on).
SWITCH_WORDS = {
    "REQUIRE_SCAN_TO_PACK": _l("Scan every item before packing"),
    "IS_OTP_ENABLED": _l("Ask for the customer's pickup code"),
    "WEBHOOK_ALLOW_PRIVATE_URLS": _l("Allow webhooks to private addresses"),
}


def _shown(value) -> str:
    """A value as the page shows it: on/off in the reader's language."""
    if isinstance(value, bool):
        return _("On") if value else _("Off")
    return value if isinstance(value, str) else json.dumps(value)


def _rows() -> list[dict]:
    stored = {row.key: row.value for row in db.session.query(Setting.key, Setting.value)}
    rows = []
    for key, (_default, check, description) in KNOWN_SETTINGS.items():
        # A value stored before it was checked (1e+20 minutes, say) is shown as stored, saying
        # what is used instead (services/settings.used_instead: the default, or a security setting's
        # safe side), so the admin fixes it.
        unusable = key in stored and check(stored[key]) is not None
        rows.append({"key": key, "description": SETTING_WORDS.get(key, description),
                     "value": _shown(stored[key] if unusable else get_setting(key)), "stored": key in stored,
                     "unusable": _shown(used_instead(key)) if unusable else None})
    return rows


def _unusable(key: str) -> str | None:
    """What is used instead of a stored value that is not usable (as the list says), or None."""
    stored = db.session.get(Setting, key)
    if stored is None or KNOWN_SETTINGS[key][1](stored.value) is None:
        return None
    return _shown(used_instead(key))


def _form_page(key: str, form, *, status: int = 200, saved: bool = False):
    return render("admin/setting.html", "admin/_setting_form.html", status=status, key=key, form=form,
                  description=SETTING_WORDS.get(key, KNOWN_SETTINGS[key][2]), saved=saved,
                  switch=isinstance(form, OnOffSettingForm), switch_words=SWITCH_WORDS.get(key, _l("On")),
                  unusable=_unusable(key))


@bp.get("/settings/")
@role_required("admin")
def settings():
    return render("admin/settings.html", rows=_rows())


@bp.route("/settings/<key>", methods=["GET", "POST"])
@role_required("admin")
def setting(key: str):
    if key not in KNOWN_SETTINGS:
        abort(404)
    form_class = setting_form_class(KNOWN_SETTINGS[key][0])
    form = form_class()
    if not form.is_submitted():
        value = get_setting(key)
        form = form_class(formdata=None, value=json.dumps(value, indent=2) if form_class is SettingForm else value)
        return _form_page(key, form)
    if not form.validate():
        return _form_page(key, form, status=422)
    try:
        put_setting(key, form.parsed())
    except ValidationFailed as exc:
        show_service_errors(form, {"value": "; ".join(str(v) for v in exc.details.values()) or exc.message})
        return _form_page(key, form, status=422)
    if wants_fragment():
        return _form_page(key, form, saved=True)
    flash(_('Saved: %(key)s is now %(value)s.', key=key, value=_shown(get_setting(key))), "ok")
    return redirect(url_for("admin.settings"), 303)
