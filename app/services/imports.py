"""CSV and JSON imports of locations, channels, products, stock and orders, run as RQ jobs.

The upload is kept in Redis (shared by every web host and worker) until the job has read it.
The job streams the file row by row; each row runs in its own savepoint, so a broken row is
reported with its line number and reason and never stops the good ones nor half-writes itself.
Rows are written by the same operations as the API and the admin forms (`services.records`,
`services.stock_levels`); this job is their edge: it commits progress (done/total/created/
updated/rejected) every `BATCH` rows for the progress bar, then re-plans for stock that went up.
Encodings: UTF-8 with or without BOM, else Windows-1254 (Turkish Excel).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

from redis.exceptions import RedisError
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from app.extensions import db
from app.models import ImportRun
from app.models.base import utcnow
from app.schemas.catalog import StockRowIn
from app.services import human_input, records, stock_levels
from app.services.actors import Actor
from app.services.catalog import PRODUCTS
from app.services.db import begin_write
from app.services.errors import NotFound, ServiceError, ValidationFailed
from app.services.locations import LOCATIONS
from app.services.masterdata import CHANNELS

KINDS = ("locations", "channels", "products", "stock", "orders")
RECORDS = {"locations": LOCATIONS, "channels": CHANNELS, "products": PRODUCTS}
BATCH = 200
MAX_ERRORS = 1000  # kept in the report; the rejected count is always exact
MAX_BYTES = 50 * 1024 * 1024
FILE_TTL_SECONDS = 7 * 24 * 3600
UNAVAILABLE = "Background processing is unavailable right now; upload the file again in a minute."

ORDER_FIELDS = ("number", "channel", "placed_at", "status", "delivery_type", "pickup_location", "payment_type",
                "cargo_company")
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
}


def _file_key(run_id: int) -> str:
    return f"packline:import-file:{run_id}"


def start_import(kind: str, filename: str | None, content: bytes, actor: Actor) -> ImportRun:
    """Record an import run, keep the file and enqueue the job that processes it. Commits."""
    from app.queues import enqueue, redis_connection

    if actor.role not in ("admin", "system"):
        raise ValidationFailed("Only admins can import.", {"kind": "Not allowed."})
    if kind not in KINDS:
        raise ValidationFailed("Unknown import type.", {"kind": f"Choose one of: {', '.join(KINDS)}."})
    if not content:
        raise ValidationFailed("The file is empty.", {"file": "The file is empty."})
    if len(content) > MAX_BYTES:
        raise ValidationFailed("The file is too large.", {"file": f"Files up to {MAX_BYTES // (1024 * 1024)} MB."})
    begin_write()
    run = ImportRun(kind=kind, filename=(filename or "upload")[:300], status="queued", created_by_id=actor.user_id)
    db.session.add(run)
    db.session.flush()
    run.job_id = f"import-{run.id}"
    try:
        redis_connection().set(_file_key(run.id), content, ex=FILE_TTL_SECONDS)
    except RedisError:
        db.session.rollback()
        raise ValidationFailed("Background work is unavailable.", {"file": UNAVAILABLE}) from None
    db.session.commit()
    try:
        enqueue("default", "app.tasks.imports.run_import", run.id, job_id=run.job_id, job_timeout=3600)
    except RedisError:
        return _finish(run, "failed", [{"line": 0, "message": UNAVAILABLE}])
    return run


def get_run(run_id: int) -> ImportRun:
    run = db.session.get(ImportRun, run_id)
    if run is None:
        raise NotFound("No such import.")
    return run


# ---------------------------------------------------------------------------------- reading files

def decode(content: bytes) -> str:
    """UTF-8 (a BOM is dropped), else Windows-1254, the Turkish code page Excel writes."""
    if content.startswith(b"\xef\xbb\xbf"):
        return content[3:].decode("utf-8", errors="replace")
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        return content.decode("cp1254", errors="replace")


def _normal(header: str) -> str:
    return (header or "").strip().lower().replace(" ", "_").replace("-", "_")


class HeaderError(Exception):
    pass


def csv_rows(text: str, kind: str) -> tuple[list[str], Iterator[tuple[int, dict[str, str]]]]:
    """(unknown columns, iterator of (line number, row)). Raises HeaderError for missing columns."""
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [_normal(h) for h in next(reader)]
    except StopIteration:
        raise HeaderError("The file is empty.") from None
    required, optional = COLUMNS[kind]
    missing = [c for c in required if c not in header]
    if missing:
        raise HeaderError(f"Missing column(s): {', '.join(missing)}. The first line must name the columns: "
                          f"{', '.join(required)} (optional: {', '.join(optional) or 'none'}).")
    unknown = [h for h in header if h and h not in required and h not in optional]

    def rows() -> Iterator[tuple[int, dict[str, str]]]:
        for values in reader:
            line = reader.line_num
            if not any(v.strip() for v in values):
                continue
            if len(values) > len(header):
                yield line, {"__error__": f"{len(values)} values but {len(header)} columns."}
                continue
            yield line, {h: v.strip() for h, v in zip(header, values, strict=False) if h}

    return unknown, rows()


def json_rows(text: str) -> tuple[int, Iterator[tuple[int, dict[str, Any]]]]:
    """(number of entries, iterator of (entry number, entry)) for a JSON list (or {"...": [...]})."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise HeaderError(f"Not valid JSON: {exc}.") from exc
    if isinstance(data, dict):
        data = next((v for v in data.values() if isinstance(v, list)), None)
    if not isinstance(data, list):
        raise HeaderError("A JSON import must be a list of objects.")

    def rows() -> Iterator[tuple[int, dict[str, Any]]]:
        for index, item in enumerate(data, start=1):
            yield index, item if isinstance(item, dict) else {"__error__": "Each entry must be an object."}

    return len(data), rows()


