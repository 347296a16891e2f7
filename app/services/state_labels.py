"""The words people read for every state and status, in one map: the store app and the supervisor
screens show them through the `state_label` template filter, and messages that name a state use
`state_label` too, so "waiting_for_transfer" reads the same on a tablet and on the board.

Package, transfer, shipment, order and item states share one map: where two machines use the
same name (`waiting`, `cancelled`, `out_of_stock`, ...) they mean the same thing to a reader.
"""

from __future__ import annotations

STATE_LABELS: dict[str, str] = {
    # packages (SPEC §4)
    "waiting_for_transfer": "Waiting for transfer",
    "waiting": "Waiting",
    "preparing": "Preparing",
    "waiting_cargo_label": "Waiting cargo label",
    "packed": "Packed",
    "ready_for_pickup": "Ready for pickup",
    "shipped": "Shipped",
    "attempted_delivery": "Attempted delivery",
    "delivery_failed": "Delivery failed",
    "delivered": "Delivered",
    "out_of_stock": "Out of stock",
    "blocked": "Blocked",
    "refused": "Refused",
    "packed_for_refund": "Packed for refund",
    "cancelled": "Cancelled",
    # transfers
    "ready_for_dispatch": "Ready for dispatch",
    "in_transit": "In transit",
    "received": "Received",
    # shipments
    "pending": "Pending",
    "label_ready": "Label ready",
    "failed": "Failed",
    # orders
    "new": "New",
    "on_hold": "On hold",
    "planned": "Planned",
    "in_progress": "In progress",
    "partially_shipped": "Partially shipped",
    # items
    "open": "Open",
    "picked": "Picked",
    "missing": "Missing",
}


def state_label(state: str | None) -> str:
    """`ready_for_dispatch` -> "Ready for dispatch"; a name not in the map reads with spaces."""
    if not state:
        return ""
    return STATE_LABELS.get(state) or state.replace("_", " ").capitalize()
