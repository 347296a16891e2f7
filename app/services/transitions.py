"""The state machines of SPEC §4 as data: the one table that says which command moves what where.

UI, API, services and tests all read these tables. A `Transition` names the command, the states
it may start from, and where it goes (`None` = stays in the same state; `"@previous"` = back to
the remembered state, for `unblock`). Conditions that depend on more than the state (a shipment
exists, the channel prints its own label, click & collect) are named `guards`, checked by
`allowed_commands` and explained when they fail.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

from app.models.inbound import INBOUND_SHIPMENT_STATES, PURCHASE_ORDER_STATES
from app.models.packages import PACKAGE_STATES, TERMINAL_PACKAGE_STATES
from app.models.transfers import TRANSFER_STATES
from app.services.settings import get_setting

PREVIOUS = "@previous"

# --- named state groups: every module that asks "is this package/transfer/item ...?" reads these
# (OPEN_PACKAGE_STATES and TERMINAL_PACKAGE_STATES live with the model's CHECK constraint).
# Goods consumed at packing that have not left the building yet.
PACKED_STATES = ("waiting_cargo_label", "packed", "ready_for_pickup")
# With the carrier: shipped and not delivered yet.
OUT_WITH_CARRIER = ("shipped", "attempted_delivery", "delivery_failed")
SHIPPED_OR_LATER = (*OUT_WITH_CARRIER, "delivered")
PACKED_AND_LATER = ("packed", "ready_for_pickup", *SHIPPED_OR_LATER)
BEFORE_SHIPPED = tuple(s for s in PACKAGE_STATES if s not in TERMINAL_PACKAGE_STATES and s not in OUT_WITH_CARRIER)
# Work began at the store but nothing has left it.
IN_PROGRESS_STATES = ("preparing", "waiting_cargo_label", "packed", "ready_for_pickup")
# A package in these states holds none of the order's units (they may be planned again).
NOT_HOLDING_PACKAGE_STATES = ("cancelled", "refused")
NOT_HOLDING_ITEM_STATES = ("missing", "cancelled")
# Transfers not on the road yet (they can still be cancelled), and those still to arrive.
OPEN_TRANSFER_STATES = ("waiting", "ready_for_dispatch")
ACTIVE_TRANSFER_STATES = (*OPEN_TRANSFER_STATES, "in_transit")


@dataclass(frozen=True)
class Transition:
    command: str
    sources: tuple[str, ...]
    target: str | None  # None: stays; PREVIOUS: the remembered state
    guards: tuple[str, ...] = ()
    managers_only: bool = False  # supervisors, admins and the system
    # lazy: read in the request's language (flask_babel.lazy_gettext). A button says what it does
    # ("Cancel package", never a bare "Cancel": that msgid is a dialog's "never mind", "Vazgeç").
    label: str = ""
    destructive: bool = False
    params: tuple[str, ...] = field(default=())
    side: str | None = None  # transfers: "source" or "destination" — which store's staff may run it



PACKAGE_TRANSITIONS: dict[str, Transition] = {t.command: t for t in (
    Transition("prepare", ("waiting",), "preparing", label=_l("Start preparing")),
    Transition("pick", ("preparing",), None, label=_l("Pick"), params=("barcode", "quantity")),
    Transition("report_missing", ("waiting", "preparing"), None, label=_l("Report missing items"),
               params=("items", "whole_package")),
    Transition("complete_packing", ("preparing", "waiting"), "waiting_cargo_label",
               guards=("scan_complete_or_not_required", "carrier_ships", "cargo_delivery"), label=_l("Complete packing"),
               params=("boxes", "weight_kg")),
    Transition("complete_packing_without_shipment", ("waiting", "preparing"), "packed",
               label=_l("Complete packing without shipment")),
    Transition("complete_packing_channel", ("waiting", "preparing"), "packed",
               guards=("channel_prints_label",), label=_l("Complete packing (channel label)"),
               params=("tracking_number", "label_url")),
    Transition("create_shipment", ("packed",), "waiting_cargo_label", guards=("no_shipment", "cargo_delivery"),
               label=_l("Create shipment"), params=("cargo_company",)),
    Transition("refresh_label", ("waiting_cargo_label", "packed", "shipped"), None, guards=("has_shipment",),
               label=_l("Refresh label")),
    Transition("update_shipment_info", ("packed", *SHIPPED_OR_LATER),
               None, guards=("has_shipment",), label=_l("Update shipment info"),
               params=("cargo_company", "tracking_number", "tracking_url")),
    Transition("ship", ("packed",), "shipped", guards=("has_shipment", "cargo_delivery"), label=_l("Ship")),
    Transition("ship_advanced", ("packed",), "shipped", guards=("cargo_delivery",), label=_l("Ship with details"),
               params=("cargo_company", "tracking_number", "boxes", "weight_kg")),
    Transition("ship_without_integration", ("packed",), "shipped", guards=("cargo_delivery",),
               label=_l("Ship without integration"), params=("cargo_company", "tracking_number", "tracking_url")),
    Transition("update_shipment_status", OUT_WITH_CARRIER, "@status",
               label=_l("Update delivery status"), params=("status",)),
    Transition("ready_for_pickup", ("packed",), "ready_for_pickup", guards=("click_and_collect",),
               label=_l("Ready for pickup")),
    Transition("deliver_to_customer", ("ready_for_pickup",), "delivered", label=_l("Hand over to customer"),
               params=("otp",)),
    Transition("refuse", ("waiting", "preparing"), "refused", label=_l("Refuse"), destructive=True, params=("reason",)),
    Transition("deallocate", ("waiting",), "preparing", label=_l("Deallocate stock")),
    Transition("packed_for_refund", ("waiting", "preparing", "out_of_stock"), "packed_for_refund",
               label=_l("Packed for refund"), destructive=True),
    Transition("block", ("waiting_for_transfer", "waiting", "preparing"), "blocked", label=_l("Block"),
               params=("reason",)),
    Transition("unblock", ("blocked",), PREVIOUS, label=_l("Unblock")),
    Transition("update_invoice", PACKED_AND_LATER, None, label=_l("Update invoice"),
               params=("number", "date", "url", "document_base64")),
    Transition("manual_plan", ("waiting_for_transfer", "waiting", "preparing", "out_of_stock", "blocked"),
               "cancelled", managers_only=True, label=_l("Plan manually"), params=("assignments",)),
    Transition("cancel", BEFORE_SHIPPED, "cancelled", managers_only=True, label=_l("Cancel package"),
               destructive=True, params=("reason",)),
)}

# `update_shipment_status` may move to any of these (carrier news).
DELIVERY_STATUS_TARGETS = ("attempted_delivery", "delivery_failed", "delivered")

TRANSFER_TRANSITIONS: dict[str, Transition] = {t.command: t for t in (
    Transition("ready_for_dispatch", ("waiting",), "ready_for_dispatch", label=_l("Ready for dispatch"),
               params=("cargo_company", "tracking_number"), side="source"),
    Transition("dispatch", ("waiting", "ready_for_dispatch"), "in_transit", label=_l("Dispatch"), side="source"),
    Transition("receive", ("in_transit",), "received", label=_l("Receive"), side="destination"),
    Transition("report_missing", ("waiting",), None, label=_l("Report missing items"), params=("items",),
               side="source"),
    Transition("out_of_stock", ("waiting",), "out_of_stock", label=_l("Out of stock"), destructive=True,
               side="source"),
    Transition("cancel", ("waiting", "ready_for_dispatch"), "cancelled", managers_only=True, label=_l("Cancel transfer"),
               destructive=True, params=("reason",)),
)}

# Purchase orders (SPEC §14). `receive` goes to "@receipt": partially_received, or received once
# every line has arrived in full. Only `edit` changes a draft; from `sent` on, only commands do.
RECEIPT = "@receipt"
RECEIVABLE_PURCHASE_ORDER_STATES = ("sent", "confirmed", "in_transit", "partially_received")
PURCHASE_ORDER_TRANSITIONS: dict[str, Transition] = {t.command: t for t in (
    Transition("edit", ("draft",), None, managers_only=True, label=_l("Edit")),
    Transition("send", ("draft",), "sent", managers_only=True, label=_l("Send to supplier")),
    Transition("confirm", ("sent",), "confirmed", managers_only=True, label=_l("Supplier confirmed"),
               params=("expected_at",)),
    Transition("mark_in_transit", ("sent", "confirmed"), "in_transit", managers_only=True, label=_l("On the way")),
    Transition("receive", RECEIVABLE_PURCHASE_ORDER_STATES, RECEIPT, label=_l("Receive"), params=("lines", "receipt_key")),
    Transition("close_short", ("confirmed", "in_transit", "partially_received"), "closed", managers_only=True,
               label=_l("Close short"), destructive=True, params=("reason",)),
    Transition("cancel", ("draft", "sent", "confirmed"), "cancelled", managers_only=True,
               label=_l("Cancel purchase order"),
               destructive=True, params=("reason",)),
)}

# Inbound shipments: status events; `receive` (delivered) runs the purchase orders' receipts.
INBOUND_SHIPMENT_TRANSITIONS: dict[str, Transition] = {t.command: t for t in (
    Transition("depart", ("booked",), "departed", managers_only=True, label=_l("Departed"),
               params=("occurred_at", "eta", "note")),
    Transition("arrive", ("booked", "departed"), "arrived", managers_only=True, label=_l("Arrived"),
               params=("occurred_at", "eta", "note")),
    Transition("update_eta", ("booked", "departed"), None, managers_only=True, label=_l("Change ETA"),
               params=("eta", "note")),
    Transition("receive", ("booked", "departed", "arrived"), "delivered", label=_l("Receive"),
               params=("lines", "receipt_key")),
    Transition("cancel", ("booked",), "cancelled", managers_only=True, label=_l("Cancel shipment"),
               destructive=True, params=("note",)),
)}

SHIPMENT_TRANSITIONS: dict[str, tuple[str, ...]] = {
    # status -> statuses it may move to
    "pending": ("label_ready", "failed", "cancelled", "pending"),
    "failed": ("pending", "label_ready", "failed", "cancelled"),
    "label_ready": ("pending", "in_transit", "cancelled", "label_ready"),
    "in_transit": ("attempted_delivery", "delivery_failed", "delivered", "in_transit"),
    "attempted_delivery": ("in_transit", "attempted_delivery", "delivery_failed", "delivered"),
    "delivery_failed": ("in_transit", "attempted_delivery", "delivered", "delivery_failed"),
    "delivered": (),
    "cancelled": (),
}

assert all(s in PACKAGE_STATES for t in PACKAGE_TRANSITIONS.values() for s in t.sources)
assert all(s in TRANSFER_STATES for t in TRANSFER_TRANSITIONS.values() for s in t.sources)
assert all(s in PURCHASE_ORDER_STATES for t in PURCHASE_ORDER_TRANSITIONS.values() for s in t.sources)
assert all(s in INBOUND_SHIPMENT_STATES for t in INBOUND_SHIPMENT_TRANSITIONS.values() for s in t.sources)


# --- guards -------------------------------------------------------------------------------

@dataclass(frozen=True)
class PackageFacts:
    """What the guards need to know about a package besides its state. Plain values, so batch
    planning (which holds rows, not ORM objects) asks exactly the question the API asks."""

    state: str
    delivery_type: str
    channel_prints_label: bool
    shipment_status: str | None = None  # None: no shipment
    fully_picked: bool = False
    require_scan: bool = False


def package_facts(package, require_scan: bool | None = None) -> PackageFacts:
    """The facts of an ORM package; `require_scan` is read from the settings unless given."""
    if require_scan is None:
        require_scan = bool(get_setting("REQUIRE_SCAN_TO_PACK", False))
    order = package.order
    shipment = package.shipment
    return PackageFacts(
        state=package.state, delivery_type=order.delivery_type,
        channel_prints_label=bool(order.channel.provides_shipping_label),
        shipment_status=shipment.status if shipment is not None else None,
        fully_picked=all(i.picked_quantity >= i.quantity for i in package.items
                         if i.state not in NOT_HOLDING_ITEM_STATES),
        require_scan=require_scan)


def guard_failure(facts: PackageFacts, guard: str) -> str | None:
    """Why `guard` does not hold for a package with these facts, or None when it holds."""
    has_shipment = facts.shipment_status is not None and facts.shipment_status != "cancelled"
    if guard == "has_shipment":
        return None if has_shipment else "The package has no shipment."
    if guard == "no_shipment":
        return None if not has_shipment else "The package already has a shipment."
    if guard == "channel_prints_label":
        return None if facts.channel_prints_label else "This channel does not print its own labels."
    if guard == "carrier_ships":
        return "This channel prints its own label: use complete_packing_channel." if facts.channel_prints_label else None
    if guard == "cargo_delivery":
        return None if facts.delivery_type == "cargo" else "Click & collect packages are handed over, not shipped."
    if guard == "click_and_collect":
        return None if facts.delivery_type == "click_and_collect" else "Only click & collect packages wait for pickup."
    if guard == "scan_complete_or_not_required":
        if facts.require_scan and facts.state == "waiting":
            return "Scanning is required: start preparing and scan every item first."
        if facts.require_scan and facts.state == "preparing" and not facts.fully_picked:
            return "Scan every item before completing packing."
        return None
    raise KeyError(guard)


def package_guard_failure(package, guard: str) -> str | None:
    """Why `guard` does not hold for the ORM `package` now, or None when it holds."""
    return guard_failure(package_facts(package), guard)


# The transitions that may start from each state, for managers and for everyone else (table
# order): what `allowed_package_commands` then checks the guards of.
_FROM_STATE: dict[tuple[str, bool], tuple[Transition, ...]] = {
    (state, manager): tuple(t for t in PACKAGE_TRANSITIONS.values()
                            if state in t.sources and (manager or not t.managers_only))
    for state in PACKAGE_STATES for manager in (True, False)
}


def allowed_package_commands(package: PackageFacts | object, manager: bool = True) -> list[str]:
    """The package commands allowed now, in table order (what UI buttons and the API list).
    Takes an ORM package or its `PackageFacts`. The facts beyond the state (and the settings
    they read) are gathered only when a transition from this state has guards."""
    if isinstance(package, PackageFacts):
        facts, state = package, package.state
    else:
        facts, state = None, package.state  # type: ignore[attr-defined]
    candidates = _FROM_STATE.get((state, bool(manager)))
    if candidates is None:  # a state outside the table (never stored): no command
        return []
    result = []
    for t in candidates:
        if t.guards:
            if facts is None:
                facts = package_facts(package)
            if any(guard_failure(facts, g) for g in t.guards):
                continue
        result.append(t.command)
    return result


def allowed_transfer_commands(state: str, manager: bool = True) -> list[str]:
    """The transfer commands allowed in `state` (transfer commands depend on the state alone)."""
    return [t.command for t in TRANSFER_TRANSITIONS.values()
            if state in t.sources and (manager or not t.managers_only)]


def allowed_purchase_order_commands(state: str, manager: bool = True) -> list[str]:
    """The purchase order commands allowed in `state` (they depend on the state alone)."""
    return [t.command for t in PURCHASE_ORDER_TRANSITIONS.values()
            if state in t.sources and (manager or not t.managers_only)]


def allowed_inbound_shipment_commands(status: str, manager: bool = True) -> list[str]:
    """The inbound shipment commands allowed in `status`."""
    return [t.command for t in INBOUND_SHIPMENT_TRANSITIONS.values()
            if status in t.sources and (manager or not t.managers_only)]
