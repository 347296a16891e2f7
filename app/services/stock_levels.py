"""Absolute stock figures: the ERP's sync (PUT /api/v1/stock), an admin's count or correction and
the stock import all set on-hand here, validated by the API's schema, each change in the ledger.
The import sets a whole chunk of figures at once (`set_stock_chunk`): a handful of statements
per chunk, whatever its size, with the same rules and messages per row as `set_stock_level`.

The operations flush only; the edge commits and then calls `replan_after_increase`, the one
"stock went up" hook, so out-of-stock packages wanting a SKU that arrived are planned again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import select

from app.extensions import db
from app.models import Package, PackageItem, Product, StockLedger, StockLocation
from app.models.base import utcnow
from app.schemas.catalog import StockPut, StockRowIn
from app.schemas.common import validate
from app.services import stock
from app.services.actors import Actor
from app.services.db import in_values
from app.services.errors import ValidationFailed
from app.services.planning.replan import on_stock_increase
from app.services.planning.writer import bulk_insert, rows_from
from app.services.records import require_admin

STOCK_REASONS = ("count", "damaged", "found", "correction", "stock_sync")  # an admin's choices
ROWS_INVALID = "Some stock rows are not valid; nothing was saved."
ROW_INVALID = "The stock figure was not saved."
PAIR = (("l", "int"), ("p", "int"))
FIGURE = (*PAIR, ("q", "int"))


@dataclass(frozen=True)
class LevelChange:
    """One figure set: on-hand at a location before and after."""

    location_id: int
    product_id: int
    old: int
    new: int


def set_stock_levels(data: Any, actor: Actor, reference: str | None = None) -> list[LevelChange]:
    """Set absolute on-hand figures ([{location, sku, quantity}], `StockPut`), all or none: an
    unknown location or SKU, a repeated row, or a figure below what is reserved fails that row
    ("3.quantity") and the caller rolls back. Ledger reason "stock_sync". Flushes; returns one
    change per row, in the request's order."""
    require_admin(actor)
    rows = [row.model_dump() for row in validate(StockPut, data, ROWS_INVALID).root]
    ids = _look_up(rows, {})
    problems: dict[str, str] = {}
    seen: dict[tuple[str, str], int] = {}
    for index, row in enumerate(rows):
        problems.update({f"{index}.{name}": message for name, message in _unknown(row, ids).items()})
        pair = (row["location"], row["sku"])
        if pair in seen:
            problems[f"{index}.sku"] = _("Same location and SKU as row %(row)s.", row=seen[pair])
        seen.setdefault(pair, index)
    if problems:
        raise ValidationFailed(ROWS_INVALID, problems)
    changes: dict[int, LevelChange] = {}
    # Fixed (location, product) order, as every stock writer uses, so concurrent syncs cannot deadlock.
    for index, row in sorted(enumerate(rows), key=lambda r: (ids[_loc(r[1])], ids[_sku(r[1])])):
        try:
            changes[index] = _set(row, ids, actor.label, reason="stock_sync", reference=reference)
        except ValueError as exc:
            problems[f"{index}.quantity"] = f"Too low: {exc}."
    if problems:
        raise ValidationFailed(ROWS_INVALID, problems)
    return [changes[index] for index in range(len(rows))]


def set_stock_level(data: Any, actor: Actor, reason: str, note: str | None = None,
                    ids: dict | None = None) -> LevelChange:
    """Set one absolute figure ({location, sku, quantity}, `StockRowIn`) with a ledger reason,
    reference and optional note; problems name the field ("quantity"). `ids` caches code and
    SKU lookups across the lines of one import. Flushes."""
    require_admin(actor)
    row = validate(StockRowIn, data, ROW_INVALID).model_dump()
    ids = _look_up([row], ids if ids is not None else {})
    problems = _unknown(row, ids)
    if problems:
        raise ValidationFailed(ROW_INVALID, problems)
    try:
        return _set(row, ids, actor.label, reason=reason, reference=reason, note=note)
    except ValueError as exc:
        raise ValidationFailed(ROW_INVALID, {"quantity": _('Too low: %(exc)s.', exc=exc)}) from None


@dataclass
class CheckedRows:
    """Stock rows read for `set_stock_chunk`, by their index in the chunk: the valid ones as
    (location_id, product_id, quantity), the others' problems."""

    valid: dict[int, tuple[int, int, int]]
    problems: dict[int, dict[str, str]]


