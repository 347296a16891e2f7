"""Create and update master data from admin forms and imports: locations, channels, products,
cargo companies, denial reasons, stock adjustments and users.

Master data is validated by the same pydantic schemas as the API (app/schemas/catalog.py), so a
form, an import and an API call accept exactly the same records. `apply_record` / `apply_stock`
only flush, so the import job can run each row in its own savepoint; `save_record`,
`adjust_stock`, `update_user` and `reset_password` are the committing functions the admin forms
call. Every problem is a `ValidationFailed` whose `details` name the field, so forms show it in
place. (The API's own create/update services commit per call, which a row-per-savepoint import
cannot use.)
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy import select

from app.extensions import db
from app.models import CargoCompany, Channel, DenialReason, Product, ProductBarcode, StockLocation, User
from app.models.users import ROLES
from app.schemas import error_details
from app.schemas.catalog import CargoCompanyIn, ChannelIn, DenialReasonIn, LocationIn, ProductIn
from app.services import events, stock
from app.services.actors import Actor
from app.services.db import begin_write
from app.services.errors import NotFound, ValidationFailed
from app.services.representations import (
    channel_dict,
    denial_reason_dict,
    location_dict,
    product_dict,
)
from app.services.users import hash_password

STOCK_REASONS = ("count", "damaged", "found", "correction", "stock_sync")
TRUE = ("1", "true", "yes", "y", "on", "evet", "e")
FALSE = ("0", "false", "no", "n", "off", "hayır", "hayir", "h")


@dataclass(frozen=True)
class Kind:
    """One kind of master data: its table, key column, the API schema that validates it, and its
    current values (so an import row may leave fields out)."""

    model: Any
    key: str
    schema: type[BaseModel]
    label: str
    current: Callable[[Any], dict[str, Any]]
    lists: tuple[str, ...] = ()


KINDS = {
    "locations": Kind(StockLocation, "code", LocationIn, "location", location_dict, ("tags",)),
    "channels": Kind(Channel, "code", ChannelIn, "channel", channel_dict),
    "products": Kind(Product, "sku", ProductIn, "product", product_dict, ("barcodes",)),
    "cargo_companies": Kind(CargoCompany, "code", CargoCompanyIn, "cargo company",
                            lambda c: {"code": c.code, "name": c.name, "adapter": c.adapter, "config": c.config,
                                       "active": c.active}),
    "denial_reasons": Kind(DenialReason, "code", DenialReasonIn, "denial reason", denial_reason_dict),
}
PATTERN_HELP = {"code": "Use letters, digits, '-', '_' or '.' (no spaces).", "sku": "No spaces or slashes.",
                "barcodes": "Barcodes cannot contain spaces."}


def _clean(kind: Kind, data: dict[str, Any]) -> dict[str, Any]:
    """Form or CSV values in the API shape: blanks left out, yes/no words as booleans, lists split.
    Columns the schema does not know are ignored (imports report them)."""
    fields = kind.schema.model_fields
    out: dict[str, Any] = {}
    for name, info in fields.items():
        value = data.get(name)
        if isinstance(value, str):
            value = value.strip()
            if name in kind.lists:
                value = [v for v in re.split(r"[\s,;|]+" if name == "barcodes" else r"[,|]", value) if v.strip()]
            elif info.annotation is bool:
                value = True if value.lower() in TRUE else False if value.lower() in FALSE else value
            elif name == "weight_kg":
                value = value.replace(",", ".")
        if value is None or value == "":
            continue
        out[name] = [v.strip() for v in value] if name in kind.lists else value
    return out


def _friendly(details: dict[str, str]) -> dict[str, str]:
    out = {}
    for path, message in details.items():
        field = path.split(".")[0]
        if message.startswith("String should match pattern") and field in PATTERN_HELP:
            message = PATTERN_HELP[field]
        elif message == "Field required":
            message = "This field is required."
        out[field if field in PATTERN_HELP else path] = message
    return out


def apply_record(kind_name: str, data: dict[str, Any], key: str | None = None,
                 upsert: bool = False) -> tuple[Any, bool]:
    """Create (no `key`) or update the record `key` of one kind; with `upsert`, the row's own
    code/SKU picks the record and fields it leaves out keep their values. Flush only.
    Validated by the same schema as the API, plus duplicate and adapter checks."""
    kind = KINDS[kind_name]
    column = getattr(kind.model, kind.key)
    values = _clean(kind, data)
    obj = _target(kind, key, values.get(kind.key), upsert)
    if obj is not None and upsert:
        current = {k: v for k, v in kind.current(obj).items() if k in kind.schema.model_fields and v is not None}
        values = {**current, **values}
    try:
        body = kind.schema.model_validate(values).model_dump()
    except ValidationError as exc:
        raise ValidationFailed(f"The {kind.label} was not saved: check the highlighted fields.",
                               _friendly(error_details(exc))) from None
    errors: dict[str, str] = {}
    if key and body[kind.key] != key:  # codes are referenced by scenarios, imports and integrations
        errors[kind.key] = f"The {'SKU' if kind.key == 'sku' else 'code'} cannot be changed."
    found = db.session.scalar(select(kind.model.id).where(column == body[kind.key]))
    if found is not None and found != (obj.id if obj else None):
        errors[kind.key] = f"Another {kind.label} already uses this {'SKU' if kind.key == 'sku' else 'code'}."
    CHECKS.get(kind_name, lambda *_: None)(body, obj, errors)
    if errors:
        raise ValidationFailed(f"The {kind.label} was not saved: check the highlighted fields.", errors)
    created = obj is None
    if created:
        obj = kind.model()
        db.session.add(obj)
    previous = {} if created else kind.current(obj)
    for name, value in body.items():
        if name == "barcodes":
            _set_barcodes(obj, value)
        else:
            setattr(obj, name, value)
    db.session.flush()
    if kind_name == "locations":
        after = location_dict(obj)
        if created:
            events.emit("stock_location.created", "stock_location", obj.id, after)
        elif changed := {k: v for k, v in previous.items() if after.get(k) != v}:
            events.emit("stock_location.updated", "stock_location", obj.id, after, changed)
    return obj, created


def _target(kind: Kind, key: str | None, given: Any, upsert: bool):
    """The row to update: by `key` (must exist), by the row's own code when upserting, else None."""
    column = getattr(kind.model, kind.key)
    if key:
        obj = db.session.scalar(select(kind.model).where(column == key))
        if obj is None:
            raise NotFound(f"No {kind.label} {key!r}.")
        return obj
    if upsert and isinstance(given, str) and given:
        return db.session.scalar(select(kind.model).where(column == given))
    return None


