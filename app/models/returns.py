"""Customer returns (SPEC §14): goods an order's customer sends or brings back to a location.

A return names the order, the location that receives it and, per line, the SKU, how many units
and why. Receiving records how many arrived (`received`); inspection splits them into
`resellable` (back on the shelf) and `damaged` (written off). States and commands are data in
`services/returns/states.py`; every change is in the transition log (entity type "return").
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import Timestamped, one_of
from app.models.catalog import Product
from app.models.locations import StockLocation
from app.models.orders import Order
from app.models.packages import Package

RETURN_STATES = ("requested", "in_transit", "received", "inspected", "restocked", "written_off", "cancelled")
# Where a return came from: the channel's own return/refund, the API, a store counter, or a
# parcel the carrier could not deliver coming back to the packing location.
RETURN_SOURCES = ("channel", "api", "counter", "delivery_failed")


class Return(Timestamped, db.Model):
    __tablename__ = "returns"
    __table_args__ = (
        one_of("state", RETURN_STATES, "state"),
        one_of("source", RETURN_SOURCES, "source"),
        Index("ix_returns_location_state", "location_id", "state"),
        # One return per channel return/refund (a Shopify refund id, a Trendyol claim id): the same
        # notification twice makes one return.
        UniqueConstraint("order_id", "channel_ref"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(140), unique=True)  # order number + "-R1", "-R2", ...
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("stock_locations.id"))
    # The package a failed delivery brings back (one return per such package).
    package_id: Mapped[int | None] = mapped_column(ForeignKey("packages.id"), unique=True)
    state: Mapped[str] = mapped_column(String(32), default="requested")
    source: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(String(500))
    created_by: Mapped[str] = mapped_column(String(200))
    received_at: Mapped[datetime | None] = mapped_column(DateTime)
    inspected_at: Mapped[datetime | None] = mapped_column(DateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)
    channel_ref: Mapped[str | None] = mapped_column(String(100))  # the channel's own return/refund id

    order: Mapped[Order] = relationship()
    location: Mapped[StockLocation] = relationship()
    package: Mapped[Package | None] = relationship()
    items: Mapped[list[ReturnItem]] = relationship(
        back_populates="ret", cascade="all, delete-orphan", order_by="ReturnItem.id"
    )


class ReturnItem(db.Model):
    __tablename__ = "return_items"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("scanned >= 0 AND received >= 0 AND resellable >= 0 AND damaged >= 0",
                        name="counts_non_negative"),
        CheckConstraint("resellable + damaged <= received", name="inspected_within_received"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("returns.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    quantity: Mapped[int] = mapped_column(Integer)  # units the return expects
    reason: Mapped[str | None] = mapped_column(String(500))  # the customer's reason
    scanned: Mapped[int] = mapped_column(Integer, default=0)  # running count on the receiving screen
    received: Mapped[int] = mapped_column(Integer, default=0)
    resellable: Mapped[int] = mapped_column(Integer, default=0)
    damaged: Mapped[int] = mapped_column(Integer, default=0)
    # Why units were fewer/more than expected, or damaged: what the receiver wrote.
    note: Mapped[str | None] = mapped_column(String(500))

    ret: Mapped[Return] = relationship(back_populates="items")
    product: Mapped[Product] = relationship()

    @property
    def sku(self) -> str:
        return self.product.sku
