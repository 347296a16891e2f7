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

from pydantic import BaseModel

TRUE = ("1", "true", "yes", "y", "on", "evet", "e")
FALSE = ("0", "false", "no", "n", "off", "hayır", "hayir", "h")
# A barcode has no spaces, so a cell may separate them with spaces too; tags only by , or |.
SEPARATORS = {"barcodes": r"[\s,;|]+"}
LIST_SEPARATOR = r"[,|]"
PATTERN_HELP = {"code": "Use letters, digits, '-', '_' or '.' (no spaces).", "sku": "No spaces or slashes.",
                "barcodes": "Barcodes cannot contain spaces."}


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
# staff use, each saying what to type instead. The API keeps pydantic's texts and field paths;
# every HTML form and import report goes through `say`.
_PLAIN: list[tuple[re.Pattern[str], str]] = [(re.compile(pattern), text) for pattern, text in (
    (r"^(Field required|This field is required\.?)$", "This field is required. Fill it in."),
    (r"^String should have at least 1 character$", "This field is required. Fill it in."),
    (r"^String should have at least (\d+) characters$", r"Use at least \1 characters."),
    (r"^String should have at most (\d+) characters?$", r"Use at most \1 characters."),
    (r"^Field must be at most (\d+) characters? long\.$", r"Use at most \1 characters."),
    (r"^Input should be greater than or equal to (\S+)$", r"Enter \1 or more."),
    (r"^Input should be greater than (\S+)$", r"Enter a number above \1."),
    (r"^Input should be less than or equal to (\S+)$", r"Enter \1 or less."),
    (r"^Input should be less than (\S+)$", r"Enter a number below \1."),
    (r"^Input should be a valid integer.*|^Not a valid integer value\.?$",
     "Enter a whole number, for example 3."),
    (r"^(Input should be a valid (number|decimal).*|Not a valid (float|decimal) value\.?|Decimal input should be .*)$",
     "Enter a number, for example 1.5."),
    (r"^Decimal input should have no more than (\d+) decimal places?$",
     r"Use at most \1 digits after the decimal point."),
    (r"^Decimal input should have no more than (\d+) digits? before the decimal point$",
     r"Use at most \1 digits before the decimal point."),
    (r"^Input should be a valid boolean.*", "Choose yes or no."),
    (r"^Input should be a valid (date|datetime).*|^Not a valid date value\.?$", "Enter a date, for example 2026-12-31."),
    (r"^Input should be (('[^']*'(, | or )?)+)$", r"Choose one of: \1."),
    (r"^Not a valid choice\.?$", "Choose one of the options."),
    (r"^Invalid URL\.?$", "Enter a full web address starting with https://."),
    (r"^Extra inputs are not permitted$", "This field is not used here; leave it out."),
    (r"^List should have at most (\d+) items? after validation, not (\d+)$",
     r"At most \1 are allowed and there are \2: remove some."),
    (r"^List should have at most (\d+) items?.*", r"At most \1 are allowed: remove some."),
    (r"^List should have at least 1 item.*", "Give at least one."),
    (r"^Input should be a valid (string|list|dictionary|object).*", "This value has the wrong form."),
    (r"^String should match pattern .*", "Use letters and digits only, without spaces."),
)]
# Whole sentences of the command schemas that name API fields.
_SENTENCES = {
    "List the missing items or set whole_package.":
        "Enter how many units are missing, or tick Give up the whole package.",
    "Give at least one of cargo_company, tracking_number, tracking_url.":
        "Fill in at least one: cargo company, tracking number or tracking link.",
    "Give item_ids or items.": "Choose the items to plan.",
    "This channel prints its own label: use complete_packing_channel.":
        "This marketplace prints its own label: use Complete packing (channel label).",
}
_URL_FIELDS = ("url", "label_url", "tracking_url", "image_url")


def say(message: Any, field: str | None = None) -> Any:
    """One validation message in plain words (anything else is returned as it is)."""
    if not isinstance(message, str):
        return message
    if message in _SENTENCES:
        return _SENTENCES[message]
    name = (field or "").split(".")[0]
    if message.startswith("String should match pattern"):
        if name in PATTERN_HELP:
            return PATTERN_HELP[name]
        if name in _URL_FIELDS:
            return "Enter a full web address starting with https://."
    for pattern, text in _PLAIN:
        if pattern.match(message):
            return pattern.sub(text, message).replace("'", "")
    return message


def in_words(details: dict[str, Any]) -> dict[str, Any]:
    """Validation details for people: messages through `say`, and a list item's problem put on
    its field ("barcodes.0" -> "barcodes")."""
    out: dict[str, Any] = {}
    for path, message in (details or {}).items():
        name = str(path).split(".")[0]
        out[name if name in PATTERN_HELP else path] = say(message, str(path))
    return out
