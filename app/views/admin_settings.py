"""Settings: each known key with its description and a JSON value validated per key."""

from __future__ import annotations

import json

from flask import abort, flash, redirect, url_for

from app.extensions import db
from app.forms import show_service_errors
from app.forms.admin import SettingForm
from app.models.settings import Setting
from app.services.errors import ValidationFailed
from app.services.settings import KNOWN_SETTINGS, get_setting, put_setting
from app.views.admin import bp
from app.views.htmx import render, wants_fragment
from app.views.security import role_required


def _rows() -> list[dict]:
    stored = {row.key for row in db.session.query(Setting.key)}
    return [{"key": key, "description": description, "value": json.dumps(get_setting(key)),
             "stored": key in stored} for key, (_, _, description) in KNOWN_SETTINGS.items()]


def _form_page(key: str, form: SettingForm, *, status: int = 200, saved: bool = False):
    return render("admin/setting.html", "admin/_setting_form.html", status=status, key=key, form=form,
                  description=KNOWN_SETTINGS[key][2], saved=saved)


@bp.get("/settings/")
@role_required("admin")
def settings():
    return render("admin/settings.html", rows=_rows())


@bp.route("/settings/<key>", methods=["GET", "POST"])
@role_required("admin")
def setting(key: str):
    if key not in KNOWN_SETTINGS:
        abort(404)
    form = SettingForm()
    if not form.is_submitted():
        form = SettingForm(formdata=None, value=json.dumps(get_setting(key), indent=2))
        return _form_page(key, form)
    if not form.validate():
        return _form_page(key, form, status=422)
    try:
        put_setting(key, json.loads(form.value.data))
    except ValidationFailed as exc:
        show_service_errors(form, {"value": "; ".join(str(v) for v in exc.details.values()) or exc.message})
        return _form_page(key, form, status=422)
    if wants_fragment():
        return _form_page(key, form, saved=True)
    flash(f"{key} saved.", "ok")
    return redirect(url_for("admin.settings"), 303)
