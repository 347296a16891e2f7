"""Stock per (location, product), its reservations and the append-only ledger."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import utcnow
from app.models.catalog import Product
from app.models.locations import StockLocation


class Stock(db.Model):
    """`available = on_hand - reserved`; the constraints make overselling impossible at the database."""

    __tablename__ = "stock"
    __table_args__ = (
        UniqueConstraint("location_id", "product_id", name="uq_stock_location_product"),
        CheckConstraint("on_hand >= 0", name="on_hand_non_negative"),
        CheckConstraint("reserved >= 0", name="reserved_non_negative"),
        CheckConstraint("reserved <= on_hand", name="reserved_within_on_hand"),
        # Covering: planning reads (location, on_hand, reserved) of many products at once, and
        # with these columns in the index it never visits the table (docs/benchmarks.md).
        Index("ix_stock_product_available", "product_id", "location_id", "on_hand", "reserved"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("stock_locations.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    on_hand: Mapped[int] = mapped_column(Integer, default=0)
    reserved: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    location: Mapped[StockLocation] = relationship()
    product: Mapped[Product] = relationship()

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


class Reservation(db.Model):
    """Units held at a location for one package item or one transfer item (exactly one of them)."""

    __tablename__ = "reservations"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint(
            "(package_item_id IS NULL) <> (transfer_item_id IS NULL)", name="one_owner"
        ),
        Index("ix_reservations_location_product", "location_id", "product_id"),
        # Most reservations belong to a package item: only the others are indexed by transfer item.
        Index("ix_reservations_transfer_item_id", "transfer_item_id",
              sqlite_where=text("transfer_item_id IS NOT NULL"), postgresql_where=text("transfer_item_id IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("stock_locations.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    package_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("package_items.id", ondelete="CASCADE"), index=True
    )
    transfer_item_id: Mapped[int | None] = mapped_column(ForeignKey("transfer_items.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class StockLedger(db.Model):
    """One row per change of on_hand or reserved: what changed, why, who, and for which work order."""

    __tablename__ = "stock_ledger"
    __table_args__ = (Index("ix_stock_ledger_location_product", "location_id", "product_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("stock_locations.id"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    on_hand_delta: Mapped[int] = mapped_column(Integer, default=0)
    reserved_delta: Mapped[int] = mapped_column(Integer, default=0)
    on_hand_after: Mapped[int] = mapped_column(Integer)
    reserved_after: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(64))
    actor: Mapped[str] = mapped_column(String(200))
    reference: Mapped[str | None] = mapped_column(String(200), index=True)
    note: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)  # ids are in time order
