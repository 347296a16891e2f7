"""Planning jobs: one order after it is committed, a batch run with progress, and the periodic
re-plan of out-of-stock packages."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, current_app, has_app_context
from rq import Queue, get_current_job
from rq.job import Job
from sqlalchemy import select

from app.extensions import db
from app.models import Order
from app.models.base import utcnow
from app.services import planning
from app.services.db import in_values
from app.services.package_commands.common import safe_enqueue
from app.services.planning import batch
from app.services.settings import get_setting
from app.tasks import job
from app.worker import Periodic, register_periodic


@job
def plan_order(order_id: int) -> str:
    """Job id `plan-order-<id>`. Idempotent: only unassigned units are planned, so a second run
    of an already planned order changes nothing.

    Group commit: when other orders' planning jobs wait behind this one (a burst — a sale, a
    marketplace's backlog), this job takes up to PLANNING_GROUP_LIMIT - 1 of them off the queue and
    plans them all in one transaction with the batch planner (the same rows as one by one; its
    commit costs the same as one order's). Alone, the order takes the real-time path. An order of
    the group the batch skipped (another transaction held it) gets its job back — this job's own
    order is planned by this job, waiting for the lock; a job for an order that does not exist
    fails on its own, as it would alone — and when the group fails, every taken
    order gets its job back before the error is raised. A worker killed between taking the jobs
    and committing leaves their orders to the periodic sweep (`plan_unplanned`: the order row
    is the durable request), about a minute and a half later."""
    others = _take_waiting_jobs(current_app.config.get("PLANNING_GROUP_LIMIT", 1) - 1)
    if not others:
        return planning.plan_order_status(order_id, trigger="job")
    group = [order_id, *others]
    try:
        batch.plan_batch(group, chunk_size=len(group), trigger="job")
        left = batch.unplanned_order_ids(utcnow(), among=group)
        statuses = dict(db.session.execute(select(Order.id, Order.status).where(in_values(Order.id, group))).all())
    except BaseException:
        _give_back(others)  # this job fails (and is retried) alone; the others keep their own jobs
        raise
    # Skipped orders, and jobs for orders that do not exist (they fail on their own, as alone).
    _give_back([other for other in others if other in left or other not in statuses])
    if order_id in left or order_id not in statuses:  # held by another transaction, or no such order
        return planning.plan_order_status(order_id, trigger="job")
    return statuses[order_id]


def _give_back(order_ids: list[int]) -> None:
    """Queue the planning jobs of orders this job took but did not plan."""
    for other in order_ids:
        safe_enqueue("planning", "app.tasks.planning.plan_order", other, job_id=f"plan-order-{other}")


JOB_PREFIX = "plan-order-"


def _take_waiting_jobs(limit: int) -> list[int]:
    """The orders of up to `limit` plan-order jobs queued behind the running one, taken off the
    queue (and their job records deleted) atomically per job: a job another worker dequeued
    meanwhile stays its own. [] outside a worker (RQ_SYNC, a script) or when none wait."""
    current = get_current_job()
    if current is None or limit < 1:
        return []
    conn = current.connection
    queue = Queue(current.origin, connection=conn)
    waiting = [j for j in queue.get_job_ids(0, limit * 2) if j.startswith(JOB_PREFIX)][:limit]
    if not waiting:
        return []
    pipe = conn.pipeline()
    for job_id in waiting:
        pipe.lrem(queue.key, 1, job_id)
    taken = [job_id for job_id, removed in zip(waiting, pipe.execute(), strict=True) if removed]
    if taken:
        conn.delete(*[Job.key_for(job_id) for job_id in taken])
    return [int(job_id[len(JOB_PREFIX):]) for job_id in taken if job_id[len(JOB_PREFIX):].isdigit()]


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