def _count_lines(text: str) -> int:
    return max(0, sum(1 for line in text.splitlines()[1:] if line.strip()))


# -------------------------------------------------------------------------------------- the job

def run_import(run_id: int) -> ImportRun | None:
    """Process one import run (the RQ job calls this). Running it again starts over: every row
    is an upsert, so nothing is duplicated. Commits every BATCH rows."""
    from app.queues import redis_connection

    run = db.session.get(ImportRun, run_id)
    if run is None or run.status == "finished":
        return run
    content = redis_connection().get(_file_key(run_id))
    if content is None:
        return _finish(run, "failed", [{"line": 0, "message": "The uploaded file has expired; upload it again."}])
    text = decode(content)
    is_json = (run.filename or "").lower().endswith(".json") or text.lstrip().startswith(("[", "{"))
    try:
        notes: list[dict] = []
        if is_json:
            total, rows = json_rows(text)
        else:
            unknown, rows = csv_rows(text, run.kind)
            notes = [{"line": 1, "message": f"Ignored unknown column(s): {', '.join(unknown)}."}] if unknown else []
            total = _count_lines(text)
    except HeaderError as exc:
        return _finish(run, "failed", [{"line": 1, "message": str(exc)}])
    begin_write()
    run.status, run.total, run.done, run.created, run.updated, run.rejected = "running", total, 0, 0, 0, 0
    run.errors = notes
    db.session.commit()
    state = _Progress(run_id, list(notes))
    if run.kind == "orders":
        _import_orders(rows, state, is_json)
    else:
        _import_rows(run.kind, rows, state)
    run = db.session.get(ImportRun, run_id)
    return _finish(run, "finished", state.errors, state)


class _Progress:
    def __init__(self, run_id: int, errors: list[dict]):
        self.run_id, self.errors = run_id, errors
        self.actor = Actor.system(f"import#{run_id}")
        self.done = self.created = self.updated = self.rejected = 0
        self.stock_changes: list[stock_levels.LevelChange] = []  # since the last commit
        self.ids: dict = {}  # code/SKU -> id, looked up once per import

    def reject(self, line: int, message: str, fields: dict | None = None) -> None:
        self.rejected += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append({"line": line, "message": message, "fields": fields or {}})

    def save(self) -> None:
        run = db.session.get(ImportRun, self.run_id)
        run.done, run.created, run.updated, run.rejected = self.done, self.created, self.updated, self.rejected
        run.total = max(run.total, self.done)
        run.errors = list(self.errors)
        db.session.commit()
        changes, self.stock_changes = self.stock_changes, []
        stock_levels.replan_after_increase(changes)


