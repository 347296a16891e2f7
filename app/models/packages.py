"""Packages: the packaging work orders ("pack these items here and send them")."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import Timestamped, one_of, utcnow
from app.models.catalog import Product
from app.models.locations import StockLocation
from app.models.orders import Order, OrderItem

if TYPE_CHECKING:
    from app.models.shipments import Invoice, Shipment
    from app.models.transfers import Transfer

PACKAGE_STATES = (
    "waiting_for_transfer",
    "waiting",
    "preparing",
    "waiting_cargo_label",
    "packed",
    "ready_for_pickup",
    "shipped",
    "attempted_delivery",
    "delivery_failed",
    "delivered",
    "out_of_stock",
    "blocked",
    "refused",
    "packed_for_refund",
    "cancelled",
)
TERMINAL_PACKAGE_STATES = ("delivered", "refused", "packed_for_refund", "cancelled")
OPEN_PACKAGE_STATES = ("waiting_for_transfer", "waiting", "preparing", "blocked")
PACKAGE_ITEM_STATES = ("open", "picked", "missing", "cancelled", "packed")


class Package(Timestamped, db.Model):
    __tablename__ = "packages"
    __table_args__ = (
        one_of("state", PACKAGE_STATES, "state"),
        CheckConstraint(
            "previous_state IS NULL OR previous_state IN ("
            + ", ".join(f"'{s}'" for s in PACKAGE_STATES)
            + ")",
            name="previous_state",
        ),
        Index("ix_packages_location_state_created", "location_id", "state", "created_at"),
        Index("ix_packages_state_created", "state", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(120), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("stock_locations.id"))
    state: Mapped[str] = mapped_column(String(32), default="waiting")
    previous_state: Mapped[str | None] = mapped_column(String(32))
    state_changed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    block_reason: Mapped[str | None] = mapped_column(String(500))
    refuse_reason: Mapped[str | None] = mapped_column(String(64))
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    otp_code: Mapped[str | None] = mapped_column(String(16))
    planning_trace_id: Mapped[int | None] = mapped_column(ForeignKey("planning_traces.id"))
    # Optimistic guard for stale UI actions (someone else moved the package meanwhile).
    version: Mapped[int] = mapped_column(Integer, default=1)

    order: Mapped[Order] = relationship(back_populates="packages")
    location: Mapped[StockLocation] = relationship()
    items: Mapped[list[PackageItem]] = relationship(
        back_populates="package", cascade="all, delete-orphan", order_by="PackageItem.id"
    )
    transfers: Mapped[list[Transfer]] = relationship(back_populates="package", order_by="Transfer.id")
    shipment: Mapped[Shipment | None] = relationship(back_populates="package", uselist=False)
    invoice: Mapped[Invoice | None] = relationship(back_populates="package", uselist=False)


class PackageItem(db.Model):
    __tablename__ = "package_items"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint(
            "picked_quantity >= 0 AND picked_quantity <= quantity", name="picked_within"
        ),
        one_of("state", PACKAGE_ITEM_STATES, "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    package_id: Mapped[int] = mapped_column(ForeignKey("packages.id", ondelete="CASCADE"), index=True)
    order_item_id: Mapped[int] = mapped_column(ForeignKey("order_items.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    picked_quantity: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(16), default="open")

    package: Mapped[Package] = relationship(back_populates="items")
    order_item: Mapped[OrderItem] = relationship()
    product: Mapped[Product] = relationship()

    @property
    def sku(self) -> str:
        return self.product.sku


class PickupCodeFailure(db.Model):
    """A wrong click & collect pickup code, counted per package and per person to stop guessing."""

    __tablename__ = "pickup_code_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    package_id: Mapped[int] = mapped_column(ForeignKey("packages.id", ondelete="CASCADE"), index=True)
    actor: Mapped[str] = mapped_column(String(200), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
