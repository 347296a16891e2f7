"""Forms for the supervisor's package actions."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField
from wtforms.validators import DataRequired, Length


class ReasonForm(FlaskForm):
    """Block and cancel both need a reason; `version` guards against acting on a stale page."""

    reason = StringField(_l("Reason"), validators=[DataRequired(message=_l("Give a reason.")), Length(max=500)])
    version = HiddenField()


class VersionForm(FlaskForm):
    version = HiddenField()
