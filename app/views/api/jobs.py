"""/api/v1/jobs/{id}: status and progress of a background job the caller started (admins: any job)."""

from __future__ import annotations

import json
import re

from flask import jsonify
from flask_babel import gettext as _
from rq.exceptions import NoSuchJobError
from rq.job import Job

from app.queues import redis_connection
from app.schemas.common import JobOut
from app.services.errors import NotFound
from app.views.api.access import actor
from app.views.api.routing import api_route

OWNER = "owner_user_id"  # job.meta: who started it (admins read every job, others only their own)
STATUSES = {"queued": "queued", "deferred": "queued", "scheduled": "queued", "started": "started",
            "finished": "finished", "failed": "failed", "stopped": "failed", "canceled": "failed"}


@api_route("/v1/jobs/<job_id>", "GET", summary="Status, progress and result of a background job", tag="Jobs",
           response=JobOut)
def get_job(job_id: str):
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,200}", job_id):
        raise NotFound(_('There is no job %(job_id)s.', job_id=job_id))
    try:
        job = Job.fetch(job_id, connection=redis_connection())
    except NoSuchJobError:
        raise NotFound(_('There is no job %(job_id)s.', job_id=job_id)) from None
    viewer = actor()
    if viewer.role != "admin" and (job.meta or {}).get(OWNER) != viewer.user_id:
        raise NotFound(_('There is no job %(job_id)s.', job_id=job_id))  # another user's job, or an internal one
    raw = job.get_status()
    status = STATUSES.get(getattr(raw, "value", raw) or "queued", "queued")
    progress = (job.meta or {}).get("progress")
    if isinstance(progress, dict) and {"done", "total"} <= progress.keys():
        progress = {"done": progress["done"], "total": progress["total"]}
    else:
        progress = None
    return jsonify(id=job.id, status=status, progress=progress, result=_json_safe(job.return_value()),
                   error=_error(job) if status == "failed" else None)


def _json_safe(value):
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return str(value)
    return value


def _error(job: Job) -> str:
    """The last line of the failure (the exception), not the whole traceback."""
    result = job.latest_result()
    text = (result.exc_string if result is not None else None) or job.exc_info or "The job failed."
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:1000] if lines else "The job failed."