def _check_product(body: dict, obj: Product | None, errors: dict) -> None:
    if body.get("image_url") and not body["image_url"].startswith(("http://", "https://", "/")):
        errors["image_url"] = "Enter an http(s) address."
    if body["barcodes"]:
        taken = db.session.scalars(select(ProductBarcode).where(ProductBarcode.barcode.in_(body["barcodes"]))).all()
        clash = sorted(b.barcode for b in taken if obj is None or b.product_id != obj.id)
        if clash:
            errors["barcodes"] = f"Already used by another product: {', '.join(clash)}."


def _check_cargo_company(body: dict, obj: CargoCompany | None, errors: dict) -> None:
    from app.services.carriers import CarrierError, get_adapter

    try:
        get_adapter(body["adapter"], body["config"])
    except CarrierError as exc:
        errors["config"] = str(exc)


CHECKS: dict[str, Callable[[dict, Any, dict], None]] = {
    "products": _check_product, "cargo_companies": _check_cargo_company}


def _set_barcodes(product: Product, barcodes: list[str]) -> None:
    # Keep rows for barcodes that stay: deleting and re-inserting one value in a flush trips the unique index.
    keep = {b.barcode: b for b in product.barcodes if b.barcode in barcodes}
    product.barcodes[:] = [keep.get(code) or ProductBarcode(barcode=code) for code in barcodes]


def save_record(kind: str, data: dict, key: str | None = None):
    """Create (`key` None) or update one master-data record of `kind` from a form. Commits."""
    begin_write()
    try:
        obj, _ = apply_record(kind, data, key)
    except Exception:
        db.session.rollback()
        raise
    db.session.commit()
    return obj


def _fail_if(errors: dict, what: str) -> None:
    if errors:
        raise ValidationFailed(f"The {what} was not saved: check the highlighted fields.", errors)


def _int(data: dict, key: str, errors: dict, *, minimum: int) -> int | None:
    value = data.get(key)
    if value in (None, ""):
        errors[key] = "This field is required."
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        errors[key] = "Enter a whole number."
        return None
    if number < minimum:
        errors[key] = f"Must be {minimum} or more."
    return number


