"""Export jobs: write one background CSV export (re-loaded by id) on the bulk `imports` queue, and
a sweep every minute that fails runs whose worker died (no heartbeat), and an hourly one that
forgets week-old exports."""

from __future__ import annotations

from app.tasks import job
from app.worker import Periodic, register_periodic


@job
def run_export(run_id: int) -> dict:
    from app.services.export_runs import run_export as write

    run = write(run_id)
    if run is None:
        return {"status": "missing"}
    return {"status": run.status, "done": run.done, "total": run.total}


@job
def forget_old_exports() -> dict:
    from app.services.export_runs import forget_old_runs

    return {"deleted": forget_old_runs()}


@job
def notice_dead_exports() -> dict:
    from app.services.export_runs import notice_dead_runs

    return {"failed": notice_dead_runs()}


register_periodic(Periodic("exports-dead", "imports", "app.tasks.exports.notice_dead_exports", lambda app: 60))
register_periodic(Periodic("exports-sweep", "imports", "app.tasks.exports.forget_old_exports", lambda app: 3600))
