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


def in_words(details: dict[str, Any]) -> dict[str, Any]:
    """Validation details for people: pattern rules explained, "required" said plainly, and a
    list item's problem put on its field ("barcodes.0" -> "barcodes")."""
    out: dict[str, Any] = {}
    for path, message in (details or {}).items():
        name = str(path).split(".")[0]
        if isinstance(message, str) and message.startswith("String should match pattern") and name in PATTERN_HELP:
            message = PATTERN_HELP[name]
        elif message == "Field required":
            message = "This field is required."
        out[name if name in PATTERN_HELP else path] = message
    return out
