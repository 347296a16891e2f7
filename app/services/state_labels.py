"""The words people read for every state and status, in one map: the store app and the supervisor
screens show them through the `state_label` template filter, and messages that name a state use
`state_label` too, so "waiting_for_transfer" reads the same on a tablet and on the board.

Package, transfer, shipment, order and item states share one map: where two machines use the
same name (`waiting`, `cancelled`, `out_of_stock`, ...) they mean the same thing to a reader.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString

STATE_LABELS: dict[str, LazyString] = {
    # packages (SPEC §4)
    "waiting_for_transfer": _l("Waiting for transfer"),
    "waiting": _l("Waiting"),
    "preparing": _l("Preparing"),
    "waiting_cargo_label": _l("Waiting cargo label"),
    "packed": _l("Packed"),
    "ready_for_pickup": _l("Ready for pickup"),
    "shipped": _l("Shipped"),
    "attempted_delivery": _l("Attempted delivery"),
    "delivery_failed": _l("Delivery failed"),
    "delivered": _l("Delivered"),
    "out_of_stock": _l("Out of stock"),
    "blocked": _l("Blocked"),
    "refused": _l("Refused"),
    "packed_for_refund": _l("Packed for refund"),
    "cancelled": _l("Cancelled"),
    # transfers
    "ready_for_dispatch": _l("Ready for dispatch"),
    "in_transit": _l("In transit"),
    "received": _l("Received"),
    # shipments
    "pending": _l("Pending"),
    "label_ready": _l("Label ready"),
    "failed": _l("Failed"),
    # orders
    "new": _l("New"),
    "on_hold": _l("On hold"),
    "planned": _l("Planned"),
    "in_progress": _l("In progress"),
    "partially_shipped": _l("Partially shipped"),
    # pick batches
    "picking": _l("Picking"),
    "packing": _l("Packing"),
    "done": _l("Done"),
    # purchase orders, requisitions, quotes and inbound shipments (SPEC §14)
    "draft": _l("Draft"),
    "sent": _l("Sent"),
    "confirmed": _l("Confirmed"),
    "partially_received": _l("Partly received"),
    "closed": _l("Closed short"),
    "quoted": _l("Quoted"),
    "ordered": _l("Ordered"),
    "dismissed": _l("Dismissed"),
    "accepted": _l("Accepted"),
    "rejected": _l("Rejected"),
    "booked": _l("Booked"),
    "departed": _l("Departed"),
    "arrived": _l("Arrived"),
    # customer returns (SPEC §14)
    "requested": _l("Requested"),
    "inspected": _l("Inspected"),
    "restocked": _l("Restocked"),
    "written_off": _l("Written off"),
    # imports, webhook deliveries
    "queued": _l("Queued"),
    "running": _l("Running"),
    "finished": _l("Finished"),
    "retrying": _l("Retrying"),
    "succeeded": _l("Succeeded"),
    # delivery types
    "cargo": _l("Cargo"),
    # planning outcomes (the scenario dry run)
    "split": _l("Split"),
    "transfer": _l("Transfer"),
    "click_and_collect": _l("Click & collect"),
    "no_scenario": _l("No scenario"),
    "nothing_to_plan": _l("Nothing to plan"),
    # items
    "open": _l("Open"),
    "picked": _l("Picked"),
    "missing": _l("Missing"),
    # the channel inbox's outcomes and the updates told back to a channel (SPEC §13)
    "imported": _l("Imported"),
    "updated": _l("Updated"),
    "duplicate": _l("Duplicate"),
    "needs_attention": _l("Needs attention"),
    "ignored": _l("Ignored"),
    "returned": _l("Returned"),
    "refund": _l("Refund"),
}


def state_label(state: str | None) -> str:
    """`ready_for_dispatch` -> "Ready for dispatch" ("Gönderime hazır" in Turkish); a name not in
    the map reads with spaces."""
    if not state:
        return ""
    label = STATE_LABELS.get(state)
    return str(label) if label is not None else state.replace("_", " ").capitalize()


# A line of a package that gave everything up keeps its own state (`package_items.state` stays
# "open"): read alone it would say "Open" next to the package's live replacement.
ITEM_OF_ENDED_PACKAGE_LABELS: dict[str, LazyString] = {
    "cancelled": _l("Cancelled with the package"),
    "refused": _l("Released: the package was refused"),
}


def item_state_label(item: Any) -> str:
    """A package line's state for people: a still-"open" (or picked, packed) line of a cancelled or
    refused package says it went with the package; otherwise the item's own state."""
    from app.services.transitions import NOT_HOLDING_ITEM_STATES

    package_state = getattr(getattr(item, "package", None), "state", None)
    if package_state in ITEM_OF_ENDED_PACKAGE_LABELS and item.state not in NOT_HOLDING_ITEM_STATES:
        return str(ITEM_OF_ENDED_PACKAGE_LABELS[package_state])
    return state_label(item.state)


