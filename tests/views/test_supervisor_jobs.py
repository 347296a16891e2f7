"""Failed background jobs are listed with their error and can be put back on their queue."""

from __future__ import annotations

from rq import Queue, SimpleWorker

from app.extensions import db
from app.queues import redis_connection
from tests import factories
from tests.views.test_auth import login


def _failing_job() -> str:
    queue = Queue("default", connection=redis_connection())
    job = queue.enqueue("builtins.int", "not a number", job_id="broken-1")
    SimpleWorker([queue], connection=redis_connection()).work(burst=True)
    assert job.get_status(refresh=True) == "failed"
    return job.id


def test_failed_jobs_are_listed_with_their_error_and_can_be_retried(app, client):
    job_id = _failing_job()
    factories.user("sup", "supervisor")
    db.session.commit()
    login(client, "sup")
    html = client.get("/supervisor/jobs/failed").get_data(as_text=True)
    assert f'data-job="{job_id}"' in html and "invalid literal for int()" in html
    response = client.post(f"/supervisor/jobs/failed/default/{job_id}/retry", headers={"HX-Request": "true"})
    assert response.status_code == 200 and "No failed jobs." in response.get_data(as_text=True)
    queue = Queue("default", connection=redis_connection())
    assert queue.fetch_job(job_id).get_status(refresh=True) == "queued"


def test_retrying_a_job_that_is_gone_says_so(app, client):
    factories.user("sup", "supervisor")
    db.session.commit()
    login(client, "sup")
    response = client.post("/supervisor/jobs/failed/default/nope/retry", follow_redirects=True)
    assert "no longer in the failed list" in response.get_data(as_text=True)
    assert client.post("/supervisor/jobs/failed/bogus/nope/retry").status_code == 404


def test_a_webhook_that_keeps_failing_is_on_the_supervisors_failed_list(app, client):
    from app.models import OutboxEvent, WebhookDelivery, WebhookSubscription
    from app.models.base import utcnow

    sub = WebhookSubscription(url="https://erp.example.com/hooks", events=["*"], secret="s3cret")
    event = OutboxEvent(type="package.created", aggregate_type="package", aggregate_id=1, data={})
    db.session.add_all([sub, event])
    db.session.flush()
    db.session.add(WebhookDelivery(subscription_id=sub.id, event_id=event.id, status="failed", attempts=10,
                                   last_error="HTTP 503", completed_at=utcnow()))
    factories.user("sup", "supervisor")
    db.session.commit()
    login(client, "sup")
    html = client.get("/supervisor/jobs/failed").get_data(as_text=True)
    assert f'data-subscription="{sub.id}"' in html and "HTTP 503" in html
    assert f"/admin/webhooks/{sub.id}" in html
    assert client.get(f"/admin/webhooks/{sub.id}").status_code == 200