@dataclass
class ChunkResult:
    """What `set_stock_chunk` did with each row, by the row's index in the chunk."""

    changes: dict[int, LevelChange]
    problems: dict[int, dict[str, str]]


def check_stock_rows(rows: list[Any], ids: dict | None = None) -> CheckedRows:
    """Validate absolute figures ({location, sku, quantity} each, `StockRowIn`) and resolve their
    codes and SKUs in two queries; a row that is not valid or names an unknown location or SKU
    gets its problems, worded as `set_stock_level` words them. Reads only: callers do this before
    their write transaction. `ids` caches the lookups across chunks."""
    ids = ids if ids is not None else {}
    checked = CheckedRows({}, {})
    valid: dict[int, dict[str, Any]] = {}
    for index, data in enumerate(rows):
        try:
            valid[index] = validate(StockRowIn, data, ROW_INVALID).model_dump()
        except ValidationFailed as exc:
            checked.problems[index] = exc.details
    _look_up(list(valid.values()), ids)
    for index, row in valid.items():
        unknown = _unknown(row, ids)
        if unknown:
            checked.problems[index] = unknown
        else:
            checked.valid[index] = (ids[_loc(row)], ids[_sku(row)], row["quantity"])
    return checked


def set_stock_chunk(checked: CheckedRows, actor: Actor, reason: str) -> ChunkResult:
    """Set the checked figures in bulk, in order, each row on its own: a figure below the units
    reserved there is that row's problem ("quantity": "Too low: ..."), a pair named twice ends at
    its last figure, and every change is in the ledger (reason and reference `reason`). One read
    (locking, on PostgreSQL) of the chunk's stock rows (a second after making the missing ones)
    and multi-row writes, whatever the number of rows. Flushes."""
    require_admin(actor)
    result = ChunkResult({}, dict(checked.problems))
    changes, too_low = _write_chunk(checked.valid, actor.label, reason)
    result.changes.update(changes)
    result.problems.update(too_low)
    return result


def _write_chunk(valid: dict[int, tuple[int, int, int]], actor_label: str,
                 reason: str) -> tuple[dict[int, LevelChange], dict[int, dict[str, str]]]:
    pairs = sorted({(location_id, product_id) for location_id, product_id, _unused in valid.values()})
    now = utcnow()
    existing = _levels(pairs)  # (location_id, product_id) -> (on_hand, reserved)
    missing = [pair for pair in pairs if pair not in existing]
    if missing:
        # The rows the chunk lacks are made first, holding 0, then read back locked with the rest:
        # a row another writer (an admin's count) made meanwhile is waited for and found, instead
        # of the chunk losing a race on it (it was retried, and a busy admin could fail the import).
        rows_from("INSERT INTO stock (location_id, product_id, on_hand, reserved, updated_at) "
                  "SELECT v.l, v.p, v.q, 0, :now FROM {rows} WHERE true "
                  "ON CONFLICT (location_id, product_id) DO NOTHING RETURNING location_id",
                  FIGURE, [(*pair, 0) for pair in missing], {"now": now})
        existing.update(_levels(missing))
    on_hand = {pair: existing[pair][0] for pair in pairs}
    changes: dict[int, LevelChange] = {}
    problems: dict[int, dict[str, str]] = {}
    ledger: list[dict[str, Any]] = []
    for index, (location_id, product_id, new) in valid.items():  # in the file's order
        pair = (location_id, product_id)
        reserved = existing[pair][1]
        old = on_hand[pair]
        if new < reserved:
            problems[index] = {"quantity": ngettext(
                "Too low: %(num)s unit is reserved for open packages or transfers.",
                "Too low: %(num)s units are reserved for open packages or transfers.", reserved)}
            continue
        on_hand[pair] = new
        changes[index] = LevelChange(pair[0], pair[1], old, new)
        if new != old:
            ledger.append({"location_id": pair[0], "product_id": pair[1], "on_hand_delta": new - old,
                           "reserved_delta": 0, "on_hand_after": new, "reserved_after": reserved, "reason": reason,
                           "actor": actor_label, "reference": reason, "note": None, "created_at": now})
    changed = [(*pair, on_hand[pair]) for pair, (before, _unused) in existing.items() if on_hand[pair] != before]
    rows_from("UPDATE stock SET on_hand = v.q, updated_at = :now FROM {rows} "
              "WHERE stock.location_id = v.l AND stock.product_id = v.p", FIGURE, changed, {"now": now})
    bulk_insert(StockLedger.__table__, ledger)
    return changes, problems


