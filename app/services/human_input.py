"""Master data as people type it — admin form fields and import cells — in the API's shape, and
validation messages back in their words.

The admin forms and the import job both read values through `clean` before they call the one
write path (`services.records`, `services.stock_levels`), and both show its problems through
`in_words`; the API sends and receives the shapes as they are.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any, get_args, get_origin

from flask_babel import get_locale
from flask_babel import gettext as _
from pydantic import BaseModel
from wtforms.i18n import get_translations

from app.services import said as saying
from app.services.said import N_
from app.services.typed_numbers import show_decimal

TRUE = ("1", "true", "yes", "y", "on", "evet", "e")
FALSE = ("0", "false", "no", "n", "off", "hayır", "hayir", "h")
# A barcode has no spaces, so a cell may separate them with spaces too; tags only by , or |.
SEPARATORS = {"barcodes": r"[\s,;|]+"}
LIST_SEPARATOR = r"[,|]"


def clean(schema: type[BaseModel], data: dict[str, Any]) -> dict[str, Any]:
    """Form or CSV values in `schema`'s shape: blanks left out, yes/no words as booleans, lists
    split, a decimal comma read as a point. Columns the schema does not know are left out (the
    import reports them)."""
    out: dict[str, Any] = {}
    for name, info in schema.model_fields.items():
        value = data.get(name)
        is_list = get_origin(info.annotation) is list
        if isinstance(value, str):
            value = value.strip()
            if is_list:
                value = re.split(SEPARATORS.get(name, LIST_SEPARATOR), value)
            elif info.annotation is bool:
                value = True if value.lower() in TRUE else False if value.lower() in FALSE else value
            elif Decimal in get_args(info.annotation):
                value = value.replace(",", ".")
        if value is None or value == "":
            continue
        if is_list and isinstance(value, list):
            value = [v.strip() if isinstance(v, str) else v for v in value]
            value = [v for v in value if v != ""]
        out[name] = value
    return out


# Validation messages of pydantic (the API's schemas) and WTForms (the HTML forms) in the words
# staff use, each saying what to type instead, in the page's language. The API keeps pydantic's
# texts and field paths; every HTML form and import report goes through `say`, and a form's list of
# problems names each field as the form labels it (`field_label`: "Row 1, Unit cost").
_PLAIN: list[tuple[re.Pattern[str], str]] = [(re.compile(pattern), text) for pattern, text in (
    (r"^(Field required|This field is required\.?)$", N_("This field is required. Fill it in.")),
    (r"^String should have at least 1 character$", N_("This field is required. Fill it in.")),
    (r"^String should have at least (?P<n>\d+) characters$", N_("Use at least %(n)s characters.")),
    (r"^String should have at most (?P<n>\d+) characters?$", N_("Use at most %(n)s characters.")),
    (r"^Field must be at most (?P<n>\d+) characters? long\.$", N_("Use at most %(n)s characters.")),
    (r"^Input should be greater than or equal to (?P<n>\S+)$", N_("Enter %(n)s or more.")),
    (r"^Input should be greater than (?P<n>\S+)$", N_("Enter a number above %(n)s.")),
    (r"^Input should be less than or equal to (?P<n>\S+)$", N_("Enter %(n)s or less.")),
    (r"^Input should be less than (?P<n>\S+)$", N_("Enter a number below %(n)s.")),
    (r"^Field must be at least (?P<n>\d+) characters? long\.$", N_("Use at least %(n)s characters.")),
    (r"^Field must be between (?P<min>\d+) and (?P<max>\d+) characters long\.$",
     N_("Use %(min)s to %(max)s characters.")),
    (r"^Number must be between (?P<min>-?\d+(\.\d+)?) and (?P<max>-?\d+(\.\d+)?)\.?$",
     N_("Enter a number from %(min)s to %(max)s.")),
    (r"^Number must be at least (?P<n>-?\d+(\.\d+)?)\.?$", N_("Enter %(n)s or more.")),
    (r"^Number must be at most (?P<n>-?\d+(\.\d+)?)\.?$", N_("Enter %(n)s or less.")),
    (r"^Input should be a valid integer.*|^Not a valid integer value\.?$",
     N_("Enter a whole number, for example 3.")),
    (r"^(Input should be a valid (number|decimal).*|Not a valid (float|decimal) value\.?|Decimal input should be .*"
     r"|Must be a number or a decimal string\.)$", N_("Enter a number, for example 1.5.")),
    (r"^Decimal input should have no more than (?P<n>\d+) decimal places?$",
     N_("Use at most %(n)s digits after the decimal point.")),
    (r"^Decimal input should have no more than (?P<n>\d+) digits? before the decimal point$",
     N_("Use at most %(n)s digits before the decimal point.")),
    (r"^Write the number plainly with at most (?P<n>\d+) decimals, e\.g\. \"(?P<example>[^\"]*)\"\.$",
     N_("Write the number plainly with at most %(n)s decimals, for example %(example)s.")),
    (r"^Input should be a valid boolean.*", N_("Choose yes or no.")),
    (r"^Input should be a valid (date|datetime).*|^Not a valid date(time)? value\.?$",
     N_("Enter a date, for example 2026-12-31.")),
    (r"^Choose a date between (?P<start>\d+) and (?P<end>\d+)\.$", N_("Choose a date between %(start)s and %(end)s.")),
    (r"^SKU (?P<sku>\S+) is on two lines: put it on one line\.$", N_("SKU %(sku)s is on two lines: put it on one line.")),
    (r"^Input should be (?P<options>('[^']*'(, | or )?)+)$", N_("Choose one of: %(options)s.")),
    (r"^Not a valid choice\.?$", N_("Choose one of the options.")),
    (r"^Invalid URL\.?$", N_("Enter a full web address starting with https://.")),
    (r"^Extra inputs are not permitted$", N_("This field is not used here; leave it out.")),
    (r"^List should have at most (?P<n>\d+) items? after validation, not (?P<given>\d+)$",
     N_("At most %(n)s are allowed and there are %(given)s: remove some.")),
    (r"^List should have at most (?P<n>\d+) items?.*", N_("At most %(n)s are allowed: remove some.")),
    (r"^List should have at least 1 item.*", N_("Give at least one.")),
    (r"^Input should be a valid (string|list|dictionary|object).*", N_("This value has the wrong form.")),
    (r"^String should match pattern .*", N_("Use letters and digits only, without spaces.")),
)]
# Whole sentences of the schemas: those naming API fields said for people, the others as they are
# (marked here so that the catalogues carry them).
_SENTENCES = {
    "List the missing items or set whole_package.":
        N_("Enter how many units are missing, or tick Give up the whole package."),
    "Give at least one of cargo_company, tracking_number, tracking_url.":
        N_("Fill in at least one: cargo company, tracking number or tracking link."),
    "Give item_ids or items.": N_("Choose the items to plan."),
    "This channel prints its own label: use complete_packing_channel.":
        N_("This marketplace prints its own label: use Complete packing (channel label)."),
    "Give url or document_base64.": N_("Give a link or a document."),
    "Each sort key may appear once.": N_("Each sort key may appear once."),
    "List each SKU once.": N_("List each SKU once."),
    "List each item once.": N_("List each item once."),
    "The document is larger than 10 MB.": N_("The document is larger than 10 MB."),
    "Not valid base64.": N_("Not valid base64."),
    "The document is empty.": N_("The document is empty."),
    "The secret must not be empty.": N_("The secret must not be empty."),
    "Each barcode may appear only once.": N_("Each barcode may appear only once."),
    "Damaged units cannot be more than the units that arrived.":
        N_("Damaged units cannot be more than the units that arrived."),
    "The date-time is out of range.": N_("The date-time is out of range."),
}
PATTERN_HELP = {"code": N_("Use letters, digits, '-', '_' or '.' (no spaces)."), "sku": N_("No spaces or slashes."),
                "barcodes": N_("Barcodes cannot contain spaces.")}
_URL_FIELDS = ("url", "label_url", "tracking_url", "image_url")


_DECIMAL_REPR = re.compile(r"^Decimal\((?P<n>-?[0-9]+(\.[0-9]+)?)\)$")


def _bound(text: str) -> str:
    """A number in a message as the page writes it: pydantic names a decimal bound by its Python
    form ("Decimal('9999.999')"), which people must not see; on a Turkish page "9999,999"."""
    found = _DECIMAL_REPR.match(text)
    if found is None and not re.fullmatch(r"-?[0-9]+\.[0-9]+", text):
        return text
    return show_decimal(Decimal(found.group("n") if found else text))


def plain_said(message: Any, field: str | None = None) -> Any:
    """`say`'s words for a validation message as a catalogue message (services/said.py), to keep
    now and say later in the reader's language (a job's refusal); a message we have no words for,
    and anything that is not text, as it is."""
    if not isinstance(message, str) or not message:
        return message
    if message in _SENTENCES:
        return saying.said(_SENTENCES[message])
    name = (field or "").split(".")[-1] if field and field.split(".")[-1] in PATTERN_HELP else (field or "").split(".")[0]
    if message.startswith("String should match pattern"):
        if name in PATTERN_HELP:
            return saying.said(PATTERN_HELP[name])
        if name in _URL_FIELDS or (field or "").split(".")[-1] in _URL_FIELDS:
            return saying.said(N_("Enter a full web address starting with https://."))
    for pattern, msgid in _PLAIN:
        found = pattern.match(message)
        if found:
            values = {k: _bound(v.replace("'", "")) if k in ("n", "min", "max") else v.replace("'", "")
                      for k, v in found.groupdict().items() if v is not None}
            return saying.said(msgid, **values)
    return message


def say(message: Any, field: str | None = None) -> Any:
    """One validation message in plain words, in the page's language (anything else is returned
    as it is)."""
    if not isinstance(message, str) or not message:
        return message
    plain = plain_said(message, field)
    if saying.is_message(plain):
        return saying.text(plain)
    words = _(message)  # a sentence the catalogue has
    if words == message and get_locale() is not None and get_locale().language != "en":
        # WTForms says its own messages in English (WTF_I18N_ENABLED is off, so that the ones above
        # get these words); any other one of them in WTForms' own translation.
        words = get_translations(languages=[get_locale().language]).gettext(message)
    return words


# The words each form puts next to a field, by the API's field name (the supervisor's inbound
# forms, the admin forms): a list of problems names the field as people see it.
FIELD_LABELS: dict[str, str] = {
    "code": N_("Code"), "name": N_("Name"), "contact": N_("Contact"), "lead_time_days": N_("Lead time (days)"),
    "active": N_("Active"), "sku": N_("SKU"), "quantity": N_("Quantity"), "unit_cost": N_("Unit cost"),
    "unit_price": N_("Unit price"), "number": N_("Number"), "supplier": N_("Supplier"),
    "destination": N_("Goes to"), "expected_at": N_("Expected on"), "note": N_("Note"), "lines": N_("Rows"),
    "damaged": N_("Damaged"), "reason": N_("Why?"), "carrier": N_("Carrier"),
    "container_number": N_("Container number"), "tracking_number": N_("Tracking number"),
    "eta": N_("Expected arrival"), "documents": N_("Documents"), "url": N_("Link"),
    "purchase_order": N_("Purchase order"), "location": N_("Location"), "reorder_point": N_("Reorder point"),
    "reorder_quantity": N_("Reorder quantity"), "occurred_at": N_("When it happened"), "city": N_("City"),
    "district": N_("District"), "priority": N_("Priority"), "weight_kg": N_("Weight (kg)"),
    "barcodes": N_("Barcodes"), "title": N_("Title"), "type": N_("Type"), "max_quota": N_("Quota"),
    "on_hand": N_("On hand"), "items": N_("Items"), "receipt_key": N_("Receipt"),
    "kind": N_("Kind"), "channel_value": N_("The channel's value"), "our_value": N_("Ours"),
    "adapter": N_("Orders come from"), "config": N_("Settings"), "date": N_("Date"),
    # an order's fields (the scenario dry-run's pasted order, an orders import)
    "channel": N_("Channel"), "placed_at": N_("Placed at"), "status": N_("Status"),
    "delivery_type": N_("Delivery type"), "pickup_location": N_("Pickup location"),
    "payment_type": N_("Payment type"), "cargo_company": N_("Cargo company"), "customer": N_("Customer"),
    "shipping_address": N_("Shipping address"), "price": N_("Price"), "email": N_("Email"), "phone": N_("Phone"),
    "postcode": N_("Postcode"), "country": N_("Country"), "latitude": N_("Latitude"),
    "longitude": N_("Longitude"), "order_id": N_("Order"),
}
_ROW_LABELS = {"documents": N_("Document %(row)s, %(field)s"), "items": N_("Item %(row)s, %(field)s")}
# A problem of the whole input (a model validator's, pydantic's "__root__"): said without a field.
WHOLE = ("", "__root__", "__all__")


def field_said(path: Any) -> Any:
    """`field_label`'s words as a catalogue message to keep (a name we have no label for as text)."""
    if str(path) in WHOLE:
        return ""
    parts = str(path).split(".")

    def label(name: str) -> Any:
        found = FIELD_LABELS.get(name)
        return saying.said(found) if found is not None else name.replace("_", " ").capitalize()

    if len(parts) >= 2 and parts[1].isdigit():
        row = int(parts[1]) + 1
        if len(parts) == 2:
            return saying.said(N_("Row %(row)s"), row=row)
        return saying.said(_ROW_LABELS.get(parts[0], N_("Row %(row)s, %(field)s")), row=row, field=label(parts[-1]))
    return label(parts[-1])


