"""Absolute stock figures: the ERP's sync (PUT /api/v1/stock), an admin's count or correction and
the stock import all set on-hand here, validated by the API's schema, each change in the ledger.

The operations flush only; the edge commits and then calls `replan_after_increase`, the one
"stock went up" hook, so out-of-stock packages wanting a SKU that arrived are planned again.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from app.extensions import db
from app.models import Product, StockLocation
from app.schemas.catalog import StockPut, StockRowIn
from app.schemas.common import validate
from app.services import stock
from app.services.actors import Actor
from app.services.errors import ValidationFailed
from app.services.planning.replan import on_stock_increase
from app.services.records import require_admin

STOCK_REASONS = ("count", "damaged", "found", "correction", "stock_sync")  # an admin's choices
ROWS_INVALID = "Some stock rows are not valid; nothing was saved."
ROW_INVALID = "The stock figure was not saved."


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
            problems[f"{index}.sku"] = f"Same location and SKU as row {seen[pair]}."
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
        raise ValidationFailed(ROW_INVALID, {"quantity": f"Too low: {exc}."}) from None


def adjust_stock(data: dict[str, Any], actor: Actor) -> LevelChange:
    """An admin's count or correction: {location, sku, quantity, reason, note}; the reason is one
    of STOCK_REASONS. Flushes."""
    reason = (data.get("reason") or "").strip()
    if reason not in STOCK_REASONS:
        raise ValidationFailed(ROW_INVALID, {"reason": "Choose a reason."})
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
    for location_id, product_ids in increased.items():
        on_stock_increase(location_id, product_ids)


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
                                        .where(StockLocation.code.in_(codes))).all())
        ids.update({("location", code): found.get(code) for code in codes})
    if skus:
        found = dict(db.session.execute(select(Product.sku, Product.id).where(Product.sku.in_(skus))).all())
        ids.update({("sku", sku): found.get(sku) for sku in skus})
    return ids


def _unknown(row: dict[str, Any], ids: dict) -> dict[str, str]:
    problems = {}
    if ids[_loc(row)] is None:
        problems["location"] = f"Unknown location {row['location']!r}."
    if ids[_sku(row)] is None:
        problems["sku"] = f"Unknown SKU {row['sku']!r}."
    return problems


def _set(row: dict[str, Any], ids: dict, actor_label: str, *, reason: str, reference: str | None,
         note: str | None = None) -> LevelChange:
    location_id, product_id = ids[_loc(row)], ids[_sku(row)]
    old, new = stock.set_on_hand(location_id, product_id, row["quantity"], actor_label, reference=reference,
                                 reason=reason, note=note)
    return LevelChange(location_id, product_id, old, new)
