"""Stock locations: stores and warehouses that hold stock and pack orders."""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, CheckConstraint, Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import Timestamped, one_of

LOCATION_TYPES = ("store", "warehouse")


class StockLocation(Timestamped, db.Model):
    __tablename__ = "stock_locations"
    __table_args__ = (
        one_of("type", LOCATION_TYPES, "type"),
        CheckConstraint("max_quota IS NULL OR max_quota >= 0", name="max_quota_non_negative"),
        CheckConstraint(
            "target_packaging_minutes IS NULL OR target_packaging_minutes > 0",
            name="target_minutes_positive",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(16), default="store")
    address: Mapped[str | None] = mapped_column(String(500))
    city: Mapped[str | None] = mapped_column(String(100), index=True)
    district: Mapped[str | None] = mapped_column(String(100))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    is_packaging_center: Mapped[bool] = mapped_column(Boolean, default=True)
    is_transfer_source: Mapped[bool] = mapped_column(Boolean, default=True)
    is_pickup_location: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    priority: Mapped[int] = mapped_column(Integer, default=100)
    max_quota: Mapped[int | None] = mapped_column(Integer)
    target_packaging_minutes: Mapped[int | None] = mapped_column(Integer)
    tags: Mapped[list] = mapped_column(JSON, default=list)
    # IANA zone name for times shown at this location; None = the brand's TIME_ZONE setting.
    time_zone: Mapped[str | None] = mapped_column(String(64))

    def __repr__(self) -> str:
        return f"<StockLocation {self.code}>"
