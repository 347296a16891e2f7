"""CSV written as it is read: the one way every list (orders, packages, the stock ledger, the
audit log, KPI tables) leaves Packline as a file.

`csv_chunks` turns rows into CSV text a block at a time, `stream_rows` reads a query in batches
(a server-side cursor on PostgreSQL), and `csv_response` sends both as a streamed HTTP answer, so
neither the web process nor the job ever holds a whole file: an export of millions of rows costs
the memory of one block. Cells that a spreadsheet would run as a formula (starting with `=`, `+`,
`-`, `@`, tab or carriage return) get a leading apostrophe (CSV injection).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import Response, stream_with_context
from sqlalchemy import Select

from app.extensions import db
from app.models.base import iso

BLOCK_ROWS = 500  # rows per yielded block of text
BATCH_ROWS = 1000  # rows fetched from the database at a time
BOM = "\ufeff"  # so spreadsheet programs (Excel in Turkish too) read the file as UTF-8
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: Any) -> str:
    """One value as CSV text: times in ISO 8601 UTC, no formula a spreadsheet would run."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return iso(value) or ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (int, float, Decimal)):
        return str(value)
    text = str(value)
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


def csv_chunks(header: Sequence[str], rows: Iterable[Sequence[Any]], *, bom: bool = True,
               block_rows: int = BLOCK_ROWS) -> Iterator[str]:
    """The CSV text of `header` and `rows`, yielded a block of `block_rows` rows at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    if bom:
        buffer.write(BOM)
    writer.writerow([cell(name) for name in header])
    count = 0
    for row in rows:
        writer.writerow([cell(value) for value in row])
        count += 1
        if count % block_rows == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    rest = buffer.getvalue()
    if rest:
        yield rest


def stream_rows(stmt: Select, batch: int = BATCH_ROWS) -> Iterator[Any]:
    """The rows of `stmt` fetched `batch` at a time (ORM entities when it selects one, else Row
    tuples). PostgreSQL reads them through a server-side cursor; SQLite steps its cursor."""
    result = db.session.execute(stmt.execution_options(yield_per=batch, stream_results=True))
    if len(stmt.selected_columns) == 1 and _selects_entity(stmt):
        result = result.scalars()
    for partition in result.partitions(batch):
        yield from partition


def _selects_entity(stmt: Select) -> bool:
    descriptions = stmt.column_descriptions
    return len(descriptions) == 1 and descriptions[0].get("entity") is not None \
        and descriptions[0].get("expr") is descriptions[0].get("entity")


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> Response:
    """A streamed `text/csv` download; the rows are read while the answer is being sent."""
    return text_response(filename, csv_chunks(header, rows))


def text_response(filename: str, blocks: Iterable[str]) -> Response:
    """A streamed `text/csv` download of CSV text already cut into blocks (a stored export)."""
    response = Response(stream_with_context(blocks), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{_safe_filename(filename)}"'
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Accel-Buffering"] = "no"  # nginx: pass blocks on as they come
    return response


def _safe_filename(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "-_." else "-" for c in name)
    return cleaned.strip(".-") or "export.csv"


def table_rows(rows: Iterable[Any], columns: Sequence[tuple[str, Callable[[Any], Any]]]) -> Iterator[list[Any]]:
    """Rows of objects or dicts turned into CSV rows by `columns` ((header, getter) pairs), for
    small in-memory tables such as a KPI table: `csv_response(name, [h for h, _ in cols],
    table_rows(rows, cols))`."""
    for row in rows:
        yield [getter(row) for _, getter in columns]
