"""Writing an import's rows, a chunk per transaction, by the same operations as the API and the
admin forms: stock figures in bulk (`stock_levels.set_stock_chunk`), master data row by row in
savepoints (`records.upsert`), orders one by one (`orders.create_order`, which commits each).

Each writer goes on until the rows run out (returns False) or `deadline` passes (returns True:
the run continues in its next slice).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from itertools import islice
from typing import Any

from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from app.extensions import db
from app.schemas.catalog import StockRowIn
from app.services import human_input, records, said, stock_levels
from app.services.catalog import PRODUCTS
from app.services.errors import ServiceError, ValidationFailed
from app.services.imports.files import ADDRESS_FIELDS, CUSTOMER_FIELDS, Row, Source
from app.services.imports.progress import Progress
from app.services.inbound.purchase_orders import add_purchase_order
from app.services.locations import LOCATIONS
from app.services.masterdata import CHANNELS

RECORDS = {"locations": LOCATIONS, "channels": CHANNELS, "products": PRODUCTS}
# Stock rows per transaction: the first chunk has STOCK_CHUNK, later ones are sized so that their
# writes take about WRITE_SECONDS on this machine and database (a slow, busy box gets smaller
# chunks, so a writer waiting for SQLite's lock never waits long).
STOCK_CHUNK, STOCK_CHUNK_MIN, STOCK_CHUNK_MAX = 2000, 250, 5000
WRITE_SECONDS = 0.25
CHUNK_ROWS = 500  # other rows: at most this many per transaction...
CHUNK_SECONDS = 0.25  # ...and at most this long, so other writers never wait long for SQLite's lock
ORDER_FIELDS = ("number", "channel", "placed_at", "status", "delivery_type", "pickup_location", "payment_type",
                "cargo_company")


def write_rows(kind: str, source: Source, progress: Progress, deadline: float) -> bool:
    """Write rows of `kind` until they run out (False) or `deadline` (time.monotonic()) passes (True)."""
    if kind == "stock":
        return _stock(source.rows, progress, deadline)
    if kind == "orders":
        return _orders(_order_groups(source.rows, source.is_json), progress, deadline)
    if kind == "purchase_orders":
        return _purchase_orders(_purchase_order_groups(source.rows, source.is_json), progress, deadline)
    return _records(kind, source.rows, progress, deadline)


def _message(exc: ServiceError, lines: list | None = None) -> Any:
    """A row's problem to keep, each field's problem after its column as the file names it, said
    in the reader's language when the report is shown (`progress.problem`)."""
    if lines is None:
        lines = [_column_problem(k, v) for k, v in human_input.in_words_said(exc.details).items()]
    return said.joined(lines, "; ") if lines else exc.message


def _column_problem(column: str, problem: Any) -> Any:
    if column in human_input.WHOLE:
        return problem
    return said.said(said.N_("%(field)s: %(problem)s"), field=column, problem=problem)


def _could_not_save(exc: Exception) -> dict:
    return said.said(said.N_("Could not be saved: %(error)s."), error=exc.__class__.__name__)


# ------------------------------------------------------------------------------------------- stock

def _stock(rows: Iterator[Row], progress: Progress, deadline: float) -> bool:
    size = STOCK_CHUNK
    while time.monotonic() < deadline:
        chunk = list(islice(rows, size))
        if not chunk:
            return False
        readable = [(line, row) for line, _, row in chunk if "__error__" not in row]
        # Validation and lookups before the write transaction: the lock is held for the writes only.
        checked = stock_levels.check_stock_rows([human_input.clean(StockRowIn, row) for _, row in readable],
                                                progress.ids)
        with progress.chunk():
            started = time.monotonic()
            result = stock_levels.set_stock_chunk(checked, progress.actor, "import")
            took = max(time.monotonic() - started, 0.001)
            size = min(STOCK_CHUNK_MAX, max(STOCK_CHUNK_MIN, int(size * min(2.0, max(0.5, WRITE_SECONDS / took)))))
            problems = {readable[index][0]: details for index, details in result.problems.items()}
            for line, _, row in chunk:
                if "__error__" in row:
                    progress.reject(line, row["__error__"])
                elif line in problems:
                    kept = human_input.in_words_said(problems[line])
                    progress.reject(line, said.joined([_column_problem(k, v) for k, v in kept.items()], "; "),
                                    human_input.in_words(problems[line]))
                else:
                    progress.updated += 1
            progress.stock_changes.extend(result.changes.values())
            progress.passed(chunk[-1][0], chunk[-1][1], len(chunk))
    return True


