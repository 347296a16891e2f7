"""Inbound goods (SPEC §14): suppliers, purchase orders and their receipts, reorder points,
requisitions, supplier quotes and inbound shipments (containers / ASNs)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
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
from app.models.catalog import Product
from app.models.locations import StockLocation

PURCHASE_ORDER_STATES = ("draft", "sent", "confirmed", "in_transit", "partially_received", "received", "closed",
                         "cancelled")
FINISHED_PURCHASE_ORDER_STATES = ("received", "closed", "cancelled")
REQUISITION_STATES = ("open", "quoted", "ordered", "dismissed")
REQUISITION_LINE_REASONS = ("reorder_point", "out_of_stock", "manual")
QUOTE_STATES = ("open", "accepted", "rejected")
INBOUND_SHIPMENT_STATES = ("booked", "departed", "arrived", "delivered", "cancelled")


class Supplier(Timestamped, db.Model):
    __tablename__ = "suppliers"
    __table_args__ = (CheckConstraint("lead_time_days >= 0", name="lead_time_non_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    contact: Mapped[str | None] = mapped_column(String(500))
    lead_time_days: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class PurchaseOrder(Timestamped, db.Model):
    __tablename__ = "purchase_orders"
    __table_args__ = (
        one_of("state", PURCHASE_ORDER_STATES, "state"),
        Index("ix_purchase_orders_destination_state", "destination_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(64), unique=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"), index=True)
    destination_id: Mapped[int] = mapped_column(ForeignKey("stock_locations.id"))
    expected_at: Mapped[datetime | None] = mapped_column(DateTime)
    state: Mapped[str] = mapped_column(String(32), default="draft")
    close_reason: Mapped[str | None] = mapped_column(String(500))
    note: Mapped[str | None] = mapped_column(String(500))
    version: Mapped[int] = mapped_column(Integer, default=1)

    supplier: Mapped[Supplier] = relationship()
    destination: Mapped[StockLocation] = relationship()
    lines: Mapped[list[PurchaseOrderLine]] = relationship(
        back_populates="purchase_order", cascade="all, delete-orphan", order_by="PurchaseOrderLine.id")


class PurchaseOrderLine(db.Model):
    """`received` counts every unit that arrived (damaged ones too); `damaged` of them were not stocked."""

    __tablename__ = "purchase_order_lines"
    __table_args__ = (
        UniqueConstraint("purchase_order_id", "product_id", name="uq_purchase_order_line_product"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("received >= 0", name="received_non_negative"),
        CheckConstraint("damaged >= 0 AND damaged <= received", name="damaged_within_received"),
        CheckConstraint("unit_cost IS NULL OR unit_cost >= 0", name="unit_cost_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    purchase_order_id: Mapped[int] = mapped_column(ForeignKey("purchase_orders.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    received: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    damaged: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    unit_cost: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    # The receiving screen's running count not yet finished (0 after Finish): kept here so a
    # reload or a second tablet sees the scans, as return items and transfer items do.
    scanned: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    purchase_order: Mapped[PurchaseOrder] = relationship(back_populates="lines")
    product: Mapped[Product] = relationship()

    @property
    def sku(self) -> str:
        return self.product.sku

    @property
    def outstanding(self) -> int:
        return max(0, self.quantity - self.received)


class PurchaseOrderReceipt(db.Model):
    """One finished count of goods that arrived for a purchase order. `receipt_key` names the
    count (a receiving session, an API call): finishing it again replays it, never adds twice."""

    __tablename__ = "purchase_order_receipts"
    __table_args__ = (UniqueConstraint("purchase_order_id", "receipt_key", name="uq_purchase_order_receipt_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    purchase_order_id: Mapped[int] = mapped_column(ForeignKey("purchase_orders.id", ondelete="CASCADE"), index=True)
    receipt_key: Mapped[str] = mapped_column(String(100))
    inbound_shipment_id: Mapped[int | None] = mapped_column(ForeignKey("inbound_shipments.id"))
    lines: Mapped[list] = mapped_column(JSON, default=list)  # [{"sku", "quantity", "damaged", "reason"}]
    actor: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ReorderPoint(Timestamped, db.Model):
    """Order more of a SKU for a location when available plus open inbound falls below `reorder_point`."""

    __tablename__ = "reorder_points"
    __table_args__ = (
        UniqueConstraint("location_id", "product_id", name="uq_reorder_point_location_product"),
        CheckConstraint("reorder_point >= 0", name="reorder_point_non_negative"),
        CheckConstraint("reorder_quantity > 0", name="reorder_quantity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("stock_locations.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), index=True)
    reorder_point: Mapped[int] = mapped_column(Integer)
    reorder_quantity: Mapped[int] = mapped_column(Integer)
    supplier_id: Mapped[int | None] = mapped_column(ForeignKey("suppliers.id"))  # the usual supplier

    location: Mapped[StockLocation] = relationship()
    product: Mapped[Product] = relationship()
    supplier: Mapped[Supplier | None] = relationship()


class Requisition(Timestamped, db.Model):
    """What a location should order, proposed by the requisition job or written by a supervisor."""

    __tablename__ = "requisitions"
    __table_args__ = (one_of("state", REQUISITION_STATES, "state"),
                      Index("ix_requisitions_location_state", "location_id", "state"))

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(64), unique=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("stock_locations.id"))
    state: Mapped[str] = mapped_column(String(16), default="open")
    created_by: Mapped[str] = mapped_column(String(200))

    location: Mapped[StockLocation] = relationship()
    lines: Mapped[list[RequisitionLine]] = relationship(
        back_populates="requisition", cascade="all, delete-orphan", order_by="RequisitionLine.id")


class RequisitionLine(db.Model):
    __tablename__ = "requisition_lines"
    __table_args__ = (
        UniqueConstraint("requisition_id", "product_id", name="uq_requisition_line_product"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        one_of("reason", REQUISITION_LINE_REASONS, "reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    requisition_id: Mapped[int] = mapped_column(ForeignKey("requisitions.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(16))
    supplier_id: Mapped[int | None] = mapped_column(ForeignKey("suppliers.id"))

    requisition: Mapped[Requisition] = relationship(back_populates="lines")
    product: Mapped[Product] = relationship()
    supplier: Mapped[Supplier | None] = relationship()


class Quote(Timestamped, db.Model):
    """A supplier's price and lead time for a requisition's lines; accepted, it becomes a PO."""

    __tablename__ = "quotes"
    __table_args__ = (one_of("state", QUOTE_STATES, "state"),
                      CheckConstraint("lead_time_days >= 0", name="lead_time_non_negative"))

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(64), unique=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("suppliers.id"), index=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("stock_locations.id"))
    requisition_id: Mapped[int | None] = mapped_column(ForeignKey("requisitions.id"), index=True)
    lead_time_days: Mapped[int] = mapped_column(Integer, default=0)
    state: Mapped[str] = mapped_column(String(16), default="open")
    purchase_order_id: Mapped[int | None] = mapped_column(ForeignKey("purchase_orders.id"))

    supplier: Mapped[Supplier] = relationship()
    location: Mapped[StockLocation] = relationship()
    requisition: Mapped[Requisition | None] = relationship()
    purchase_order: Mapped[PurchaseOrder | None] = relationship()
    lines: Mapped[list[QuoteLine]] = relationship(
        back_populates="quote", cascade="all, delete-orphan", order_by="QuoteLine.id")


class QuoteLine(db.Model):
    __tablename__ = "quote_lines"
    __table_args__ = (
        UniqueConstraint("quote_id", "product_id", name="uq_quote_line_product"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("unit_price IS NULL OR unit_price >= 0", name="unit_price_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    quote_id: Mapped[int] = mapped_column(ForeignKey("quotes.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))

    quote: Mapped[Quote] = relationship(back_populates="lines")
    product: Mapped[Product] = relationship()


class InboundShipment(Timestamped, db.Model):
    """A container or ASN carrying purchase order lines to one destination; status events go to
    the transition log (entity `inbound_shipment`)."""

    __tablename__ = "inbound_shipments"
    __table_args__ = (one_of("status", INBOUND_SHIPMENT_STATES, "status"),
                      Index("ix_inbound_shipments_destination_status", "destination_id", "status"))

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(64), unique=True)
    destination_id: Mapped[int] = mapped_column(ForeignKey("stock_locations.id"))
    carrier: Mapped[str | None] = mapped_column(String(200))
    container_number: Mapped[str | None] = mapped_column(String(100))
    tracking_number: Mapped[str | None] = mapped_column(String(100))
    eta: Mapped[datetime | None] = mapped_column(DateTime, index=True)
    status: Mapped[str] = mapped_column(String(16), default="booked")
    documents: Mapped[list] = mapped_column(JSON, default=list)  # [{"name", "url"}]: references, not files
    version: Mapped[int] = mapped_column(Integer, default=1)

    destination: Mapped[StockLocation] = relationship()
    lines: Mapped[list[InboundShipmentLine]] = relationship(
        back_populates="shipment", cascade="all, delete-orphan", order_by="InboundShipmentLine.id")


class InboundShipmentLine(db.Model):
    __tablename__ = "inbound_shipment_lines"
    __table_args__ = (
        UniqueConstraint("shipment_id", "purchase_order_line_id", name="uq_inbound_shipment_line"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("inbound_shipments.id", ondelete="CASCADE"), index=True)
    purchase_order_line_id: Mapped[int] = mapped_column(ForeignKey("purchase_order_lines.id"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    # The receiving screen's running count of the SKU (on the shipment's first line of it), kept
    # between scans; any booking of the shipment or of its purchase orders sets it back to 0.
    scanned: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    shipment: Mapped[InboundShipment] = relationship(back_populates="lines")
    purchase_order_line: Mapped[PurchaseOrderLine] = relationship()
