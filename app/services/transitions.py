"""The state machines of SPEC §4 as data: the one table that says which command moves what where.

UI, API, services and tests all read these tables. A `Transition` names the command, the states
it may start from, and where it goes (`None` = stays in the same state; `"@previous"` = back to
the remembered state, for `unblock`). Conditions that depend on more than the state (a shipment
exists, the channel prints its own label, click & collect) are named `guards`, checked by
`allowed_commands` and explained when they fail.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from app.models.packages import PACKAGE_STATES, TERMINAL_PACKAGE_STATES
from app.models.transfers import TRANSFER_STATES

PREVIOUS = "@previous"


@dataclass(frozen=True)
class Transition:
    command: str
    sources: tuple[str, ...]
    target: str | None  # None: stays; PREVIOUS: the remembered state
    guards: tuple[str, ...] = ()
    managers_only: bool = False  # supervisors, admins and the system
    label: str = ""
    destructive: bool = False
    params: tuple[str, ...] = field(default=())
    side: str | None = None  # transfers: "source" or "destination" — which store's staff may run it


_BEFORE_SHIPPED = tuple(
    s for s in PACKAGE_STATES
    if s not in TERMINAL_PACKAGE_STATES
    and s not in ("shipped", "attempted_delivery", "delivery_failed")
)
_PACKED_AND_LATER = ("packed", "ready_for_pickup", "shipped", "attempted_delivery", "delivery_failed", "delivered")

PACKAGE_TRANSITIONS: dict[str, Transition] = {t.command: t for t in (
    Transition("prepare", ("waiting",), "preparing", label="Start preparing"),
    Transition("pick", ("preparing",), None, label="Pick", params=("barcode", "quantity")),
    Transition("report_missing", ("waiting", "preparing"), None, label="Report missing items",
               params=("items", "whole_package")),
    Transition("complete_packing", ("preparing", "waiting"), "waiting_cargo_label",
               guards=("scan_complete_or_not_required", "carrier_ships", "cargo_delivery"), label="Complete packing",
               params=("boxes", "weight_kg")),
    Transition("complete_packing_without_shipment", ("waiting", "preparing"), "packed",
               label="Complete packing without shipment"),
    Transition("complete_packing_channel", ("waiting", "preparing"), "packed",
               guards=("channel_prints_label",), label="Complete packing (channel label)",
               params=("tracking_number", "label_url")),
    Transition("create_shipment", ("packed",), "waiting_cargo_label", guards=("no_shipment", "cargo_delivery"),
               label="Create shipment", params=("cargo_company",)),
    Transition("refresh_label", ("waiting_cargo_label", "packed", "shipped"), None, guards=("has_shipment",),
               label="Refresh label"),
    Transition("update_shipment_info", ("packed", "shipped", "attempted_delivery", "delivery_failed", "delivered"),
               None, guards=("has_shipment",), label="Update shipment info",
               params=("cargo_company", "tracking_number", "tracking_url")),
    Transition("ship", ("packed",), "shipped", guards=("has_shipment", "cargo_delivery"), label="Ship"),
    Transition("ship_advanced", ("packed",), "shipped", guards=("cargo_delivery",), label="Ship with details",
               params=("cargo_company", "tracking_number", "boxes", "weight_kg")),
    Transition("ship_without_integration", ("packed",), "shipped", guards=("cargo_delivery",),
               label="Ship without integration", params=("cargo_company", "tracking_number", "tracking_url")),
    Transition("update_shipment_status", ("shipped", "attempted_delivery", "delivery_failed"), "@status",
               label="Update delivery status", params=("status",)),
    Transition("ready_for_pickup", ("packed",), "ready_for_pickup", guards=("click_and_collect",),
               label="Ready for pickup"),
    Transition("deliver_to_customer", ("ready_for_pickup",), "delivered", label="Hand over to customer",
               params=("otp",)),
    Transition("refuse", ("waiting", "preparing"), "refused", label="Refuse", destructive=True, params=("reason",)),
    Transition("deallocate", ("waiting",), "preparing", label="Deallocate stock"),
    Transition("packed_for_refund", ("waiting", "preparing", "out_of_stock"), "packed_for_refund",
               label="Packed for refund", destructive=True),
    Transition("block", ("waiting_for_transfer", "waiting", "preparing"), "blocked", label="Block",
               params=("reason",)),
    Transition("unblock", ("blocked",), PREVIOUS, label="Unblock"),
    Transition("update_invoice", _PACKED_AND_LATER, None, label="Update invoice",
               params=("number", "date", "url", "document_base64")),
    Transition("manual_plan", ("waiting_for_transfer", "waiting", "preparing", "out_of_stock", "blocked"),
               "cancelled", managers_only=True, label="Plan manually", params=("assignments",)),
    Transition("cancel", _BEFORE_SHIPPED, "cancelled", managers_only=True, label="Cancel", destructive=True,
               params=("reason",)),
)}

# `update_shipment_status` may move to any of these (carrier news).
DELIVERY_STATUS_TARGETS = ("attempted_delivery", "delivery_failed", "delivered")

TRANSFER_TRANSITIONS: dict[str, Transition] = {t.command: t for t in (
    Transition("ready_for_dispatch", ("waiting",), "ready_for_dispatch", label="Ready for dispatch",
               params=("cargo_company", "tracking_number"), side="source"),
    Transition("dispatch", ("waiting", "ready_for_dispatch"), "in_transit", label="Dispatch", side="source"),
    Transition("receive", ("in_transit",), "received", label="Receive", side="destination"),
    Transition("report_missing", ("waiting",), None, label="Report missing items", params=("items",),
               side="source"),
    Transition("out_of_stock", ("waiting",), "out_of_stock", label="Out of stock", destructive=True,
               side="source"),
    Transition("cancel", ("waiting", "ready_for_dispatch"), "cancelled", managers_only=True, label="Cancel",
               destructive=True, params=("reason",)),
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

ORDER_COMMANDS = ("cancel", "plan")

assert all(s in PACKAGE_STATES for t in PACKAGE_TRANSITIONS.values() for s in t.sources)
assert all(s in TRANSFER_STATES for t in TRANSFER_TRANSITIONS.values() for s in t.sources)


# --- guards -------------------------------------------------------------------------------

def _setting(key: str, default):
    from app.services.settings import get_setting

    return get_setting(key, default)


def package_guard_failure(package, guard: str) -> str | None:
    """Why `guard` does not hold for `package` now, or None when it holds."""
    shipment = package.shipment
    if guard == "has_shipment":
        return None if shipment is not None and shipment.status != "cancelled" else "The package has no shipment."
    if guard == "no_shipment":
        return None if shipment is None or shipment.status == "cancelled" else "The package already has a shipment."
    if guard == "channel_prints_label":
        return None if package.order.channel.provides_shipping_label else "This channel does not print its own labels."
    if guard == "carrier_ships":
        if package.order.channel.provides_shipping_label:
            return "This channel prints its own label: use complete_packing_channel."
        return None
    if guard == "cargo_delivery":
        return None if package.order.delivery_type == "cargo" else "Click & collect packages are handed over, not shipped."
    if guard == "click_and_collect":
        return None if package.order.delivery_type == "click_and_collect" else "Only click & collect packages wait for pickup."
    if guard == "scan_complete_or_not_required":
        if package.state == "waiting" and _setting("REQUIRE_SCAN_TO_PACK", False):
            return "Scanning is required: start preparing and scan every item first."
        if package.state == "preparing" and _setting("REQUIRE_SCAN_TO_PACK", False):
            if any(i.state != "cancelled" and i.picked_quantity < i.quantity for i in package.items):
                return "Scan every item before completing packing."
        return None
    raise KeyError(guard)


def allowed_package_commands(package, manager: bool = True) -> list[str]:
    """The package commands allowed now, in table order (what UI buttons and the API list)."""
    result = []
    for t in PACKAGE_TRANSITIONS.values():
        if package.state not in t.sources or (t.managers_only and not manager):
            continue
        if any(package_guard_failure(package, g) for g in t.guards):
            continue
        result.append(t.command)
    return result


def allowed_transfer_commands(transfer, manager: bool = True) -> list[str]:
    return [t.command for t in TRANSFER_TRANSITIONS.values()
            if transfer.state in t.sources and (manager or not t.managers_only)]
