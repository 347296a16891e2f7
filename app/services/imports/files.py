"""Reading an uploaded import file: the encoding, CSV or JSON, the header, and rows from any
point on, so a run can resume after the last row it committed.

Every row comes with its line number (CSV: the file line it ends on; JSON: the entry's number)
and the position right after it (CSV: characters into the decoded text; JSON: entries read).
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from app.services.said import N_, said

KINDS = ("locations", "channels", "products", "stock", "orders", "purchase_orders")
CUSTOMER_FIELDS = {"customer_name": "name", "customer_email": "email", "customer_phone": "phone"}
ADDRESS_FIELDS = {"ship_line": "line", "ship_city": "city", "ship_district": "district",
                  "ship_postcode": "postcode", "ship_country": "country", "ship_latitude": "latitude",
                  "ship_longitude": "longitude"}

# kind -> (required columns, optional columns)
COLUMNS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "locations": (("code", "name"), ("type", "address", "city", "district", "latitude", "longitude", "priority",
                                     "max_quota", "target_packaging_minutes", "is_packaging_center",
                                     "is_transfer_source", "is_pickup_location", "active", "tags")),
    "channels": (("code", "name"), ("provides_shipping_label",)),
    "products": (("sku", "name"), ("barcodes", "barcode", "weight_kg", "image_url")),
    "stock": (("location", "sku", "quantity"), ()),
    "orders": (("number", "channel", "sku", "quantity"),
               ("placed_at", "status", "delivery_type", "pickup_location", "payment_type", "cargo_company", "price",
                *CUSTOMER_FIELDS, *ADDRESS_FIELDS)),
    # One line per purchase order line; consecutive lines with the same number are one purchase order.
    "purchase_orders": (("number", "supplier", "destination", "sku", "quantity"), ("expected_at", "unit_cost", "note")),
}

# One physical line with its ending (\r\n, \n or a lone \r, as Excel for Mac writes), or the last one.
_LINE = re.compile(r"[^\r\n]*(?:\r\n?|\n)|[^\r\n]+")
_FILLED_LINE = re.compile(r"[^\S\r\n]*\S[^\r\n]*")  # a line with something on it
_JSON_START = re.compile(r"\s*[\[{]")

Row = tuple[int, int, dict[str, Any]]  # (line, position after the row, the row)


class HeaderError(Exception):
    """The file cannot be imported at all (no header, missing columns, not JSON): the run fails."""


@dataclass
class Source:
    """An upload's rows from a resume point on, how many rows the whole file has, and notes about
    its header for the report."""

    rows: Iterator[Row]
    total: int
    notes: list[dict] = field(default_factory=list)
    is_json: bool = False


def decode(content: bytes) -> str:
    """UTF-8 (a BOM is dropped), else Windows-1254, the Turkish code page Excel writes."""
    if content.startswith(b"\xef\xbb\xbf"):
        return content[3:].decode("utf-8", errors="replace")
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        return content.decode("cp1254", errors="replace")


def open_rows(content: bytes, filename: str | None, kind: str, line: int = 0, position: int = 0) -> Source:
    """The rows of an upload after `line` / `position` (0: from the first row). Raises HeaderError."""
    text = decode(content)
    if (filename or "").lower().endswith(".json") or _JSON_START.match(text):
        return _json_rows(text, position)
    return _csv_rows(text, kind, line, position)


def _normal(header: str) -> str:
    return (header or "").strip().lower().replace(" ", "_").replace("-", "_")


class _Lines:
    """The text's physical lines from `position` on, remembering where the next one starts."""

    def __init__(self, text: str, position: int):
        self.text, self.position = text, position

    def __iter__(self) -> Iterator[str]:
        for match in _LINE.finditer(self.text, self.position):
            self.position = match.end()
            yield match.group()


def _csv_rows(text: str, kind: str, line: int, position: int) -> Source:
    end = text.find("\n", 0, 65536)
    first = text[:end if end >= 0 else 65536]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    lines = _Lines(text, 0)
    reader = csv.reader(iter(lines), delimiter=delimiter)
    try:
        header = [_normal(h) for h in next(reader)]
    except (StopIteration, csv.Error):
        raise HeaderError(said(N_("The file is empty."))) from None
    required, optional = COLUMNS[kind]
    missing = [c for c in required if c not in header]
    if missing:
        if optional:
            raise HeaderError(said(N_("Missing column(s): %(missing)s. The first line must name the columns: "
                                      "%(required)s (optional: %(optional)s)."),
                                   missing=", ".join(missing), required=", ".join(required), optional=", ".join(optional)))
        raise HeaderError(said(N_("Missing column(s): %(missing)s. The first line must name the columns: %(required)s."),
                               missing=", ".join(missing), required=", ".join(required)))
    unknown = [h for h in header if h and h not in required and h not in optional]
    notes = [{"line": 1, "message": said(N_("Ignored unknown column(s): %(columns)s."), columns=", ".join(unknown))}
             ] if unknown else []
    shift = 0
    if position:  # resume there, numbering lines as in the whole file
        lines.position, shift = position, line
        reader = csv.reader(iter(lines), delimiter=delimiter)
    total = sum(1 for _ in _FILLED_LINE.finditer(text)) - 1 if not position else 0

    def rows() -> Iterator[Row]:
        failed_at = -1
        while True:
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:  # e.g. a cell above the csv module's 128 KB limit
                if lines.position == failed_at:
                    return  # nothing more could be read
                failed_at = lines.position
                yield reader.line_num + shift, lines.position, {"__error__": _unreadable(exc)}
                continue
            number = reader.line_num + shift
            if not any(v.strip() for v in values):
                continue
            if len(values) > len(header):
                yield number, lines.position, {"__error__": said(
                    N_("The line has %(values)s values but the file has %(columns)s columns."),
                    values=len(values), columns=len(header))}
                continue
            yield number, lines.position, {h: v.strip() for h, v in zip(header, values, strict=False) if h}

    return Source(rows(), total, notes)


def _unreadable(exc: csv.Error) -> dict[str, Any]:
    if "field larger than field limit" in str(exc):
        return said(N_("A value is too long (more than %(limit)s characters)."), limit={"number": csv.field_size_limit()})
    return said(N_("The line could not be read: %(reason)s."), reason=str(exc))


def _json_rows(text: str, position: int) -> Source:
    """A JSON list of objects (or {"...": [...]}); the position is the number of entries read."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise HeaderError(said(N_("Not valid JSON: %(reason)s."), reason=str(exc))) from exc
    if isinstance(data, dict):
        data = next((v for v in data.values() if isinstance(v, list)), None)
    if not isinstance(data, list):
        raise HeaderError(said(N_("A JSON import must be a list of objects.")))

    def rows() -> Iterator[Row]:
        for index in range(position, len(data)):
            item = data[index]
            yield index + 1, index + 1, item if isinstance(item, dict) else {"__error__": said(N_("Each entry must be an object."))}

    return Source(rows(), len(data), is_json=True)