# ------------------------------------------------------------------------------------------- stock

def _id_by(model, column, value: Any) -> int | None:
    if not value:
        return None
    return db.session.scalar(select(model.id).where(column == str(value).strip()))


def apply_stock(data: dict, actor_label: str, reason: str = "import", note: str | None = None,
                ids: dict | None = None) -> tuple[int, int, int, int]:
    """Set absolute on-hand for (location, sku). Flush only; returns (location_id, product_id, old, new).
    `ids` caches code/SKU lookups across the rows of one import."""
    errors: dict[str, str] = {}
    cache = ids if ids is not None else {}
    code, sku = str(data.get("location") or "").strip(), str(data.get("sku") or "").strip()
    if ("loc", code) not in cache:
        cache[("loc", code)] = _id_by(StockLocation, StockLocation.code, code)
    if ("sku", sku) not in cache:
        cache[("sku", sku)] = _id_by(Product, Product.sku, sku)
    location_id, product_id = cache[("loc", code)], cache[("sku", sku)]
    if location_id is None:
        errors["location"] = f"Unknown location {code!r}."
    if product_id is None:
        errors["sku"] = f"Unknown SKU {sku!r}."
    quantity = _int(data, "quantity", errors, minimum=0)
    _fail_if(errors, "stock figure")
    try:
        old, new = stock.set_on_hand(location_id, product_id, quantity, actor_label, reference=reason,
                                     reason=reason, note=note)
    except ValueError as exc:
        raise ValidationFailed("The stock figure was not saved.", {"quantity": f"Too low: {exc}."}) from exc
    return location_id, product_id, old, new


def adjust_stock(data: dict, actor: Actor) -> tuple[int, int]:
    """Admin stock adjustment with a ledger reason (and optional note). Commits."""
    reason = (data.get("reason") or "").strip()
    if reason not in STOCK_REASONS:
        raise ValidationFailed("The stock figure was not saved.", {"reason": "Choose a reason."})
    begin_write()
    try:
        location_id, product_id, old, new = apply_stock(data, actor.label, reason=reason,
                                                        note=(data.get("note") or "").strip()[:500] or None)
    except Exception:
        db.session.rollback()
        raise
    db.session.commit()
    if new > old:
        notify_stock_increase(location_id, {product_id})
    return old, new


def notify_stock_increase(location_id: int, product_ids: set[int]) -> None:
    """After commit: out-of-stock packages waiting for these products get a re-plan."""
    try:
        from app.services.planning.replan import on_stock_increase
    except ImportError:  # planning not installed: its periodic re-plan catches up
        return
    on_stock_increase(location_id, product_ids)


# ------------------------------------------------------------------------------------------- users

def update_user(user_id: int, data: dict) -> User:
    """Change a user's role, locations and active flag. Deactivating signs them out. Commits."""
    begin_write()
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    errors: dict[str, str] = {}
    role = data.get("role")
    if role not in ROLES:
        errors["role"] = f"Role must be one of: {', '.join(ROLES)}."
    codes = list(data.get("locations") or [])
    locations = list(db.session.scalars(select(StockLocation).where(StockLocation.code.in_(codes)))) if codes else []
    missing = sorted(set(codes) - {loc.code for loc in locations})
    if missing:
        errors["locations"] = f"Unknown location code(s): {', '.join(missing)}."
    elif role == "staff" and not locations:
        errors["locations"] = "Staff users need at least one location."
    if errors:
        db.session.rollback()
        raise ValidationFailed("The user was not saved: check the highlighted fields.", errors)
    active = data.get("active", True)
    active = active if isinstance(active, bool) else str(active).strip().lower() in TRUE
    if (not active and user.active) or role != user.role or set(codes) != {loc.code for loc in user.locations}:
        user.session_version += 1  # a narrower scope or a deactivation takes effect at once
    user.role, user.locations, user.active = role, locations, active
    db.session.commit()
    return user


def reset_password(user_id: int, password: str) -> User:
    """Set a new password and sign the user out everywhere. Commits."""
    if not password or len(password) < 8:
        raise ValidationFailed("The password was not changed.", {"password": "Use at least 8 characters."})
    begin_write()
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    user.password_hash = hash_password(password)
    user.session_version += 1
    db.session.commit()
    return user
