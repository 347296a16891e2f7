"""Forms for locations, channels, products, cargo companies and denial reasons."""

from __future__ import annotations

import json

from flask_wtf import FlaskForm
from wtforms import BooleanField, DecimalField, FloatField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import URL, DataRequired, Length, NumberRange, Optional, ValidationError

from app.models.catalog import CARRIER_ADAPTERS
from app.models.locations import LOCATION_TYPES
from app.schemas import json_text

CODE_HELP = "Letters, digits, '-', '_' or '.'; used in URLs, filters and imports."


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
    code = StringField("Code", validators=[DataRequired(), Length(max=64)], description=CODE_HELP)
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    type = SelectField("Type", choices=[SelectChoice(t, t.title()) for t in LOCATION_TYPES])
    address = StringField("Address", validators=[Optional(), Length(max=500)])
    city = StringField("City", validators=[Optional(), Length(max=100)])
    district = StringField("District", validators=[Optional(), Length(max=100)])
    latitude = FloatField("Latitude", validators=[Optional(), NumberRange(-90, 90)])
    longitude = FloatField("Longitude", validators=[Optional(), NumberRange(-180, 180)])
    priority = IntegerField("Priority", default=100, validators=[Optional(), NumberRange(min=0)],
                            description="Lower is preferred.")
    max_quota = IntegerField("Maximum open packages", validators=[Optional(), NumberRange(min=0)],
                             description="Empty means unlimited.")
    target_packaging_minutes = IntegerField("Target packaging time (minutes)",
                                            validators=[Optional(), NumberRange(min=1)])
    tags = ListField("Tags", validators=[Optional(), Length(max=500)], description="Separated by commas.")
    time_zone = StringField("Time zone", validators=[Optional(), Length(max=64)],
                            description='For the times shown for this location, e.g. "Europe/Istanbul". '
                                        "Empty: the brand's time zone (Settings → TIME_ZONE).")
    is_packaging_center = BooleanField("Packs orders", default=True)
    is_transfer_source = BooleanField("Sends transfers", default=True)
    is_pickup_location = BooleanField("Click & collect pickup point")
    active = BooleanField("Active", default=True)


class ChannelForm(FlaskForm):
    code = StringField("Code", validators=[DataRequired(), Length(max=64)], description=CODE_HELP)
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    provides_shipping_label = BooleanField("The channel prints the shipping label")


class ProductForm(FlaskForm):
    sku = StringField("SKU", validators=[DataRequired(), Length(max=100)])
    name = StringField("Name", validators=[DataRequired(), Length(max=300)])
    barcodes = LinesField("Barcodes", validators=[Optional(), Length(max=5000)],
                             description="One per line; a scan of any of them counts as this product.")
    weight_kg = DecimalField("Weight (kg)", places=3, validators=[Optional(), NumberRange(min=0)])
    image_url = StringField("Image URL", validators=[Optional(), URL(require_tld=False), Length(max=1000)])


class CargoCompanyForm(FlaskForm):
    code = StringField("Code", validators=[DataRequired(), Length(max=64)], description=CODE_HELP)
    name = StringField("Name", validators=[DataRequired(), Length(max=200)])
    adapter = SelectField("Adapter", choices=[SelectChoice(a, a) for a in CARRIER_ADAPTERS])
    config = JsonField("Configuration (JSON)", default="{}", validators=[Length(max=20000)],
                           description='For http: {"base_url": "https://...", "api_key": "..."}.')
    active = BooleanField("Active", default=True)

    def validate_config(self, field) -> None:
        try:
            value = json_text.loads(field.data or "{}")
        except ValueError as exc:
            raise ValidationError(json_text.problem(exc)) from exc
        if not isinstance(value, dict):
            raise ValidationError("Enter a JSON object in curly braces.")


class DenialReasonForm(FlaskForm):
    code = StringField("Code", validators=[DataRequired(), Length(max=64)], description=CODE_HELP)
    title = StringField("Title", validators=[DataRequired(), Length(max=200)])
    priority = IntegerField("Order in lists", default=100, validators=[Optional(), NumberRange(min=0)])
    active = BooleanField("Active", default=True)
