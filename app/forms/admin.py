"""Forms for stock adjustments, settings, users, API tokens and imports."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from app.forms.numbers import WholeNumberField
from app.i18n import ROLE_LABELS
from app.models.users import ROLES
from app.schemas import json_text
from app.services.stock_levels import STOCK_REASONS

IMPORT_KINDS = ("locations", "channels", "products", "stock", "orders", "purchase_orders")
IMPORT_KIND_LABELS = {"locations": _l("Locations"), "channels": _l("Channels"), "products": _l("Products"),
                      "stock": _l("Stock"), "orders": _l("Orders"), "purchase_orders": _l("Purchase orders")}
STOCK_REASON_LABELS = {"count": _l("Count"), "damaged": _l("Damaged"), "found": _l("Found"),
                       "correction": _l("Correction"), "stock_sync": _l("Stock sync")}


class StockAdjustmentForm(FlaskForm):
    location = SelectField(_l("Location"), validators=[DataRequired()])
    sku = StringField(_l("SKU"), validators=[DataRequired(), Length(max=100)])
    quantity = WholeNumberField(_l("Units on hand (counted)"),
                                validators=[InputRequired(message=_l("Enter the counted units.")), NumberRange(min=0)])
    reason = SelectField(_l("Reason"), choices=[SelectChoice(r, STOCK_REASON_LABELS.get(r, r)) for r in STOCK_REASONS])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500)])

    def __init__(self, *args, locations=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.location.choices = [SelectChoice(loc.code, f"{loc.code} · {loc.name}") for loc in locations]


class SettingForm(FlaskForm):
    """A setting whose value is structured (a list, an object): typed as JSON."""

    value = TextAreaField(_l("Value (JSON)"), validators=[DataRequired(message=_l("Enter a value.")), Length(max=20000)])

    def validate_value(self, field) -> None:
        try:
            json_text.loads(field.data)
        except ValueError as exc:
            raise ValidationError(json_text.problem(exc)) from exc

    def parsed(self):
        return json_text.loads(self.value.data)


class OnOffSettingForm(FlaskForm):
    """An on/off setting: a switch (a real checkbox), never JSON text."""

    value = BooleanField(_l("On"))

    def parsed(self) -> bool:
        return bool(self.value.data)


class NumberSettingForm(FlaskForm):
    # Not a WholeNumberField: the value is stored as JSON, and each setting's own check says its
    # range in its own words ("every 1 to 10080 minutes"), a huge number too.
    value = IntegerField(_l("Value"), validators=[InputRequired(message=_l("Enter a whole number, for example 30."))])

    def parsed(self) -> int:
        return self.value.data


class TextSettingForm(FlaskForm):
    value = StringField(_l("Value"), validators=[DataRequired(message=_l("Enter a value.")), Length(max=200)])

    def parsed(self) -> str:
        return self.value.data.strip()


def setting_form_class(default) -> type[FlaskForm]:
    """The form that fits a setting's kind of value (its default's type)."""
    if isinstance(default, bool):
        return OnOffSettingForm
    if isinstance(default, int):
        return NumberSettingForm
    if isinstance(default, str):
        return TextSettingForm
    return SettingForm


class UserCreateForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=100)])
    role = SelectField(_l("Role"), choices=[SelectChoice(r, ROLE_LABELS.get(r, r)) for r in ROLES], default="staff")
    locations = SelectMultipleField(_l("Locations"), validators=[Optional()],
                                    description=_l("Required for staff; optional for supervisors (empty = all)."))
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=500)],
                             description=_l("At least 12 characters; not a common password."))

    def __init__(self, *args, locations=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.locations.choices = [SelectChoice(loc.code, f"{loc.code} · {loc.name}") for loc in locations]


class UserEditForm(FlaskForm):
    role = SelectField(_l("Role"), choices=[SelectChoice(r, ROLE_LABELS.get(r, r)) for r in ROLES])
    locations = SelectMultipleField(_l("Locations"), validators=[Optional()],
                                    description=_l("Required for staff; optional for supervisors (empty = all)."))
    active = BooleanField(_l("Active (can sign in)"))

    def __init__(self, *args, locations=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.locations.choices = [SelectChoice(loc.code, f"{loc.code} · {loc.name}") for loc in locations]


class PasswordResetForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=500)],
                             description=_l("At least 12 characters; not a common password."))


class TokenForm(FlaskForm):
    name = StringField(_l("Token name"), validators=[DataRequired(), Length(max=100)],
                       description=_l("Say what uses it, like 'ERP sync'."))


class ImportForm(FlaskForm):
    kind = SelectField(_l("What to import"), choices=[SelectChoice(k, IMPORT_KIND_LABELS[k]) for k in IMPORT_KINDS])
    file = FileField(_l("CSV or JSON file"), validators=[FileRequired(_l("Choose a file to upload."))])