# ------------------------------------------------------------------------------------- master data

def _records(kind: str, rows: Iterator[Row], progress: Progress, deadline: float) -> bool:
    record_kind = RECORDS[kind]
    more = True
    while more and time.monotonic() < deadline:
        with progress.chunk():
            started, count = time.monotonic(), 0
            while count < CHUNK_ROWS and time.monotonic() - started < CHUNK_SECONDS:
                item = next(rows, None)
                if item is None:
                    more = False
                    break
                line, position, row = item
                _record_row(record_kind, kind, line, row, progress)
                progress.passed(line, position)
                count += 1
    return more


def _record_row(record_kind: records.Kind, kind: str, line: int, row: dict[str, Any], progress: Progress) -> None:
    """Upsert one row in its own savepoint: a broken row is reported and never half-written."""
    if "__error__" in row:
        progress.reject(line, row["__error__"])
        return
    if kind == "products" and "barcodes" not in row and row.get("barcode"):
        row = {**row, "barcodes": row["barcode"]}
    try:
        with db.session.begin_nested():
            _, created = records.upsert(record_kind, human_input.clean(record_kind.schema, row), progress.actor)
    except ServiceError as exc:  # invalid (422) or a duplicate / clash (409)
        progress.reject(line, _message(exc), human_input.in_words(exc.details))
    except IntegrityError:
        progress.reject(line, said.said(said.N_("Conflicts with an existing record.")))
    except (SQLAlchemyError, ValueError, TypeError) as exc:
        progress.reject(line, _could_not_save(exc))
    else:
        progress.created += created
        progress.updated += not created


# ------------------------------------------------------------------------------------------ orders

def _orders(groups: Iterator[tuple[int, int, int, int, dict]], progress: Progress, deadline: float) -> bool:
    """Each order commits on its own (`create_order` is idempotent on channel + number, so an
    order written again after an interruption is only counted as updated)."""
    from app.services.orders import create_order

    saved_at, lines = time.monotonic(), 0
    for line, count, last, position, order in groups:
        if "__error__" in order:
            progress.reject(line, order["__error__"])
        else:
            try:
                _, created = create_order(order, progress.actor)
            except ValidationFailed as exc:
                db.session.rollback()
                progress.reject(line, _message(exc), exc.details)
            except ServiceError as exc:
                db.session.rollback()
                progress.reject(line, exc.message)
            else:
                progress.created += created
                progress.updated += not created
            progress.committed()
        progress.passed(last, position, count)
        lines += count
        if lines >= CHUNK_ROWS or time.monotonic() - saved_at >= CHUNK_SECONDS:
            progress.save()
            saved_at, lines = time.monotonic(), 0
            if time.monotonic() >= deadline:
                return True
    progress.save()
    return False


def _order_groups(rows: Iterator[Row], is_json: bool) -> Iterator[tuple[int, int, int, int, dict]]:
    """(first line, line count, last line, position after it, OrderIn-shaped dict): consecutive
    CSV lines of one order are its items, one each; a JSON entry is a whole order."""
    current: dict | None = None
    first = count = last = end = 0
    for line, position, row in rows:
        if is_json or "__error__" in row:
            if current:
                yield first, count, last, end, current
                current = None
            yield line, 1, line, position, row
            continue
        key = (row.get("channel"), row.get("number"))
        if current is None or key != (current["channel"], current["number"]):
            if current:
                yield first, count, last, end, current
            current, first, count = _order_head(row), line, 0
        current["items"].append({"sku": row.get("sku"), "quantity": row.get("quantity"),
                                 "price": row.get("price") or None})
        count, last, end = count + 1, line, position
    if current:
        yield first, count, last, end, current


