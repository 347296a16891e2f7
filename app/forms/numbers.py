"""Decimal form fields in the page's language: a Turkish page types and sees "0,5", an English
one "0.5" (`services.typed_numbers`). A plain text box with `inputmode="decimal"` (a number box
would send the browser's own format and drop a value written with a comma); anything that is not
a number is refused with WTForms' own message, which `human_input.say` puts in plain words."""

from __future__ import annotations

from flask_babel import gettext as _
from wtforms import DecimalField, FloatField
from wtforms.validators import StopValidation
from wtforms.widgets import TextInput

from app.services.typed_numbers import AmbiguousNumber, read_decimal, show_decimal


class _Typed:
    widget = TextInput()
    places_shown = 0
    refused = "Not a valid decimal value."

    def __init__(self, *args, **kwargs):
        render_kw = {"inputmode": "decimal", "autocomplete": "off", **(kwargs.pop("render_kw", None) or {})}
        super().__init__(*args, render_kw=render_kw, **kwargs)

    def process_formdata(self, valuelist):
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        try:
            self.data = self.convert(read_decimal(valuelist[0]))
        except AmbiguousNumber as exc:
            self.data = None
            raise ValueError(_('“%(typed)s” can be read two ways: write %(whole)s for the whole number, '
                               'or %(decimal)s.', typed=exc.typed, whole=exc.whole, decimal=exc.decimal)) from exc
        except ValueError as exc:
            self.data = None
            raise ValueError(self.gettext(self.refused)) from exc

    def pre_validate(self, form):
        if self.process_errors:  # not a number: one message, not also "enter 0 or more"
            raise StopValidation()

    def convert(self, value):
        return value

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return show_decimal(self.data, self.places_shown) if self.data is not None else ""


class LocalDecimalField(_Typed, DecimalField):
    """A Decimal (a weight, a price)."""


class LocalFloatField(_Typed, FloatField):
    """A float (a latitude)."""

    refused = "Not a valid float value."

    def convert(self, value):
        return float(value)
