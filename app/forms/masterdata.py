"""Forms for locations, channels, products, cargo companies and denial reasons."""

from __future__ import annotations

import json

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import URL, DataRequired, Length, NumberRange, Optional, ValidationError

from app.forms.numbers import LocalDecimalField, LocalFloatField, WholeNumberField
from app.models.catalog import CARRIER_ADAPTERS
from app.models.locations import LOCATION_TYPES
from app.schemas import json_text

LOCATION_TYPE_LABELS = {"store": _l("Store"), "warehouse": _l("Warehouse")}
CODE_HELP = _l("Letters, digits, '-', '_' or '.'; used in URLs, filters and imports.")


class _Joined:
    """Shows a list (tags, barcodes) as text; the service splits it again."""

    separator = ", "

    def process_data(self, value):
        if isinstance(value, (list, tuple)):
            value = self.separator.join(getattr(v, "barcode", None) or str(v) for v in value)
        super().process_data(value)


class ListField(_Joined, StringField):
    pass


class LinesField(_Joined, TextAreaField):
    separator = "\n"


class JsonField(TextAreaField):
    """A JSON object edited as text."""

    def process_data(self, value):
        super().process_data(json.dumps(value, indent=2) if isinstance(value, dict) else value)


class LocationForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=64)], description=CODE_HELP)
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    type = SelectField(_l("Type"), choices=[SelectChoice(t, LOCATION_TYPE_LABELS.get(t, t)) for t in LOCATION_TYPES])
    address = StringField(_l("Address"), validators=[Optional(), Length(max=500)])
    city = StringField(_l("City"), validators=[Optional(), Length(max=100)])
    district = StringField(_l("District"), validators=[Optional(), Length(max=100)])
    latitude = LocalFloatField(_l("Latitude"), validators=[Optional(), NumberRange(-90, 90)])
    longitude = LocalFloatField(_l("Longitude"), validators=[Optional(), NumberRange(-180, 180)])
    priority = WholeNumberField(_l("Priority"), default=100, validators=[Optional(), NumberRange(min=0)],
                                description=_l("Lower is preferred."))
    max_quota = WholeNumberField(_l("Maximum open packages"), validators=[Optional(), NumberRange(min=0)],
                                 description=_l("Empty means unlimited."))
    target_packaging_minutes = WholeNumberField(_l("Target packaging time (minutes)"),
                                                validators=[Optional(), NumberRange(min=1)])
    tags = ListField(_l("Tags"), validators=[Optional(), Length(max=500)], description=_l("Separated by commas."))
    time_zone = StringField(_l("Time zone"), validators=[Optional(), Length(max=64)],
                            description=_l('For the times shown for this location, e.g. "Europe/Istanbul". '
                                           "Empty: the brand's time zone (Settings → TIME_ZONE)."))
    is_packaging_center = BooleanField(_l("Packs orders"), default=True)
    is_transfer_source = BooleanField(_l("Sends transfers"), default=True)
    is_pickup_location = BooleanField(_l("Click & collect pickup point"))
    active = BooleanField(_l("Active"), default=True)


class ChannelForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=64)], description=CODE_HELP)
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    provides_shipping_label = BooleanField(_l("The channel prints the shipping label"))


class ProductForm(FlaskForm):
    sku = StringField(_l("SKU"), validators=[DataRequired(), Length(max=100)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=300)])
    barcodes = LinesField(_l("Barcodes"), validators=[Optional(), Length(max=5000)],
                             description=_l("One per line; a scan of any of them counts as this product."))
    weight_kg = LocalDecimalField(_l("Weight (kg)"), places=3, validators=[Optional(), NumberRange(min=0)])
    image_url = StringField(_l("Image URL"), validators=[Optional(), URL(require_tld=False), Length(max=1000)])


class CargoCompanyForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=64)], description=CODE_HELP)
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    adapter = SelectField(_l("Adapter"), choices=[SelectChoice(a, a) for a in CARRIER_ADAPTERS])
    config = JsonField(_l("Configuration (JSON)"), default="{}", validators=[Length(max=20000)],
                           description=_l('For http: {"base_url": "https://...", "api_key": "..."}.'))
    active = BooleanField(_l("Active"), default=True)

    def validate_config(self, field) -> None:
        try:
            value = json_text.loads(field.data or "{}")
        except ValueError as exc:
            raise ValidationError(json_text.problem(exc)) from exc
        if not isinstance(value, dict):
            raise ValidationError(_("Enter a JSON object in curly braces."))


class DenialReasonForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=64)], description=CODE_HELP)
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    priority = WholeNumberField(_l("Order in lists"), default=100, validators=[Optional(), NumberRange(min=0)])
    active = BooleanField(_l("Active"), default=True)
