"""Planning jobs: one order after it is committed, a batch run with progress, and the periodic
re-plan of out-of-stock packages."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, has_app_context
from rq import get_current_job

from app.models.base import utcnow
from app.services import planning
from app.services.planning import batch
from app.services.settings import get_setting
from app.tasks import job
from app.worker import Periodic, register_periodic


@job
def plan_order(order_id: int) -> str:
    """Job id `plan-order-<id>`. Idempotent: only unassigned units are planned, so a second run
    of an already planned order changes nothing."""
    return planning.plan_order_status(order_id, trigger="job")


@job
def plan_batch(chunk_size: int = 500) -> dict[str, int]:
    """Plan every waiting order; progress in job.meta["progress"] = {"done", "total"}."""
    current = get_current_job()

    def progress(done: int, total: int) -> None:
        if current is not None:
            current.meta["progress"] = {"done": done, "total": total}
            current.save_meta()

    order_ids = batch.waiting_order_ids()
    progress(0, len(order_ids))
    return batch.plan_batch(order_ids, chunk_size=chunk_size, progress=progress)


@job
def replan_out_of_stock(product_ids: list[int] | None = None) -> dict[str, int]:
    """Re-plan out-of-stock packages (those wanting `product_ids`, or all of them)."""
    return planning.replan_out_of_stock(product_ids)


@job
def plan_unplanned() -> dict[str, int]:
    """Periodic sweep: plan accepted orders whose planning job never ran (Redis was down when the
    order was accepted or released). Orders received in the last SWEEP_GRACE_SECONDS are left to
    their own job."""
    ids = batch.unplanned_order_ids(utcnow() - timedelta(seconds=SWEEP_GRACE_SECONDS))
    return batch.plan_batch(ids, trigger="sweep") if ids else {}


def _replan_interval(app: Flask) -> int:
    if has_app_context():
        minutes = get_setting("REPLAN_INTERVAL_MINUTES", 30)
    else:
        with app.app_context():
            minutes = get_setting("REPLAN_INTERVAL_MINUTES", 30)
    return max(1, int(minutes or 30)) * 60


SWEEP_SECONDS = 60
SWEEP_GRACE_SECONDS = 30

register_periodic(Periodic("plan-unplanned", "planning", "app.tasks.planning.plan_unplanned",
                           lambda app: SWEEP_SECONDS))
register_periodic(Periodic("replan-out-of-stock", "planning", "app.tasks.planning.replan_out_of_stock",
                           _replan_interval))
