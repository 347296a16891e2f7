"""Sales channels, products with their barcodes, cargo companies and denial reasons."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import Timestamped, one_of

CARRIER_ADAPTERS = ("demo", "http")


class Channel(Timestamped, db.Model):
    __tablename__ = "channels"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    provides_shipping_label: Mapped[bool] = mapped_column(Boolean, default=False)
    # How orders arrive and status/stock flow back (SPEC §13): "api" (pushed to our API),
    # "shopify", "woocommerce", "trendyol". `config` holds secrets: never log or return it raw.
    adapter: Mapped[str] = mapped_column(String(16), default="api", server_default="api")
    config: Mapped[dict | None] = mapped_column(JSON, default=dict)


class Product(Timestamped, db.Model):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    weight_kg: Mapped[Decimal | None] = mapped_column(Numeric(10, 3))
    image_url: Mapped[str | None] = mapped_column(String(1000))

    barcodes: Mapped[list[ProductBarcode]] = relationship(
        back_populates="product", cascade="all, delete-orphan", order_by="ProductBarcode.id"
    )

    @property
    def barcode_values(self) -> list[str]:
        return [b.barcode for b in self.barcodes]


class ProductBarcode(db.Model):
    __tablename__ = "product_barcodes"

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), index=True)
    barcode: Mapped[str] = mapped_column(String(100), unique=True)

    product: Mapped[Product] = relationship(back_populates="barcodes")


class CargoCompany(Timestamped, db.Model):
    __tablename__ = "cargo_companies"
    __table_args__ = (one_of("adapter", CARRIER_ADAPTERS, "adapter"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    adapter: Mapped[str] = mapped_column(String(16), default="demo")
    config: Mapped[dict] = mapped_column(JSON, default=dict)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class DenialReason(Timestamped, db.Model):
    __tablename__ = "denial_reasons"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    priority: Mapped[int] = mapped_column(Integer, default=100)
