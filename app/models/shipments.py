"""Shipments (carrier parcels with labels) and invoices, one each per package."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import Timestamped, one_of
from app.models.catalog import CargoCompany
from app.models.packages import Package

SHIPMENT_STATUSES = (
    "pending",
    "label_ready",
    "failed",
    "in_transit",
    "attempted_delivery",
    "delivery_failed",
    "delivered",
    "cancelled",
)


class Shipment(Timestamped, db.Model):
    __tablename__ = "shipments"
    __table_args__ = (
        one_of("status", SHIPMENT_STATUSES, "status"),
        CheckConstraint("boxes >= 1", name="boxes_positive"),
        CheckConstraint("attempts >= 0", name="attempts_non_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    package_id: Mapped[int] = mapped_column(
        ForeignKey("packages.id", ondelete="CASCADE"), unique=True
    )
    cargo_company_id: Mapped[int | None] = mapped_column(ForeignKey("cargo_companies.id"))
    tracking_number: Mapped[str | None] = mapped_column(String(100), index=True)
    tracking_url: Mapped[str | None] = mapped_column(String(1000))
    carrier_reference: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(32), default="pending")
    label_pdf: Mapped[bytes | None] = mapped_column(LargeBinary)
    label_zpl: Mapped[str | None] = mapped_column(Text)
    label_url: Mapped[str | None] = mapped_column(String(1000))
    boxes: Mapped[int] = mapped_column(Integer, default=1)
    weight_kg: Mapped[Decimal | None] = mapped_column(Numeric(10, 3))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(1000))
    # The same sentence as a catalogue message, said in the reader's language (services/said.py).
    last_error_message: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))  # no message: SQL NULL
    shipped_at: Mapped[datetime | None] = mapped_column(DateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    package: Mapped[Package] = relationship(back_populates="shipment")
    cargo_company: Mapped[CargoCompany | None] = relationship()


class Invoice(Timestamped, db.Model):
    __tablename__ = "invoices"

    id: Mapped[int] = mapped_column(primary_key=True)
    package_id: Mapped[int] = mapped_column(
        ForeignKey("packages.id", ondelete="CASCADE"), unique=True
    )
    number: Mapped[str | None] = mapped_column(String(100))
    date: Mapped[date | None] = mapped_column(Date)
    url: Mapped[str | None] = mapped_column(String(1000))
    document: Mapped[bytes | None] = mapped_column(LargeBinary)
    content_type: Mapped[str | None] = mapped_column(String(100))

    package: Mapped[Package] = relationship(back_populates="invoice")
