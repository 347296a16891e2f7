"""Transfers: move items from a source location to the package's packing location."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import Timestamped, one_of
from app.models.catalog import CargoCompany, Product
from app.models.locations import StockLocation
from app.models.packages import Package, PackageItem

TRANSFER_STATES = ("waiting", "ready_for_dispatch", "in_transit", "received", "out_of_stock", "cancelled")
TRANSFER_ITEM_STATES = ("open", "missing", "received", "cancelled")


class Transfer(Timestamped, db.Model):
    __tablename__ = "transfers"
    __table_args__ = (
        one_of("state", TRANSFER_STATES, "state"),
        CheckConstraint("source_id <> destination_id", name="source_not_destination"),
        Index("ix_transfers_source_state", "source_id", "state"),
        Index("ix_transfers_destination_state", "destination_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(140), unique=True)
    package_id: Mapped[int] = mapped_column(ForeignKey("packages.id", ondelete="CASCADE"), index=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("stock_locations.id"))
    destination_id: Mapped[int] = mapped_column(ForeignKey("stock_locations.id"))
    state: Mapped[str] = mapped_column(String(32), default="waiting")
    cargo_company_id: Mapped[int | None] = mapped_column(ForeignKey("cargo_companies.id"))
    tracking_number: Mapped[str | None] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer, default=1)

    package: Mapped[Package] = relationship(back_populates="transfers")
    source: Mapped[StockLocation] = relationship(foreign_keys=[source_id])
    destination: Mapped[StockLocation] = relationship(foreign_keys=[destination_id])
    cargo_company: Mapped[CargoCompany | None] = relationship()
    items: Mapped[list[TransferItem]] = relationship(
        back_populates="transfer", cascade="all, delete-orphan", order_by="TransferItem.id"
    )


class TransferItem(db.Model):
    __tablename__ = "transfer_items"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        one_of("state", TRANSFER_ITEM_STATES, "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    transfer_id: Mapped[int] = mapped_column(ForeignKey("transfers.id", ondelete="CASCADE"), index=True)
    package_item_id: Mapped[int] = mapped_column(ForeignKey("package_items.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    quantity: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), default="open")
    # Units counted by scanning: by the sender before dispatch, by the receiver before receiving.
    dispatch_scanned: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    receive_scanned: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    transfer: Mapped[Transfer] = relationship(back_populates="items")
    package_item: Mapped[PackageItem] = relationship()
    product: Mapped[Product] = relationship()

    @property
    def sku(self) -> str:
        return self.product.sku