def field_label(path: Any) -> str:
    """The API's field path as the form labels it: "lead_time_days" → "Lead time (days)",
    "lines.0.unit_cost" → "Row 1, Unit cost" (Turkish on a Turkish page); "" for the whole input."""
    return saying.text(field_said(path))


def problem_said(path: Any, problem: Any) -> Any:
    """"Field: problem" as a catalogue message to keep; a problem of the whole input alone."""
    if str(path) in WHOLE:
        return problem
    return saying.said(N_("%(field)s: %(problem)s"), field=field_said(path), problem=problem)


def problem_line(path: Any, problem: Any) -> str:
    """"Row 1, Unit cost: Enter a number …" in the page's language; a problem of the whole input
    alone (never "root: …")."""
    return saying.text(problem_said(path, problem))


def in_words_said(details: dict[str, Any]) -> dict[str, Any]:
    """`in_words` as catalogue messages to keep (an import's report, said when it is read): a
    sentence said through the catalogue inside `said.listening()` is kept as its message too."""
    out: dict[str, Any] = {}
    for path, message in (details or {}).items():
        name = str(path).split(".")[0]
        kept = plain_said(message, str(path))
        out[name if name in PATTERN_HELP else path] = kept if saying.is_message(kept) else saying.recall(kept)
    return out


def in_words(details: dict[str, Any]) -> dict[str, Any]:
    """Validation details for people: messages through `say`, and a list item's problem put on
    its field ("barcodes.0" -> "barcodes")."""
    out: dict[str, Any] = {}
    for path, message in (details or {}).items():
        name = str(path).split(".")[0]
        out[name if name in PATTERN_HELP else path] = say(message, str(path))
    return out
