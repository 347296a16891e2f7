"""The requisition job: propose what each location should order (services/inbound/requisitions.py),
every REQUISITION_INTERVAL_MINUTES (a setting, default 60)."""

from __future__ import annotations

from flask import Flask, has_app_context

from app.services.db import committed
from app.services.inbound.requisitions import propose_requisitions as propose
from app.services.settings import get_setting
from app.tasks import job
from app.worker import Periodic, register_periodic

DEFAULT_MINUTES = 60


@job
def propose_requisitions() -> dict[str, int]:
    """Idempotent: proposals count the lines already requested, so a second run adds nothing."""
    return committed(propose)


def _interval(app: Flask) -> int:
    if has_app_context():
        minutes = get_setting("REQUISITION_INTERVAL_MINUTES", DEFAULT_MINUTES)
    else:
        with app.app_context():
            minutes = get_setting("REQUISITION_INTERVAL_MINUTES", DEFAULT_MINUTES)
    try:
        return max(1, int(minutes or DEFAULT_MINUTES)) * 60
    except (TypeError, ValueError):
        return DEFAULT_MINUTES * 60


register_periodic(Periodic("propose-requisitions", "default", "app.tasks.inbound.propose_requisitions", _interval))
