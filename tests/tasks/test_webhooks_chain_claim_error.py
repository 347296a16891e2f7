"""A chain's claim of the next delivery goes wrong: the answer the receiver already gave for the
delivery just sent is kept (outbox._claim_next_safely), and the next one is left to a job."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from rq import Queue
from sqlalchemy import select, update

from app.extensions import db
from app.models.webhooks import WebhookAttempt, WebhookDelivery, WebhookSubscription
from app.queues import redis_connection
from app.services.webhooks import publish_pending, sender
from tests.tasks.test_webhooks_chain import claim_head
from tests.tasks.test_webhooks_flow import Receiver, change_package, running_receiver, subscribe


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as server:
        yield server


def test_a_failed_claim_of_the_next_delivery_keeps_the_answer_to_the_one_just_sent(app, receiver):
    subscription_id = subscribe(receiver.url("/ok"))
    ids = [change_package(n, "waiting", "preparing") for n in range(2)]
    assert publish_pending() == 2
    claim = claim_head()
    # The subscription's row goes bad after the first claim (headers that are not an object): the
    # next claim cannot build its request.
    db.session.execute(update(WebhookSubscription).where(WebhookSubscription.id == subscription_id)
                       .values(headers=[1, 2]))
    db.session.commit()
    Queue("webhooks", connection=redis_connection()).empty()

    assert sender.send_in_order(claim) == 1

    assert receiver.event_ids("/ok") == ids[:1]
    db.session.expire_all()
    first, second = db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.event_id)).all()
    assert (first.status, first.attempts, first.next_attempt_at) == ("succeeded", 1, None)
    logged = db.session.scalars(select(WebhookAttempt).where(WebhookAttempt.delivery_id == first.id)).all()
    assert [(a.number, a.status_code, a.error) for a in logged] == [(1, 204, None)]
    # Nothing of the failed claim stayed: the next delivery is untouched and waits for a job.
    assert (second.status, second.attempts) == ("pending", 0)
    assert db.session.scalars(select(WebhookAttempt).where(WebhookAttempt.delivery_id == second.id)).all() == []
    queued = Queue("webhooks", connection=redis_connection()).jobs
    assert [job.args for job in queued] == [(second.id,)]