def _order_head(row: dict[str, Any]) -> dict[str, Any]:
    head: dict[str, Any] = {f: (row.get(f) or None) for f in ORDER_FIELDS}
    head["delivery_type"] = head["delivery_type"] or "cargo"
    head["customer"] = {k: row.get(col) or None for col, k in CUSTOMER_FIELDS.items()}
    head["shipping_address"] = {k: row.get(col) or None for col, k in ADDRESS_FIELDS.items()}
    head["items"] = []
    return head


# ------------------------------------------------------------------------------- purchase orders

PURCHASE_ORDER_FIELDS = ("number", "supplier", "destination", "expected_at", "note")


def _purchase_orders(groups: Iterator[tuple[int, int, int, int, dict]], progress: Progress, deadline: float) -> bool:
    """Each purchase order (its consecutive lines) in a savepoint: one bad line refuses that
    whole purchase order, reported on its first line with the line at fault, and nothing of it
    is written; the others go on. Chunks commit like master data."""
    more = True
    while more and time.monotonic() < deadline:
        with progress.chunk():
            started, count = time.monotonic(), 0
            while count < CHUNK_ROWS and time.monotonic() - started < CHUNK_SECONDS:
                group = next(groups, None)
                if group is None:
                    more = False
                    break
                line, lines, last, position, po = group
                _purchase_order(line, po, progress)
                progress.passed(last, position, lines)
                count += lines
    return more


def _purchase_order(line: int, po: dict[str, Any], progress: Progress) -> None:
    if "__error__" in po:
        progress.reject(line, po["__error__"])
        return
    file_lines = po.pop("__lines__", [])
    try:
        with db.session.begin_nested():
            add_purchase_order(po, progress.actor)
    except ServiceError as exc:
        details = _po_line_details(human_input.in_words(exc.details), file_lines)
        progress.reject(line, _message(exc, _po_line_problems(human_input.in_words_said(exc.details), file_lines)),
                        details)
    except (SQLAlchemyError, ValueError, TypeError) as exc:
        progress.reject(line, _could_not_save(exc))
    else:
        progress.created += 1


def _po_line_details(details: dict[str, str], file_lines: list[int]) -> dict[str, str]:
    """"lines.2.sku" -> "line 14 sku": the file's line number instead of the position in the PO."""
    out = {}
    for key, message in details.items():
        parts = key.split(".")
        if len(parts) >= 2 and parts[0] == "lines" and parts[1].isdigit() and int(parts[1]) < len(file_lines):
            key = " ".join([f"line {file_lines[int(parts[1])]}", *parts[2:]])
        out[key] = message
    return out


def _po_line_problems(details: dict[str, Any], file_lines: list[int]) -> list[Any]:
    """`_po_line_details` as messages to keep: "line 14 sku: …" in the reader's language."""
    out = []
    for key, message in details.items():
        parts = str(key).split(".")
        if len(parts) >= 3 and parts[0] == "lines" and parts[1].isdigit() and int(parts[1]) < len(file_lines):
            where = said.said(said.N_("line %(line)s %(column)s"), line=file_lines[int(parts[1])],
                              column=" ".join(parts[2:]))
            out.append(said.said(said.N_("%(field)s: %(problem)s"), field=where, problem=message))
        else:
            out.append(_column_problem(key, message))
    return out


def _purchase_order_groups(rows: Iterator[Row], is_json: bool) -> Iterator[tuple[int, int, int, int, dict]]:
    """(first line, line count, last line, position after it, PurchaseOrderIn-shaped dict)."""
    current: dict | None = None
    first = count = last = end = 0
    for line, position, row in rows:
        if is_json or "__error__" in row:
            if current:
                yield first, count, last, end, current
                current = None
            yield line, 1, line, position, row
            continue
        if current is None or row.get("number") != current["number"]:
            if current:
                yield first, count, last, end, current
            current = {f: (row.get(f) or None) for f in PURCHASE_ORDER_FIELDS}
            current["lines"], current["__lines__"], first, count = [], [], line, 0
        current["lines"].append({"sku": row.get("sku"), "quantity": row.get("quantity"),
                                 "unit_cost": row.get("unit_cost") or None})
        current["__lines__"].append(line)
        count, last, end = count + 1, line, position
    if current:
        yield first, count, last, end, current
