"""Forms for stock adjustments, settings, users, API tokens and imports."""

from __future__ import annotations

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

from app.models.users import ROLES
from app.schemas import json_text
from app.services.stock_levels import STOCK_REASONS

IMPORT_KINDS = ("locations", "channels", "products", "stock", "orders", "purchase_orders")


class StockAdjustmentForm(FlaskForm):
    location = SelectField("Location", validators=[DataRequired()])
    sku = StringField("SKU", validators=[DataRequired(), Length(max=100)])
    quantity = IntegerField("Units on hand (counted)", validators=[InputRequired(message="Enter the counted units."),
                                                                   NumberRange(min=0)])
    reason = SelectField("Reason", choices=[SelectChoice(r, r.replace("_", " ").capitalize()) for r in STOCK_REASONS])
    note = StringField("Note", validators=[Optional(), Length(max=500)])

    def __init__(self, *args, locations=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.location.choices = [SelectChoice(loc.code, f"{loc.code} · {loc.name}") for loc in locations]


class SettingForm(FlaskForm):
    """A setting whose value is structured (a list, an object): typed as JSON."""

    value = TextAreaField("Value (JSON)", validators=[DataRequired(message="Enter a value."), Length(max=20000)])

    def validate_value(self, field) -> None:
        try:
            json_text.loads(field.data)
        except ValueError as exc:
            raise ValidationError(json_text.problem(exc)) from exc

    def parsed(self):
        return json_text.loads(self.value.data)


class OnOffSettingForm(FlaskForm):
    """An on/off setting: a switch (a real checkbox), never JSON text."""

    value = BooleanField("On")

    def parsed(self) -> bool:
        return bool(self.value.data)


class NumberSettingForm(FlaskForm):
    value = IntegerField("Value", validators=[InputRequired(message="Enter a whole number, for example 30.")])

    def parsed(self) -> int:
        return self.value.data


class TextSettingForm(FlaskForm):
    value = StringField("Value", validators=[DataRequired(message="Enter a value."), Length(max=200)])

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
    username = StringField("Username", validators=[DataRequired(), Length(max=100)])
    role = SelectField("Role", choices=[SelectChoice(r, r.title()) for r in ROLES], default="staff")
    locations = SelectMultipleField("Locations", validators=[Optional()],
                                    description="Required for staff; optional for supervisors (empty = all).")
    password = PasswordField("Password", validators=[DataRequired(), Length(max=500)],
                             description="At least 12 characters; not a common password.")

    def __init__(self, *args, locations=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.locations.choices = [SelectChoice(loc.code, f"{loc.code} · {loc.name}") for loc in locations]


class UserEditForm(FlaskForm):
    role = SelectField("Role", choices=[SelectChoice(r, r.title()) for r in ROLES])
    locations = SelectMultipleField("Locations", validators=[Optional()],
                                    description="Required for staff; optional for supervisors (empty = all).")
    active = BooleanField("Active (can sign in)")

    def __init__(self, *args, locations=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.locations.choices = [SelectChoice(loc.code, f"{loc.code} · {loc.name}") for loc in locations]


class PasswordResetForm(FlaskForm):
    password = PasswordField("New password", validators=[DataRequired(), Length(max=500)],
                             description="At least 12 characters; not a common password.")


class TokenForm(FlaskForm):
    name = StringField("Token name", validators=[DataRequired(), Length(max=100)],
                       description="Say what uses it, like 'ERP sync'.")


class ImportForm(FlaskForm):
    kind = SelectField("What to import", choices=[SelectChoice(k, k.replace("_", " ").capitalize()) for k in IMPORT_KINDS])
    file = FileField("CSV or JSON file", validators=[FileRequired("Choose a file to upload.")])
