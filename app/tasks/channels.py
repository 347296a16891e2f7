"""Channel jobs (SPEC §13): inbox entries into orders, Trendyol-style pulls, status pushes
back, stock out. Thin wrappers: they take ids, reload rows and call `services.channels.*`."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask

from app.services.channels import intake
from app.tasks import job
from app.worker import Periodic, register_periodic

log = logging.getLogger(__name__)

QUEUE = "channels"


@job
def process_inbox_entry(entry_id: int) -> str:
    return intake.process_entry(entry_id)


@job
def sweep() -> dict[str, Any]:
    """Re-enqueue inbox entries whose job was lost."""
    stale = intake.stale_pending()
    for entry_id in stale:
        intake.enqueue_processing(entry_id)
    return {"requeued": len(stale)}


def _sweep_interval(app: Flask) -> int:
    return int(app.config.get("CHANNEL_SWEEP_SECONDS") or 30)


register_periodic(Periodic("channels_sweep", QUEUE, "app.tasks.channels.sweep", _sweep_interval))
