"""The import job: re-loads the run by id and lets the service stream the file."""

from __future__ import annotations

from app.tasks import job


@job
def run_import(run_id: int) -> dict:
    from app.services.imports import run_import as process

    run = process(run_id)
    if run is None:
        return {"status": "missing"}
    return {"status": run.status, "done": run.done, "created": run.created, "updated": run.updated,
            "rejected": run.rejected}
