"""Number form fields. Decimals in the page's language: a Turkish page types and sees "0,5", an
English one "0.5" (`services.typed_numbers`). A plain text box with `inputmode="decimal"` (a number
box would send the browser's own format and drop a value written with a comma); anything that is
not a number is refused with WTForms' own message, which `human_input.say` puts in plain words.

Whole numbers (`WholeNumberField`) only as far as the database's integer column holds them: a
number beyond it is the field's own clear message, never an OverflowError in WTForms' NumberRange
(it calls math.isnan on the int) nor the database's error at flush."""

from __future__ import annotations

import re

from flask_babel import gettext as _
from wtforms import DecimalField, FloatField, IntegerField
from wtforms.validators import NumberRange, StopValidation
from wtforms.widgets import TextInput

from app.i18n import format_number
from app.schemas.common import MAX_INT
from app.services.typed_numbers import AmbiguousNumber, read_decimal, show_decimal

# What an Integer column holds on PostgreSQL (SQLite's holds more, and must not be asked to).
INT_MIN, INT_MAX = -MAX_INT - 1, MAX_INT
_WHOLE = re.compile(r"[+-]?[0-9]+")


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


class WholeNumberField(IntegerField):
    """A whole number in ASCII digits that an Integer column holds. A bigger (or smaller) one is
    refused with the range the field takes: its NumberRange within the column's, e.g. "Enter a
    whole number from 0 to 2,147,483,647." """

    refused = "Not a valid integer value."  # WTForms' words, which `human_input.say` puts in ours

    def process_formdata(self, valuelist):
        if not valuelist or not isinstance(valuelist[0], str) or not valuelist[0].strip():
            super().process_formdata(valuelist)  # nothing typed: WTForms' way, for Optional/InputRequired
            return
        text = valuelist[0].strip()
        self.data = None
        if not _WHOLE.fullmatch(text):  # int() would also read "1_000" and "١٢"
            raise ValueError(self.invalid_value_message or self.gettext(self.refused))
        # At most 11 significant digits reach int(): Python refuses over 4,300 of them.
        if len(text.lstrip("+-").lstrip("0")) > 10 or not INT_MIN <= int(text) <= INT_MAX:
            raise ValueError(self._out_of_range(text.startswith("-")))
        self.data = int(text)

    def _out_of_range(self, below: bool) -> str:
        low, high = INT_MIN, INT_MAX
        for validator in self.validators:
            if isinstance(validator, NumberRange):
                low = max(low, validator.min) if validator.min is not None else low
                high = min(high, validator.max) if validator.max is not None else high
        if low == INT_MIN and not below:
            return _("Enter a whole number up to %(max)s.", max=format_number(high))
        return _("Enter a whole number from %(min)s to %(max)s.", min=format_number(low), max=format_number(high))

    def pre_validate(self, form):
        if self.process_errors and self.raw_data and str(self.raw_data[0]).strip():
            raise StopValidation()  # typed but not read: one message, not also NumberRange's