def _levels(pairs: list[tuple[int, int]]) -> dict[tuple[int, int], tuple[int, int]]:
    """Current (on_hand, reserved) of the stock rows that exist among `pairs`; on PostgreSQL the
    rows are locked in (location, product) order, as every stock writer takes them."""
    lock = " ORDER BY stock.location_id, stock.product_id FOR UPDATE OF stock"
    if db.session.connection().dialect.name != "postgresql":
        lock = ""  # SQLite: the write transaction already holds the database's write lock
    found = rows_from("SELECT stock.location_id, stock.product_id, stock.on_hand, stock.reserved FROM stock "
                      "JOIN {rows} ON stock.location_id = v.l AND stock.product_id = v.p" + lock,
                      PAIR, pairs, {})
    return {(loc, product): (held, reserved) for loc, product, held, reserved in found}


def adjust_stock(data: dict[str, Any], actor: Actor) -> LevelChange:
    """An admin's count or correction: {location, sku, quantity, reason, note}; the reason is one
    of STOCK_REASONS. Flushes."""
    reason = (data.get("reason") or "").strip()
    if reason not in STOCK_REASONS:
        raise ValidationFailed(ROW_INVALID, {"reason": _('Choose a reason.')})
    note = (data.get("note") or "").strip()[:500] or None
    row = {name: data.get(name) for name in ("location", "sku", "quantity")}
    return set_stock_level(row, actor, reason, note=note)


def replan_after_increase(changes: Iterable[LevelChange]) -> None:
    """Call after the commit: out-of-stock packages waiting for a product whose figure went up
    get a re-plan job (SPEC §6.4). Every edge that sets figures calls this one hook."""
    increased: dict[int, set[int]] = {}
    for change in changes:
        if change.new > change.old:
            increased.setdefault(change.location_id, set()).add(change.product_id)
    if not increased:
        return
    # One look first at what out-of-stock packages want (usually nothing, or a few SKUs): an
    # import chunk raises hundreds of figures and must not ask once per location.
    wanted = set(db.session.scalars(select(PackageItem.product_id).join(Package)
                                    .where(Package.state == "out_of_stock").distinct()))
    for location_id, product_ids in increased.items():
        if product_ids & wanted:
            on_stock_increase(location_id, product_ids & wanted)


def _loc(row: dict[str, Any]) -> tuple[str, str]:
    return ("location", row["location"])


def _sku(row: dict[str, Any]) -> tuple[str, str]:
    return ("sku", row["sku"])


def _look_up(rows: list[dict[str, Any]], ids: dict) -> dict:
    """Fill `ids` with ("location", code) and ("sku", sku) -> id (None when unknown), two queries."""
    codes = {row["location"] for row in rows if _loc(row) not in ids}
    skus = {row["sku"] for row in rows if _sku(row) not in ids}
    if codes:
        found = dict(db.session.execute(select(StockLocation.code, StockLocation.id)
                                        .where(in_values(StockLocation.code, codes))).all())
        ids.update({("location", code): found.get(code) for code in codes})
    if skus:
        found = dict(db.session.execute(select(Product.sku, Product.id).where(in_values(Product.sku, skus))).all())
        ids.update({("sku", sku): found.get(sku) for sku in skus})
    return ids


def _unknown(row: dict[str, Any], ids: dict) -> dict[str, str]:
    problems = {}
    if ids[_loc(row)] is None:
        problems["location"] = _("Unknown location '%(code)s'.", code=row["location"])
    if ids[_sku(row)] is None:
        problems["sku"] = _("Unknown SKU '%(sku)s'.", sku=row["sku"])
    return problems


def _set(row: dict[str, Any], ids: dict, actor_label: str, *, reason: str, reference: str | None,
         note: str | None = None) -> LevelChange:
    location_id, product_id = ids[_loc(row)], ids[_sku(row)]
    old, new = stock.set_on_hand(location_id, product_id, row["quantity"], actor_label, reference=reference,
                                 reason=reason, note=note)
    return LevelChange(location_id, product_id, old, new)
