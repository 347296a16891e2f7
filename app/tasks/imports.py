"""Import jobs: one slice of a run (re-loaded by id), and the sweep that resumes runs whose
worker died; both on the `imports` queue."""

from __future__ import annotations

from app.tasks import job
from app.worker import Periodic, register_periodic


@job
def run_import(run_id: int, job_id: str | None = None) -> dict:
    from app.services.audit import acting_for_user
    from app.services.imports import run_import as process

    # Locations and channels an admin imports are audited as that admin's changes.
    with acting_for_user(_owner(run_id)):
        run = process(run_id, job_id)
    if run is None:
        return {"status": "missing"}
    return {"status": run.status, "done": run.done, "created": run.created, "updated": run.updated,
            "rejected": run.rejected}


def _owner(run_id: int) -> int | None:
    from app.extensions import db
    from app.models import ImportRun

    run = db.session.get(ImportRun, run_id)
    return run.created_by_id if run is not None else None


@job
def recover_stuck_runs() -> dict:
    from app.services.imports import recover_stuck_runs as recover

    return recover()


register_periodic(Periodic("imports-sweep", "imports", "app.tasks.imports.recover_stuck_runs", lambda app: 60))
