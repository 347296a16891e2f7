"""/api/v1/settings/{key}: read (supervisors, admins) and write (admins) one JSON setting."""

from __future__ import annotations

from flask import jsonify
from flask_babel import gettext as _

from app.extensions import db
from app.models import Setting
from app.schemas.common import SettingIn, SettingOut, validate
from app.services.errors import NotFound
from app.services.settings import KNOWN_SETTINGS, get_setting, put_setting
from app.views.api.access import require_admin, require_manager
from app.views.api.bodies import json_body
from app.views.api.routing import api_route

TAG = "Settings"


@api_route("/v1/settings/<key>", "GET", summary="One setting (its default when never set)", tag=TAG,
           response=SettingOut)
def get_setting_view(key: str):
    require_manager()
    if key not in KNOWN_SETTINGS and db.session.get(Setting, key) is None:
        raise NotFound(_('There is no setting %(key)s.', key=key))
    return jsonify(key=key, value=get_setting(key))


@api_route("/v1/settings/<key>", "PUT", summary="Set a setting", tag=TAG, body=SettingIn, response=SettingOut)
def put_setting_view(key: str):
    require_admin()
    body = validate(SettingIn, json_body())
    put_setting(key, body.value)
    return jsonify(key=key, value=body.value)
