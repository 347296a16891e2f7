"""Customer returns (SPEC §14): creation (API, store counter, failed deliveries), receiving,
inspection. The state machine is `states.py`; the API shape `data.py`; the work `service.py`."""

from app.services.returns.data import return_dict
from app.services.returns.service import (
    FinishedLine,
    close_failed_delivery_return,
    count_return_scan,
    create_return,
    finish_receiving,
    open_failed_delivery_return,
    reset_return_scans,
    returnable_units,
    run_return_command,
    shipped_units,
)
from app.services.returns.states import RETURN_TRANSITIONS, allowed_return_commands

__all__ = [
    "RETURN_TRANSITIONS",
    "FinishedLine",
    "allowed_return_commands",
    "close_failed_delivery_return",
    "count_return_scan",
    "create_return",
    "finish_receiving",
    "open_failed_delivery_return",
    "reset_return_scans",
    "return_dict",
    "returnable_units",
    "run_return_command",
    "shipped_units",
]
