"""Planning (SPEC §6): scenarios and rules decide where each order is packed.

`engine` is the pure algorithm on in-memory snapshots, `snapshot` loads them in a few queries,
`service` turns a plan into packages/transfers/reservations for one order, `batch` + `writer`
do the same for thousands of orders with bulk statements, `replan` re-tries out-of-stock
packages, `dryrun` plans without writing, `trace` renders 'why this location?'.

This package exports the per-order functions every command uses; the batch machinery (threads,
bulk writers) is imported only by those who run batches: `app.services.planning.batch`.
"""

from app.services.planning.dryrun import dry_run
from app.services.planning.replan import on_stock_increase, replan_out_of_stock
from app.services.planning.service import PlanResult, plan_order, plan_order_status, plan_unassigned, release_on_hold
from app.services.planning.trace import render as render_trace

__all__ = [
    "PlanResult",
    "dry_run",
    "on_stock_increase",
    "plan_order",
    "plan_order_status",
    "plan_unassigned",
    "release_on_hold",
    "render_trace",
    "replan_out_of_stock",
]
