"""Failed background jobs (RQ failed registries) with retry; failed webhook deliveries are linked."""

from __future__ import annotations

from flask import current_app, flash, redirect, url_for
from flask_babel import gettext as _

from app.forms.supervisor import VersionForm
from app.services import admin_queries
from app.services.webhooks.subscriptions import failing_subscriptions
from app.views.htmx import render, wants_fragment
from app.views.security import role_required
from app.views.supervisor import MANAGERS, bp


def webhook_deliveries_url() -> str | None:
    """The webhooks engineer's failed-deliveries page, when it is installed."""
    for endpoint in ("admin_webhooks.index",):
        if endpoint in current_app.view_functions:
            return url_for(endpoint)
    return None


@bp.get("/jobs/failed")
@role_required(*MANAGERS)
def failed_jobs():
    return render("supervisor/jobs.html", "supervisor/_jobs_table.html", jobs=admin_queries.failed_jobs(),
                  form=VersionForm(formdata=None), webhooks_url=webhook_deliveries_url(),
                  failing_webhooks=failing_subscriptions())


@bp.post("/jobs/failed/<queue>/<job_id>/retry")
@role_required(*MANAGERS)
def retry_job(queue: str, job_id: str):
    form = VersionForm()
    if form.validate_on_submit():
        requeued = admin_queries.retry_failed_job(queue, job_id)
        flash(_("The job is queued again.") if requeued else _("That job is no longer in the failed list."), "ok")
    if wants_fragment():
        return render("supervisor/jobs.html", "supervisor/_jobs_table.html", jobs=admin_queries.failed_jobs(),
                      form=VersionForm(formdata=None), webhooks_url=webhook_deliveries_url(),
                      trigger={"jobs-changed": True})
    return redirect(url_for("supervisor.failed_jobs"), 303)