def _apply_row(kind: str, row: dict[str, Any], state: _Progress) -> tuple[bool, stock_levels.LevelChange | None]:
    """Apply one row (flush only); returns (created, the stock change of a stock row)."""
    if kind == "stock":
        change = stock_levels.set_stock_level(human_input.clean(StockRowIn, row), state.actor, "import",
                                              ids=state.ids)
        return False, change
    if kind == "products" and "barcodes" not in row and row.get("barcode"):
        row = {**row, "barcodes": row["barcode"]}
    record_kind = RECORDS[kind]
    _, created = records.upsert(record_kind, human_input.clean(record_kind.schema, row), state.actor)
    return created, None


def _import_rows(kind: str, rows: Iterator[tuple[int, dict[str, Any]]], state: _Progress) -> None:
    begin_write()
    for line, row in rows:
        if "__error__" in row:
            state.reject(line, row["__error__"])
        else:
            try:
                with db.session.begin_nested():
                    created, change = _apply_row(kind, row, state)
            except ServiceError as exc:  # invalid (422) or a duplicate / clash (409)
                details = human_input.in_words(exc.details)
                state.reject(line, _message(exc, details), details)
            except IntegrityError:
                state.reject(line, "Conflicts with an existing record.")
            except (SQLAlchemyError, ValueError, TypeError) as exc:
                state.reject(line, f"Could not be saved: {exc.__class__.__name__}.")
            else:
                state.created += created
                state.updated += not created
                if change is not None:
                    state.stock_changes.append(change)
        state.done += 1
        if state.done % BATCH == 0:
            state.save()
            begin_write()
    state.save()


def _message(exc: ServiceError, details: dict | None = None) -> str:
    details = exc.details if details is None else details
    return "; ".join(f"{k}: {v}" for k, v in (details or {}).items()) or exc.message


def _finish(run: ImportRun, status: str, errors: list[dict], state: _Progress | None = None) -> ImportRun:
    begin_write()
    run = db.session.get(ImportRun, run.id)
    run.status, run.errors, run.finished_at = status, errors[:MAX_ERRORS], utcnow()
    if state is not None:
        run.done, run.created, run.updated, run.rejected = state.done, state.created, state.updated, state.rejected
        run.total = state.done
    db.session.commit()
    return run


# ------------------------------------------------------------------------------------------ orders

def _order_groups(rows: Iterator[tuple[int, dict[str, Any]]], is_json: bool) -> Iterator[tuple[int, int, dict]]:
    """(first line, line count, OrderIn-shaped dict). CSV: consecutive lines of one order, one item each."""
    if is_json:
        for line, row in rows:
            yield line, 1, row
        return
    current: dict | None = None
    first = count = 0
    for line, row in rows:
        if "__error__" in row:
            if current:
                yield first, count, current
                current = None
            yield line, 1, row
            continue
        key = (row.get("channel"), row.get("number"))
        if current is None or key != (current["channel"], current["number"]):
            if current:
                yield first, count, current
            current, first, count = _order_head(row), line, 0
        current["items"].append({"sku": row.get("sku"), "quantity": row.get("quantity"),
                                 "price": row.get("price") or None})
        count += 1
    if current:
        yield first, count, current


def _order_head(row: dict[str, Any]) -> dict[str, Any]:
    head: dict[str, Any] = {f: (row.get(f) or None) for f in ORDER_FIELDS}
    head["delivery_type"] = head["delivery_type"] or "cargo"
    head["customer"] = {k: row.get(col) or None for col, k in CUSTOMER_FIELDS.items()}
    head["shipping_address"] = {k: row.get(col) or None for col, k in ADDRESS_FIELDS.items()}
    head["items"] = []
    return head


def _import_orders(rows: Iterator[tuple[int, dict[str, Any]]], state: _Progress, is_json: bool) -> None:
    from app.services.orders import create_order

    actor = Actor.system(f"import#{state.run_id}")
    for line, count, order in _order_groups(rows, is_json):
        if "__error__" in order:
            state.reject(line, order["__error__"])
        else:
            try:
                _, created = create_order(order, actor)
            except ValidationFailed as exc:
                db.session.rollback()
                state.reject(line, _message(exc), exc.details)
            except ServiceError as exc:
                db.session.rollback()
                state.reject(line, exc.message)
            else:
                state.created += created
                state.updated += not created
        state.done += count
        if state.done % BATCH < count:
            state.save()
    state.save()
