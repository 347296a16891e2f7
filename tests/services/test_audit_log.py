"""The audit log: a person's change to configuration is recorded with who, what, before → after,
secrets masked; system writes are not; the entry commits and rolls back with the change."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import AuditEntry, WebhookSubscription
from tests import factories
from tests.api.test_master_data_api import LOCATION, auth


def entries(kind: str | None = None) -> list[AuditEntry]:
    db.session.commit()
    query = select(AuditEntry).order_by(AuditEntry.id)
    if kind:
        query = query.where(AuditEntry.kind == kind)
    return list(db.session.scalars(query))


def test_a_location_created_and_changed_over_the_api_is_logged_with_before_and_after(app, client):
    admin = auth("erp")
    assert client.post("/api/v1/locations", json=LOCATION, headers=admin).status_code == 201
    assert client.patch("/api/v1/locations/IST-01", json={"priority": 5}, headers=admin).status_code == 200
    created, changed = entries("location")
    assert created.action == "created" and created.entity_key == "IST-01" and created.actor.startswith("token:erp#")
    assert created.changes["priority"] == [None, 10]
    assert changed.action == "changed" and changed.changes == {"priority": [10, 5]}
    assert changed.user_id is not None


def test_factories_and_other_system_writes_are_not_audited(app):
    factories.location("IST-01")
    factories.channel("web")
    db.session.commit()
    assert entries() == []


def test_a_webhook_secret_never_reaches_the_log(app, client):
    admin = auth("erp")
    body = {"url": "https://93.184.215.14/hooks", "events": ["package.state_changed"], "secret": "s3cret-value",
            "active": True, "headers": {"X-Api-Key": "k-123456", "X-Store": "IST"}}
    response = client.post("/api/v1/webhooks", json=body, headers=admin)
    assert response.status_code == 201, response.get_json()
    [entry] = entries("webhook")
    text = repr(entry.changes)
    assert "s3cret-value" not in text and "k-123456" not in text
    assert entry.changes["secret"] == [None, "••••••"]
    assert entry.changes["headers"][1] == {"X-Api-Key": "••••••", "X-Store": "IST"}
    sub_id = db.session.scalar(select(WebhookSubscription.id))
    assert client.patch(f"/api/v1/webhooks/{sub_id}", json={"secret": "another-secret"},
                        headers=admin).status_code == 200
    last = entries("webhook")[-1]
    assert last.changes == {"secret": ["••••••", "•••••• (changed)"]}
