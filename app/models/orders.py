"""Orders as the channels send them, their items, planning exclusions and planning traces."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import Timestamped, one_of, utcnow
from app.models.catalog import CargoCompany, Channel, Product
from app.models.locations import StockLocation

if TYPE_CHECKING:
    from app.models.packages import Package
    from app.models.transfers import Transfer

ORDER_STATUSES = (
    "new",
    "on_hold",
    "planned",
    "out_of_stock",
    "in_progress",
    "partially_shipped",
    "shipped",
    "delivered",
    "cancelled",
)
DELIVERY_TYPES = ("cargo", "click_and_collect")
ORDER_ITEM_STATUSES = ("open", "cancelled")


class Order(Timestamped, db.Model):
    __tablename__ = "orders"
    __table_args__ = (
        UniqueConstraint("channel_id", "number", name="uq_orders_channel_number"),
        one_of("status", ORDER_STATUSES, "status"),
        one_of("delivery_type", DELIVERY_TYPES, "delivery_type"),
        Index("ix_orders_status_placed", "status", "placed_at"),
        Index("ix_orders_placed_at_id", "placed_at", "id"),  # the order explorer's newest-first pages
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(100))
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"))
    placed_at: Mapped[datetime] = mapped_column(DateTime)
    received_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    source_status: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(32), default="new")
    delivery_type: Mapped[str] = mapped_column(String(32), default="cargo")
    pickup_location_id: Mapped[int | None] = mapped_column(ForeignKey("stock_locations.id"))
    payment_type: Mapped[str | None] = mapped_column(String(64))
    cargo_company_id: Mapped[int | None] = mapped_column(ForeignKey("cargo_companies.id"))
    customer_name: Mapped[str | None] = mapped_column(String(200), index=True)
    customer_email: Mapped[str | None] = mapped_column(String(200))
    customer_phone: Mapped[str | None] = mapped_column(String(64))
    ship_line: Mapped[str | None] = mapped_column(String(500))
    ship_city: Mapped[str | None] = mapped_column(String(100))
    ship_district: Mapped[str | None] = mapped_column(String(100))
    ship_postcode: Mapped[str | None] = mapped_column(String(32))
    ship_country: Mapped[str | None] = mapped_column(String(2))
    ship_latitude: Mapped[float | None] = mapped_column(Float)
    ship_longitude: Mapped[float | None] = mapped_column(Float)
    cancel_reason: Mapped[str | None] = mapped_column(String(500))

    channel: Mapped[Channel] = relationship()
    pickup_location: Mapped[StockLocation | None] = relationship()
    cargo_company: Mapped[CargoCompany | None] = relationship()
    items: Mapped[list[OrderItem]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderItem.id"
    )
    packages: Mapped[list[Package]] = relationship(back_populates="order", order_by="Package.id")

    @property
    def transfers(self) -> list[Transfer]:
        return [t for p in self.packages for t in p.transfers]


class OrderItem(db.Model):
    __tablename__ = "order_items"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint(
            "cancelled_quantity >= 0 AND cancelled_quantity <= quantity", name="cancelled_within"
        ),
        one_of("status", ORDER_ITEM_STATUSES, "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    cancelled_quantity: Mapped[int] = mapped_column(Integer, default=0)
    price: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    status: Mapped[str] = mapped_column(String(16), default="open")

    order: Mapped[Order] = relationship(back_populates="items")
    product: Mapped[Product] = relationship()

    @property
    def sku(self) -> str:
        return self.product.sku


class PlanningExclusion(db.Model):
    """A location that refused or missed an order item is never planned for it again."""

    __tablename__ = "planning_exclusions"
    __table_args__ = (
        UniqueConstraint("order_item_id", "location_id", name="uq_planning_exclusions_item_location"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_item_id: Mapped[int] = mapped_column(ForeignKey("order_items.id", ondelete="CASCADE"))
    location_id: Mapped[int] = mapped_column(ForeignKey("stock_locations.id"))
    reason: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class PlanningTrace(db.Model):
    """What one planning run saw and decided, for 'why this location?'."""

    __tablename__ = "planning_traces"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    trigger: Mapped[str] = mapped_column(String(64), default="initial")
    outcome: Mapped[str] = mapped_column(String(32))
    trace: Mapped[dict] = mapped_column(JSON, default=dict)
    is_replan: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