# Why a stock ledger row was written (`stock_ledger.reason`), in words for the ledger screens; the
# CSV export and the API keep the codes.
LEDGER_REASON_LABELS: dict[str, LazyString] = {
    "reserve": _l("Reserved"),
    "release": _l("Reservation released"),
    "release_missing": _l("Released: not found"),
    "deallocate": _l("Reservation taken back"),
    "consume": _l("Packed and out"),
    "pack": _l("Packed and out"),
    "initial_stock": _l("First stock"),
    "manual": _l("Counted by hand"),
    "receipt": _l("Received from supplier"),
    "return_restock": _l("Back on the shelf"),
    "return_to_stock": _l("Back to stock"),
    "transfer_out": _l("Sent by transfer"),
    "transfer_in": _l("Arrived by transfer"),
    "write_off": _l("Written off"),
    "cancel": _l("Cancelled"),
}


# What started a planning run (`planning_traces.trigger`), in words for the order page.
TRIGGER_LABELS: dict[str, LazyString] = {
    "job": _l("as it arrived"),
    "api": _l("by the API"),
    "batch": _l("batch run"),
    "sweep": _l("catch-up sweep"),
    "manual": _l("by hand"),
    "demo": _l("demo data"),  # the seeded orders; not "deneme" (trial), which Turkish uses for the dry run
    "released": _l("released from hold"),
    "replan": _l("re-planned"),
    "change": _l("order changed"),
    "report_missing": _l("items reported missing"),
    "refuse": _l("package refused"),
    "cancel_order": _l("units cancelled"),
}


def trigger_label(code: str | None) -> str:
    """`job` -> "as it arrived" ("geldiğinde"); another trigger (a command's name) reads with spaces."""
    if not code:
        return ""
    label = TRIGGER_LABELS.get(code)
    return str(label) if label is not None else code.replace("_", " ")


# Commands written in an order's history that are not a package's or a transfer's button.
COMMAND_LABELS: dict[str, LazyString] = {
    "create": _l("Order received"),
    "plan": _l("Planned"),
    "update_address": _l("Address changed"),
    "update_source_status": _l("Channel status changed"),
    "cancel_order": _l("Units cancelled"),
    "label_ready": _l("Label ready"),
    "status": _l("Follows its packages"),
    "request_label": _l("Label requested from the carrier"),
    # A package's or a transfer's: not their buttons' words ("Cancel package"), the row is either.
    "cancel": _l("Cancel it"),
    "cancel_at_carrier": _l("Cancelled at the carrier"),
}


def command_label(command: str | None) -> str:
    """A history row's command in words: a package's or transfer's button label ("ship" → "Ship",
    "Gönder"), or one of the order's own steps; another reads with spaces."""
    if not command:
        return ""
    from app.services.transitions import PACKAGE_TRANSITIONS, TRANSFER_TRANSITIONS

    label = COMMAND_LABELS.get(command)
    if label is None:
        found = PACKAGE_TRANSITIONS.get(command) or TRANSFER_TRANSITIONS.get(command)
        label = found.label if found is not None and found.label else None
    return str(label) if label is not None else command.replace("_", " ")


def ledger_reason(code: str | None) -> str:
    """`write_off` -> "Written off" ("Zarar yazıldı"); a code not in the map reads with spaces."""
    if not code:
        return ""
    label = LEDGER_REASON_LABELS.get(code)
    return str(label) if label is not None else code.replace("_", " ").capitalize()
