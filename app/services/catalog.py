"""Products and their barcodes: the record kind every edge writes through `services.records`, and
the API's all-or-nothing bulk upsert. A barcode identifies one product, so taking one another
product holds is a clash (409). Flush only; the edges commit."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import Product, ProductBarcode
from app.schemas.catalog import ProductBulkIn, ProductIn, ProductPatch
from app.schemas.common import validate
from app.services import records
from app.services.actors import Actor
from app.services.errors import Conflict, ValidationFailed
from app.services.representations import product_dict

BARCODE_TAKEN = "A barcode already belongs to another product."


def _check(body: dict[str, Any]) -> dict[str, str]:
    if body.get("image_url") and not body["image_url"].startswith(("http://", "https://", "/")):
        return {"image_url": "Enter an http(s) address."}
    return {}


def barcodes_taken(wanted: dict[str, list[str]]) -> dict[str, list[tuple[str, str]]]:
    """For each SKU, the barcodes it asks for that another product holds, with that product's SKU
    (one query)."""
    codes = {code for values in wanted.values() for code in values}
    if not codes:
        return {}
    owners = dict(db.session.execute(select(ProductBarcode.barcode, Product.sku).join(Product)
                                     .where(ProductBarcode.barcode.in_(codes))).all())
    taken = {sku: sorted((code, owners[code]) for code in values if owners.get(code, sku) != sku)
             for sku, values in wanted.items()}
    return {sku: values for sku, values in taken.items() if values}


def _taken_message(taken: list[tuple[str, str]]) -> str:
    return _("Already used by another product: %(barcodes)s.",
             barcodes=", ".join(f"{code} ({owner})" for code, owner in taken))


def _conflicts(body: dict[str, Any], _product: Product | None) -> dict[str, str]:
    taken = barcodes_taken({body["sku"]: body["barcodes"]})
    return {"barcodes": _taken_message(taken[body["sku"]])} if taken else {}


def set_barcodes(product: Product, barcodes: list[str]) -> None:
    # Keep rows for barcodes that stay: deleting and re-inserting the same value in one flush
    # would trip the unique index (inserts are flushed before deletes).
    keep = {b.barcode: b for b in product.barcodes if b.barcode in barcodes}
    product.barcodes[:] = [keep.get(code) or ProductBarcode(barcode=code) for code in barcodes]


PRODUCTS = records.Kind(
    Product, "sku", ProductIn, ProductPatch, "product", product_dict, check=_check, conflicts=_conflicts,
    conflict_message=BARCODE_TAKEN, setters={"barcodes": set_barcodes}, null_as={"barcodes": []})


def upsert_products(data: Any, actor: Actor) -> tuple[int, int]:
    """Create or replace products by SKU (`ProductBulkIn`), all or nothing, with the same rules
    as one product; problems name the row ("3.name"). Flushes. Returns (created, updated)."""
    records.require_admin(actor)
    rows = [row.model_dump() for row in validate(ProductBulkIn, data, records.INVALID).root]
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
        problems.update({f"{index}.{name}": message for name, message in _check(row).items()})
    if problems:
        raise ValidationFailed(_('Some products are not valid; nothing was saved.'), problems)
    taken = barcodes_taken({row["sku"]: row["barcodes"] for row in rows})
    if taken:
        raise Conflict(BARCODE_TAKEN, {f"{first_row[sku]}.barcodes": _taken_message(codes)
                                       for sku, codes in taken.items()}, code="duplicate")
    existing = {p.sku: p for p in db.session.scalars(
        select(Product).where(Product.sku.in_(first_row)).options(selectinload(Product.barcodes)))}
    created = 0
    for row in rows:
        product = existing.get(row["sku"])
        if product is None:
            product = Product()
            db.session.add(product)
            created += 1
        records.assign(PRODUCTS, product, row)
    try:
        db.session.flush()
    except IntegrityError:
        raise Conflict(_('Another request changed these products at the same time; try again.'),
                       code="duplicate") from None
    return created, len(rows) - created
