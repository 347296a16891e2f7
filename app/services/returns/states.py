"""The return state machine of SPEC §14 as data, read by the service, the API and the screens.

`requested → in_transit → received → inspected → restocked | written_off`; `inspect` passes
through `inspected` and lands on `restocked` when any unit went back on the shelf, else
`written_off`. `cancel` (a return that never came back: the customer kept the goods, or a failed
delivery was delivered after all) is ours: see docs/decisions.md.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.models.returns import RETURN_STATES
from app.services.transitions import Transition

INSPECT_TARGET = "@inspected"  # restocked or written_off, by what inspection found

RETURN_TRANSITIONS: dict[str, Transition] = {t.command: t for t in (
    Transition("ship", ("requested",), "in_transit", label=_l("Customer sent it")),
    Transition("receive", ("requested", "in_transit"), "received", label=_l("Receive"), params=("items",)),
    Transition("inspect", ("received",), INSPECT_TARGET, label=_l("Inspect return"), params=("items",)),
    Transition("cancel", ("requested", "in_transit"), "cancelled", managers_only=True, label=_l("Cancel return"),
               destructive=True, params=("reason",)),
)}

# Returns still to arrive at their location, and those the receiving screen lists.
EXPECTED_RETURN_STATES = ("requested", "in_transit")
RECEIVABLE_RETURN_STATES = (*EXPECTED_RETURN_STATES, "received")
FINISHED_RETURN_STATES = ("restocked", "written_off", "cancelled")

assert all(s in RETURN_STATES for t in RETURN_TRANSITIONS.values() for s in t.sources)


def allowed_return_commands(state: str, manager: bool = True) -> list[str]:
    """The return commands allowed in `state`, in table order."""
    return [t.command for t in RETURN_TRANSITIONS.values()
            if state in t.sources and (manager or not t.managers_only)]
