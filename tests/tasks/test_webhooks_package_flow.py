"""The real package commands, end to end: each change reaches a subscribed receiver, in order."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models.events import OutboxEvent
from app.models.webhooks import WebhookDelivery
from app.services.packages import run_package_command
from app.services.webhooks import publish_pending, verify
from tests.services.builders import get_cargo_company, make_package, staff
from tests.tasks.test_webhooks_flow import SECRET, Receiver, run_worker, running_receiver, subscribe


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as server:
        yield server


def test_a_package_from_waiting_to_delivered_reaches_the_receiver_in_order(app, receiver):
    package = make_package("waiting", items=[("TSHIRT-M", 2)])
    get_cargo_company("demo")
    db.session.commit()
    publish_pending()  # what happened before the subscription existed is not sent
    subscribe(receiver.url("/ok"))
    subscribe(receiver.url("/shipping"), ["package.shipped", "package.delivered"])
    before = db.session.scalar(select(OutboxEvent.id).order_by(OutboxEvent.id.desc()).limit(1)) or 0

    actor = staff(package.location)
    run_package_command(package.id, "prepare", {}, actor)
    run_package_command(package.id, "complete_packing_without_shipment", {}, actor)
    run_package_command(package.id, "ship_without_integration", {"cargo_company": "demo", "tracking_number": "X1"},
                        actor)
    run_package_command(package.id, "update_shipment_status", {"status": "delivered"}, actor)
    run_worker()

    db.session.rollback()
    expected = list(db.session.scalars(select(OutboxEvent.event_id).where(OutboxEvent.id > before)
                                       .order_by(OutboxEvent.id)))
    assert receiver.event_ids("/ok") == expected
    bodies = [json.loads(body) for _, body in receiver.requests_to("/ok")]
    package_states = [b["data"]["state"] for b in bodies if b["type"] == "package.state_changed"]
    assert package_states == ["preparing", "packed", "shipped", "delivered"]
    assert [b["previous"]["state"] for b in bodies if b["type"] == "package.state_changed"] == [
        "waiting", "preparing", "packed", "shipped"]
    assert [json.loads(b)["type"] for _, b in receiver.requests_to("/shipping")] == [
        "package.shipped", "package.delivered"]
    for headers, body in receiver.requests_to("/ok") + receiver.requests_to("/shipping"):
        assert verify(SECRET, body, headers["Packline-Signature"])
        assert not verify(SECRET + "x", body, headers["Packline-Signature"])
    assert set(db.session.scalars(select(WebhookDelivery.status))) == {"succeeded"}
