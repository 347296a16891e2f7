"""Master data other than locations: channels, products (one by one or in bulk), cargo companies,
denial reasons, and absolute stock figures from the brand's ERP. Only admins change master data."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import CargoCompany, Channel, DenialReason, Product, ProductBarcode, StockLocation
from app.schemas.catalog import (
    CargoCompanyIn,
    CargoCompanyPatch,
    ChannelIn,
    ChannelPatch,
    DenialReasonIn,
    DenialReasonPatch,
    ProductBulkIn,
    ProductIn,
    ProductPatch,
    StockPut,
)
from app.schemas.common import validate
from app.services import stock
from app.services.actors import Actor
from app.services.db import begin_write
from app.services.errors import Conflict, Forbidden, NotFound, ValidationFailed

# kind -> (model, create schema, patch schema); all three are keyed by `code`
_SIMPLE = {
    "channel": (Channel, ChannelIn, ChannelPatch),
    "cargo_company": (CargoCompany, CargoCompanyIn, CargoCompanyPatch),
    "denial_reason": (DenialReason, DenialReasonIn, DenialReasonPatch),
}
_LABELS = {"channel": "Channel", "cargo_company": "Cargo company", "denial_reason": "Denial reason",
           "product": "Product"}


def require_admin(actor: Actor) -> None:
    if actor.role not in ("admin", "system"):
        raise Forbidden("Only admins can change master data.")


def _duplicate(kind: str, key: str, field: str = "code") -> Conflict:
    return Conflict(f"{_LABELS[kind]} {key} already exists.", {field: "Already exists."}, code="duplicate")


def _commit(kind: str, key: str, field: str = "code") -> None:
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise _duplicate(kind, key, field) from None


# --- channels, cargo companies, denial reasons ---------------------------------------------------

def create_simple(kind: str, data: Any, actor: Actor):
    """Create a channel, cargo company or denial reason (`kind`) from its API shape. Commits."""
    require_admin(actor)
    model, schema, _patch = _SIMPLE[kind]
    values = validate(schema, data).model_dump()
    begin_write()
    if db.session.scalar(select(model.id).where(model.code == values["code"])):
        db.session.rollback()
        raise _duplicate(kind, values["code"])
    row = model(**values)
    db.session.add(row)
    _commit(kind, values["code"])
    return row


def update_simple(kind: str, code: str, data: Any, actor: Actor):
    """Change some fields of a channel, cargo company or denial reason (never its code). Commits."""
    require_admin(actor)
    model, _schema, patch = _SIMPLE[kind]
    changes = validate(patch, data).model_dump(exclude_unset=True)
    _reject_nulls(changes, model)
    begin_write()
    row = db.session.scalar(select(model).where(model.code == code).with_for_update())
    if row is None:
        db.session.rollback()
        raise NotFound(f"There is no {_LABELS[kind].lower()} {code}.")
    for key, value in changes.items():
        setattr(row, key, value)
    db.session.commit()
    return row


def get_simple(kind: str, code: str):
    model = _SIMPLE[kind][0]
    row = db.session.scalar(select(model).where(model.code == code))
    if row is None:
        raise NotFound(f"There is no {_LABELS[kind].lower()} {code}.")
    return row


def _reject_nulls(changes: dict[str, Any], model) -> None:
    """PATCH models make every field optional; null is still wrong for a NOT NULL column."""
    problems = {key: "May not be null." for key, value in changes.items()
                if value is None and not model.__table__.c[key].nullable}
    if problems:
        raise ValidationFailed("Some fields are not valid.", problems)


# --- products --------------------------------------------------------------------------------------

def get_product(sku: str) -> Product:
    product = db.session.scalar(select(Product).where(Product.sku == sku))
    if product is None:
        raise NotFound(f"There is no product {sku}.")
    return product


def create_product(data: Any, actor: Actor) -> Product:
    """Create one product with its barcodes. Commits. 409 when the SKU or a barcode is taken."""
    require_admin(actor)
    values = validate(ProductIn, data).model_dump()
    begin_write()
    if db.session.scalar(select(Product.id).where(Product.sku == values["sku"])):
        db.session.rollback()
        raise _duplicate("product", values["sku"], "sku")
    product = Product(sku=values["sku"])
    _check_barcodes({values["sku"]: values["barcodes"]})
    _apply_product(product, values)
    db.session.add(product)
    _commit("product", values["sku"], "sku")
    return product


def update_product(sku: str, data: Any, actor: Actor) -> Product:
    """Change some fields of a product; `barcodes`, when sent, replaces the list. Commits."""
    require_admin(actor)
    changes = validate(ProductPatch, data).model_dump(exclude_unset=True)
    if "barcodes" in changes and changes["barcodes"] is None:
        changes["barcodes"] = []
    _reject_nulls({k: v for k, v in changes.items() if k != "barcodes"}, Product)
    begin_write()
    product = db.session.scalar(select(Product).where(Product.sku == sku).with_for_update())
    if product is None:
        db.session.rollback()
        raise NotFound(f"There is no product {sku}.")
    if "barcodes" in changes:
        _check_barcodes({sku: changes["barcodes"]})
    _apply_product(product, changes)
    _commit("product", sku, "sku")
    return product


def upsert_products(data: Any, actor: Actor) -> tuple[int, int]:
    """Create or update products by SKU, all or nothing. Returns (created, updated). Commits."""
    require_admin(actor)
    rows = [row.model_dump() for row in validate(ProductBulkIn, data).root]
    problems: dict[str, str] = {}
    first_row: dict[str, int] = {}
    barcode_row: dict[str, int] = {}
    for index, row in enumerate(rows):
        if row["sku"] in first_row:
            problems[f"{index}.sku"] = f"Same SKU as row {first_row[row['sku']]}."
        first_row.setdefault(row["sku"], index)
        for barcode in row["barcodes"]:
            if barcode in barcode_row and barcode_row[barcode] != index:
                problems[f"{index}.barcodes"] = f"Barcode {barcode} is also in row {barcode_row[barcode]}."
            barcode_row.setdefault(barcode, index)
    if problems:
        raise ValidationFailed("Some products are not valid; nothing was saved.", problems)
    begin_write()
    existing = {p.sku: p for p in db.session.scalars(
        select(Product).where(Product.sku.in_(first_row)).options(selectinload(Product.barcodes)))}
    _check_barcodes({row["sku"]: row["barcodes"] for row in rows}, rows_index=first_row)
    created = 0
    for row in rows:
        product = existing.get(row["sku"])
        if product is None:
            product = Product(sku=row["sku"])
            db.session.add(product)
            created += 1
        _apply_product(product, row)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict("Another request changed these products at the same time; try again.",
                       code="duplicate") from None
    return created, len(rows) - created


def _check_barcodes(wanted: dict[str, list[str]], rows_index: dict[str, int] | None = None) -> None:
    """A barcode identifies one product: taking one that belongs to another SKU is a conflict."""
    all_codes = {code for codes in wanted.values() for code in codes}
    if not all_codes:
        return
    owners = dict(db.session.execute(
        select(ProductBarcode.barcode, Product.sku).join(Product)
        .where(ProductBarcode.barcode.in_(all_codes))).all())
    problems = {}
    for sku, codes in wanted.items():
        taken = [code for code in codes if owners.get(code, sku) != sku]
        if taken:
            field = f"{rows_index[sku]}.barcodes" if rows_index is not None else "barcodes"
            problems[field] = f"Barcode {taken[0]} belongs to product {owners[taken[0]]}."
    if problems:
        db.session.rollback()
        raise Conflict("A barcode already belongs to another product.", problems, code="duplicate")


def _apply_product(product: Product, values: dict[str, Any]) -> None:
    for key in ("name", "weight_kg", "image_url"):
        if key in values:
            setattr(product, key, values[key])
    if "barcodes" in values:
        # Keep rows for barcodes that stay: deleting and re-inserting the same value in one
        # flush would trip the unique index (inserts are flushed before deletes).
        keep = {b.barcode: b for b in product.barcodes if b.barcode in values["barcodes"]}
        product.barcodes[:] = [keep.get(code) or ProductBarcode(barcode=code) for code in values["barcodes"]]


# --- stock -----------------------------------------------------------------------------------------

def set_stock_levels(data: Any, actor: Actor, reference: str | None = None) -> tuple[int, int]:
    """Set absolute on-hand figures ([{location, sku, quantity}]), all or none: an unknown
    location or SKU, a repeated row, or a figure below what is reserved fails that row (422)
    and nothing is written. Each change writes the ledger with reason "stock_sync". Commits.
    Returns (changed rows, unchanged rows)."""
    require_admin(actor)
    rows = [row.model_dump() for row in validate(StockPut, data).root]
    locations = dict(db.session.execute(select(StockLocation.code, StockLocation.id).where(
        StockLocation.code.in_({r["location"] for r in rows}))).all())
    products = dict(db.session.execute(select(Product.sku, Product.id).where(
        Product.sku.in_({r["sku"] for r in rows}))).all())
    problems: dict[str, str] = {}
    seen: dict[tuple[str, str], int] = {}
    for index, row in enumerate(rows):
        if row["location"] not in locations:
            problems[f"{index}.location"] = f"There is no location {row['location']}."
        if row["sku"] not in products:
            problems[f"{index}.sku"] = f"There is no product {row['sku']}."
        pair = (row["location"], row["sku"])
        if pair in seen:
            problems[f"{index}.sku"] = f"Same location and SKU as row {seen[pair]}."
        seen.setdefault(pair, index)
    if problems:
        raise ValidationFailed("Some stock rows are not valid; nothing was saved.", problems)
    begin_write()
    changed = 0
    increased: dict[int, set[int]] = {}
    # Fixed (location, product) order, as every stock writer uses, so concurrent syncs cannot deadlock.
    ordered = sorted(enumerate(rows), key=lambda r: (locations[r[1]["location"]], products[r[1]["sku"]]))
    for index, row in ordered:
        location_id, product_id = locations[row["location"]], products[row["sku"]]
        try:
            old, new = stock.set_on_hand(location_id, product_id, row["quantity"], actor.label,
                                         reference=reference, reason="stock_sync")
        except ValueError as exc:
            problems[f"{index}.quantity"] = f"Too low: {exc}."
            continue
        changed += old != new
        if new > old:
            increased.setdefault(location_id, set()).add(product_id)
    if problems:
        db.session.rollback()
        raise ValidationFailed("Some stock rows are not valid; nothing was saved.", problems)
    db.session.commit()
    _replan_after_increase(increased)
    return changed, len(rows) - changed


def _replan_after_increase(increased: dict[int, set[int]]) -> None:
    """Out-of-stock packages wanting a SKU that just arrived are re-planned by a job (SPEC §6.4)."""
    from app.services.planning import on_stock_increase

    for location_id, product_ids in increased.items():
        on_stock_increase(location_id, product_ids)
