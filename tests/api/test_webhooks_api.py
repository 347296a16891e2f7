"""/api/v1/webhooks: subscriptions, validation, delivery log and redelivery (admin tokens only)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import select, update

from app.extensions import db
from app.models.webhooks import WebhookDelivery, WebhookSubscription
from app.services.settings import put_setting
from tests import factories
from tests.tasks.test_webhooks_flow import Receiver, change_package, run_worker, running_receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as server:
        yield server


VALID = {"url": "https://93.184.215.14/hooks", "events": ["package.state_changed"], "secret": "s3cret",
         "active": True, "retry": {"strategy": "exponential", "max_attempts": 10}}


@pytest.fixture
def admin(app) -> dict[str, str]:
    factories.user("erp", "admin")
    db.session.commit()
    return {"Authorization": f"Token {factories.api_token('erp')}"}


def test_admin_creates_reads_lists_updates_and_deletes_a_subscription(client, admin):
    created = client.post("/api/v1/webhooks", json=VALID, headers=admin)
    assert created.status_code == 201
    body = created.get_json()
    assert body["url"] == VALID["url"] and body["events"] == VALID["events"] and body["active"] is True
    assert body["retry"] == {"strategy": "exponential", "max_attempts": 10}
    assert "secret" not in body and "s3cret" not in created.get_data(as_text=True)
    sub_id = body["id"]
    assert client.get(f"/api/v1/webhooks/{sub_id}", headers=admin).get_json() == body

    listing = client.get("/api/v1/webhooks?page_size=1", headers=admin).get_json()
    assert listing["count"] == 1 and listing["results"] == [body] and listing["next"] is None

    changed = client.patch(f"/api/v1/webhooks/{sub_id}", json={"events": ["*"], "active": False,
                                                              "headers": {"Authorization": "Bearer x"}},
                           headers=admin)
    assert changed.status_code == 200
    assert changed.get_json()["events"] == ["*"] and changed.get_json()["active"] is False
    assert changed.get_json()["headers"] == ["Authorization"]  # names only: values may be credentials
    db.session.expire_all()
    assert db.session.get(WebhookSubscription, sub_id).secret == "s3cret"

    assert client.delete(f"/api/v1/webhooks/{sub_id}", headers=admin).status_code == 204
    assert client.get(f"/api/v1/webhooks/{sub_id}", headers=admin).status_code == 404


@pytest.mark.parametrize("change, field", [
    ({"url": "ftp://example.com/hooks"}, "url"),
    ({"url": "not a url"}, "url"),
    ({"events": ["package.teleported"]}, "events"),
    ({"events": []}, "events"),
    ({"secret": ""}, "secret"),
    ({"secret": "   "}, "secret"),
    ({"retry": {"strategy": "exponential", "max_attempts": 5}}, "retry.max_attempts"),
    ({"retry": {"strategy": "fixed", "max_attempts": 8}}, "retry.max_attempts"),  # 7 × 3 h < 24 h
    ({"retry": {"strategy": "sometimes", "max_attempts": 10}}, "retry.strategy"),
    ({"headers": {"Packline-Signature": "forged"}}, "headers"),
    ({"unknown": 1}, "unknown"),
])
def test_bad_subscriptions_get_422_with_the_field_and_nothing_is_stored(client, admin, change, field):
    response = client.post("/api/v1/webhooks", json={**VALID, **change}, headers=admin)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed" and field in error["details"]
    assert db.session.scalar(select(WebhookSubscription)) is None


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000/hooks", "http://10.1.2.3/hooks", "http://localhost/hooks",
                                 "http://169.254.169.254/latest/meta-data"])
def test_private_urls_are_refused_unless_the_setting_allows_them(client, admin, url):
    response = client.post("/api/v1/webhooks", json={**VALID, "url": url}, headers=admin)
    assert response.status_code == 422
    assert "WEBHOOK_ALLOW_PRIVATE_URLS" in response.get_json()["error"]["details"]["url"]
    put_setting("WEBHOOK_ALLOW_PRIVATE_URLS", True)
    assert client.post("/api/v1/webhooks", json={**VALID, "url": url}, headers=admin).status_code == 201


def test_only_admin_tokens_manage_webhooks(client, app):
    factories.user("boss", "supervisor")
    db.session.commit()
    headers = {"Authorization": f"Token {factories.api_token('boss')}"}
    assert client.get("/api/v1/webhooks", headers=headers).status_code == 403
    assert client.get("/api/v1/webhooks/1/deliveries", headers=headers).status_code == 403
    assert client.post("/api/v1/webhooks", json=VALID, headers=headers).status_code == 403
    assert client.get("/api/v1/webhooks").status_code == 401


def test_deliveries_are_listed_and_one_is_redelivered_with_the_same_event_id(client, admin, receiver):
    put_setting("WEBHOOK_ALLOW_PRIVATE_URLS", True)
    sub_id = client.post("/api/v1/webhooks", json={**VALID, "url": receiver.url("/ok")}, headers=admin).get_json()["id"]
    first = change_package(1, "waiting", "preparing")
    second = change_package(1, "preparing", "packed")
    run_worker()

    page = client.get(f"/api/v1/webhooks/{sub_id}/deliveries?page_size=1", headers=admin).get_json()
    assert page["count"] == 2 and page["next"] and page["previous"] is None
    [newest] = page["results"]
    assert newest["event"]["id"] == second and newest["status"] == "succeeded" and newest["attempts"] == 1
    page2 = client.get(page["next"], headers=admin).get_json()
    assert page2["results"][0]["event"]["id"] == first and page2["previous"]
    failed_only = client.get(f"/api/v1/webhooks/{sub_id}/deliveries?status=failed", headers=admin).get_json()
    assert failed_only["count"] == 0

    response = client.post(f"/api/v1/webhooks/{sub_id}/deliveries/{newest['id']}/redeliver", headers=admin)
    assert response.status_code == 202
    run_worker()
    assert receiver.event_ids("/ok") == [first, second, second]
    detail = client.get(f"/api/v1/webhooks/{sub_id}/deliveries/{newest['id']}", headers=admin).get_json()
    assert detail["status"] == "succeeded" and [a["number"] for a in detail["attempt_log"]] == [1, 2]
    assert [a["status_code"] for a in detail["attempt_log"]] == [204, 204]
    headers = receiver.requests_to("/ok")[-1][0]
    assert headers["Packline-Event-Id"] == second and headers["Packline-Attempt"] == "2"
    other = client.post(f"/api/v1/webhooks/{sub_id + 1}/deliveries/{newest['id']}/redeliver", headers=admin)
    assert other.status_code == 404


def test_redeliver_failed_sends_every_failed_delivery_again_after_the_receiver_is_fixed(client, admin, receiver):
    put_setting("WEBHOOK_ALLOW_PRIVATE_URLS", True)
    sub_id = client.post("/api/v1/webhooks", json={**VALID, "events": ["*"], "url": receiver.url("/down")},
                         headers=admin).get_json()["id"]
    ids = [change_package(2, "waiting", "preparing"), change_package(2, "preparing", "packed")]
    run_worker()
    assert len(receiver.requests_to("/down")) == 2
    # Time passes and every retry fails: the deliveries end up failed.
    db.session.execute(update(WebhookDelivery).values(status="failed", next_attempt_at=None))
    db.session.commit()
    assert client.patch(f"/api/v1/webhooks/{sub_id}", json={"url": receiver.url("/ok")},
                        headers=admin).status_code == 200

    response = client.post(f"/api/v1/webhooks/{sub_id}/redeliver-failed", headers=admin)
    assert response.status_code == 202 and response.get_json() == {"redelivered": 2}
    run_worker()
    assert sorted(receiver.event_ids("/ok")) == sorted(ids)
    bodies = [json.loads(body) for _, body in receiver.requests_to("/ok")]
    assert {b["id"] for b in bodies} == set(ids)
    db.session.rollback()
    assert db.session.scalars(select(WebhookDelivery.status)).all() == ["succeeded", "succeeded"]
    again = client.post(f"/api/v1/webhooks/{sub_id}/redeliver-failed", headers=admin).get_json()
    assert again == {"redelivered": 0}


def test_a_repeated_create_with_the_same_idempotency_key_makes_one_subscription(client, admin):
    headers = {**admin, "Idempotency-Key": "create-hook-1"}
    first = client.post("/api/v1/webhooks", json=VALID, headers=headers)
    again = client.post("/api/v1/webhooks", json=VALID, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.get_json() == first.get_json()
    assert len(db.session.scalars(select(WebhookSubscription)).all()) == 1
