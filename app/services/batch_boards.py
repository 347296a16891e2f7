"""What a pick batch looks like on the floor, read from its packages: each slot's status (to pick,
ready to pack, packed, on hold, removed), the pick list grouped by product with the units each
tote still needs, and the state the batch should be in. Read only; the commands and the one
place that records the batch's state are in app.services.batches.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import Order, Package, PackageItem, PickBatch, PickBatchPackage, Product
from app.models.batches import ACTIVE_BATCH_STATES
from app.services.errors import NotFound
from app.services.transitions import NOT_HOLDING_ITEM_STATES, PACKED_STATES, SHIPPED_OR_LATER

# Package states in which a package has left its batch: nothing of it is picked or packed here.
REMOVED_STATES = ("refused", "cancelled", "packed_for_refund", "out_of_stock")
PACKED_OR_LATER = (*PACKED_STATES, *SHIPPED_OR_LATER)


@dataclass
class Slot:
    """One package of a batch as the floor sees it."""

    slot: int
    package: Package
    status: str  # to_pick | picked | packed | on_hold | removed
    picked: int
    required: int
    label: str | None  # ready | channel | waiting | failed | None (no carrier label)

    @property
    def open(self) -> bool:
        """Still to be packed from the batch (preparing)."""
        return self.status in ("to_pick", "picked")


@dataclass
class PickLine:
    """One product of the pick list: how many units to take and which tote each goes into."""

    product: Product
    required: int = 0
    picked: int = 0
    totes: list[tuple[int, int]] = field(default_factory=list)  # (slot, units still to put there)

    @property
    def remaining(self) -> int:
        return self.required - self.picked


@dataclass
class Board:
    batch: PickBatch
    slots: list[Slot]
    lines: list[PickLine]

    @property
    def phase(self) -> str:
        return phase(self.batch.state, self.slots)

    @property
    def active(self) -> bool:
        return self.batch.state in ACTIVE_BATCH_STATES

    @property
    def staying(self) -> list[Slot]:
        """The packages still in the batch (not removed)."""
        return [s for s in self.slots if s.status != "removed"]

    @property
    def picked(self) -> int:
        return sum(s.picked for s in self.staying)

    @property
    def required(self) -> int:
        return sum(s.required for s in self.staying)

    @property
    def packed(self) -> int:
        return sum(1 for s in self.slots if s.status == "packed")

    @property
    def can_scan(self) -> bool:
        return self.active and any(s.status == "to_pick" for s in self.slots)

    @property
    def next_to_pack(self) -> Slot | None:
        return next((s for s in self.slots if s.open), None) if self.active else None

    @property
    def labels_ready(self) -> int:
        return sum(1 for s in self.slots if s.label == "ready")

    @property
    def labels_waiting(self) -> bool:
        return any(s.label == "waiting" for s in self.slots)

    def slot_of(self, package_id: int) -> Slot | None:
        return next((s for s in self.slots if s.package.id == package_id), None)


def label_status(package: Package) -> str | None:
    shipment = package.shipment
    if shipment is None or shipment.status == "cancelled":
        return None
    if shipment.label_pdf:
        return "ready"
    if shipment.label_url:
        return "channel"
    return "failed" if shipment.status == "failed" else "waiting"


def slot_of_row(row: PickBatchPackage) -> Slot:
    package = row.package
    items = [i for i in package.items if i.state not in NOT_HOLDING_ITEM_STATES]
    picked, required = sum(i.picked_quantity for i in items), sum(i.quantity for i in items)
    if package.state in REMOVED_STATES:
        status = "removed"
    elif package.state in PACKED_OR_LATER:
        status = "packed"
    elif package.state == "preparing":
        status = "to_pick" if picked < required else "picked"
    else:
        status = "on_hold"  # blocked, or waiting again for goods from another store
    return Slot(row.slot, package, status, picked, required, label_status(package))


def phase(state: str, slots: Sequence[Slot]) -> str:
    """Where the walk is, from its packages: the state the batch should be in."""
    if state not in ACTIVE_BATCH_STATES:
        return state
    staying = [s for s in slots if s.status != "removed"]
    if all(s.status == "packed" for s in staying):
        return "done"
    if not any(s.status == "to_pick" for s in staying):
        return "packing"
    return state


def pick_lines(slots: Sequence[Slot]) -> list[PickLine]:
    """The pick list: one line per product over the packages being picked, in walk order (by SKU:
    the store has no shelf locations on record)."""
    lines: dict[int, PickLine] = {}
    for s in slots:
        if not s.open:
            continue
        for item in s.package.items:
            if item.state in NOT_HOLDING_ITEM_STATES:
                continue
            line = lines.setdefault(item.product_id, PickLine(item.product))
            line.required += item.quantity
            line.picked += item.picked_quantity
            if item.quantity > item.picked_quantity:
                line.totes.append((s.slot, item.quantity - item.picked_quantity))
    return sorted(lines.values(), key=lambda line: line.product.sku)


def load(location_id: int, batch_id: int) -> PickBatch:
    """The batch with everything its board shows, read fresh; NotFound outside the location."""
    batch = db.session.scalar(
        select(PickBatch).where(PickBatch.id == batch_id, PickBatch.location_id == location_id)
        .options(selectinload(PickBatch.packages).selectinload(PickBatchPackage.package).options(
            selectinload(Package.order).selectinload(Order.channel),
            selectinload(Package.shipment),
            selectinload(Package.items).selectinload(PackageItem.product).selectinload(Product.barcodes)))
        .execution_options(populate_existing=True)
    )
    if batch is None:
        raise NotFound(_('This batch does not exist at this store.'))
    return batch


def board_of(batch: PickBatch) -> Board:
    """The board of a batch loaded with `load`."""
    slots = [slot_of_row(row) for row in batch.packages]
    return Board(batch, slots, pick_lines(slots))
