"""Small factories for tests: each creates one row with sensible defaults and flushes (API tokens
are committed: the requests that use them run in their own sessions)."""

from __future__ import annotations

import itertools
from decimal import Decimal

from app.extensions import db
from app.models import (
    CargoCompany,
    Channel,
    DenialReason,
    Product,
    ProductBarcode,
    Stock,
    StockLocation,
    User,
)
from app.services.users import create_token, hash_password

_seq = itertools.count(1)
PASSWORD = "correct-horse-battery"


def location(code: str | None = None, **kw) -> StockLocation:
    n = next(_seq)
    values = dict(code=code or f"LOC-{n}", name=f"Store {n}", type="store", city="Istanbul", district="Kadıköy",
                  latitude=41.0, longitude=29.0, priority=10, is_packaging_center=True, is_transfer_source=True,
                  is_pickup_location=True, active=True, tags=[])
    values.update(kw)
    obj = StockLocation(**values)
    db.session.add(obj)
    db.session.flush()
    return obj


def channel(code: str = "web", **kw) -> Channel:
    obj = Channel(code=code, name=kw.pop("name", code.title()), **kw)
    db.session.add(obj)
    db.session.flush()
    return obj


def product(sku: str | None = None, barcode: str | None = None, **kw) -> Product:
    n = next(_seq)
    obj = Product(sku=sku or f"SKU-{n}", name=kw.pop("name", f"Product {n}"),
                  weight_kg=kw.pop("weight_kg", Decimal("0.5")), **kw)
    obj.barcodes.append(ProductBarcode(barcode=barcode or f"869{n:010d}"))
    db.session.add(obj)
    db.session.flush()
    return obj


def stock(loc: StockLocation, prod: Product, on_hand: int, reserved: int = 0) -> Stock:
    obj = Stock(location_id=loc.id, product_id=prod.id, on_hand=on_hand, reserved=reserved)
    db.session.add(obj)
    db.session.flush()
    return obj


def cargo_company(code: str = "demo", **kw) -> CargoCompany:
    obj = CargoCompany(code=code, name=kw.pop("name", "Demo Cargo"), adapter=kw.pop("adapter", "demo"),
                       config=kw.pop("config", {}), **kw)
    db.session.add(obj)
    db.session.flush()
    return obj


def denial_reason(code: str = "damaged", **kw) -> DenialReason:
    obj = DenialReason(code=code, title=kw.pop("title", "Item damaged"), active=kw.pop("active", True), **kw)
    db.session.add(obj)
    db.session.flush()
    return obj


def user(username: str | None = None, role: str = "staff", locations: list[StockLocation] | None = None,
         password: str = PASSWORD, active: bool = True) -> User:
    obj = User(username=username or f"user{next(_seq)}", role=role, password_hash=hash_password(password),
               active=active, locations=locations or [])
    db.session.add(obj)
    db.session.flush()
    return obj


def api_token(username: str, name: str | None = None) -> str:
    """A raw API token for an existing user, made by the users service and committed."""
    raw = create_token(username, name)
    db.session.commit()
    return raw
