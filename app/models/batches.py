"""Pick batches: many small packages picked in one walk through the store, each into its own tote.

The packages keep their own states and commands (picking, packing, refusing are package commands);
a batch only groups them, gives each a slot (the tote number on the cart) and remembers where the
walk is: `picking` -> `packing` -> `done`, or `cancelled` when staff give the batch up.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import one_of, utcnow
from app.models.locations import StockLocation
from app.models.packages import Package

PICK_BATCH_STATES = ("picking", "packing", "done", "cancelled")
ACTIVE_BATCH_STATES = ("picking", "packing")


class PickBatch(db.Model):
    __tablename__ = "pick_batches"
    __table_args__ = (
        one_of("state", PICK_BATCH_STATES, "state"),
        UniqueConstraint("location_id", "number"),
        Index("ix_pick_batches_location_state", "location_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    location_id: Mapped[int] = mapped_column(ForeignKey("stock_locations.id"))
    number: Mapped[int] = mapped_column(Integer)  # per location: "Batch 7"
    state: Mapped[str] = mapped_column(String(16), default="picking")
    created_by: Mapped[str] = mapped_column(String(200))  # the actor label, as in the transition log
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)

    location: Mapped[StockLocation] = relationship()
    packages: Mapped[list[PickBatchPackage]] = relationship(
        back_populates="batch", cascade="all, delete-orphan", order_by="PickBatchPackage.slot"
    )


class PickBatchPackage(db.Model):
    """One package of a batch and its slot: the tote its units go into and the packing order."""

    __tablename__ = "pick_batch_packages"
    __table_args__ = (
        CheckConstraint("slot > 0", name="slot_positive"),
        UniqueConstraint("batch_id", "slot"),
        UniqueConstraint("batch_id", "package_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("pick_batches.id", ondelete="CASCADE"))
    package_id: Mapped[int] = mapped_column(ForeignKey("packages.id", ondelete="CASCADE"), index=True)
    slot: Mapped[int] = mapped_column(Integer)

    batch: Mapped[PickBatch] = relationship(back_populates="packages")
    package: Mapped[Package] = relationship()
