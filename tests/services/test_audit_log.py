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


def test_users_created_and_changed_on_the_admin_screens_are_logged_and_passwords_masked(app, client):
    from tests.views.test_auth import login

    factories.location("IST-01")
    factories.location("ANK-01")
    factories.user("root", "admin")
    db.session.commit()
    login(client, "root")
    assert client.post("/admin/users/new", data={"username": "ayse", "role": "staff", "locations": ["IST-01"],
                                                 "password": "long-enough-pw-1"}).status_code == 303
    [created] = entries("user")
    assert created.actor == "user:root" and created.entity_key == "ayse" and created.action == "created"
    assert created.changes["role"] == [None, "staff"] and created.changes["password_hash"] == [None, "••••••"]
    assert created.changes["locations"] == [[], ["IST-01"]]
    user_id = int(created.entity_id)
    assert client.post(f"/admin/users/{user_id}/", data={"role": "supervisor", "locations": ["ANK-01"],
                                                         "active": "y"}).status_code == 303
    changed = entries("user")[-1]
    assert changed.changes == {"role": ["staff", "supervisor"], "locations": [["IST-01"], ["ANK-01"]]}
    assert client.post(f"/admin/users/{user_id}/password", data={"password": "brand-new-secret"}).status_code == 303
    assert entries("user")[-1].changes == {"password_hash": ["••••••", "•••••• (changed)"]}
    assert "long-enough-pw-1" not in repr([e.changes for e in entries()])
    # Tokens: created and revoked, the hash never shown.
    client.post(f"/admin/users/{user_id}/tokens", data={"name": "erp"})
    token_entries = entries("token")
    assert token_entries[0].action == "created" and token_entries[0].changes["token_hash"] == [None, "••••••"]
    assert token_entries[0].changes["name"] == [None, "erp"]
    token_id = int(token_entries[0].entity_id)
    client.post(f"/admin/users/{user_id}/tokens/{token_id}/revoke")
    revoked = entries("token")[-1]
    assert revoked.action == "changed" and list(revoked.changes) == ["revoked_at"]


def test_settings_scenarios_rules_and_cargo_companies_over_the_api(app, client):
    store = factories.location("WH-01")
    factories.channel("web")
    db.session.commit()
    admin = auth("erp")
    assert client.put("/api/v1/settings/REQUIRE_SCAN_TO_PACK", json={"value": True}, headers=admin).status_code == 200
    assert client.put("/api/v1/settings/REQUIRE_SCAN_TO_PACK", json={"value": False}, headers=admin).status_code == 200
    client.put("/api/v1/settings/REQUIRE_SCAN_TO_PACK", json={"value": False}, headers=admin)  # no change: no entry
    first, second = entries("setting")
    assert (first.action, first.changes) == ("created", {"value": [None, True]})
    assert (second.action, second.changes) == ("changed", {"value": [True, False]})
    client.put("/api/v1/settings/ERP_API_TOKEN", json={"value": "tok-123"}, headers=admin)
    client.put("/api/v1/settings/PARTNER", json={"value": {"url": "https://x", "api_key": "abc"}}, headers=admin)
    logged = repr([e.changes for e in entries("setting")])
    assert "tok-123" not in logged and "abc" not in logged and "https://x" in logged
    scenario = {"name": "Web", "priority": 10, "active": True, "default_location": "WH-01",
                "conditions": {"channels": ["web"]}, "rules": [{"name": "Nearest store", "location_type": "store"}]}
    response = client.post("/api/v1/scenarios", json=scenario, headers=admin)
    assert response.status_code == 201, response.get_json()
    assert [e.entity_key for e in entries("scenario")] == ["Web"]
    assert entries("rule")[0].changes["name"] == [None, "Nearest store"]
    scenario_id = response.get_json()["id"]
    client.put(f"/api/v1/scenarios/{scenario_id}", json={**scenario, "priority": 5}, headers=admin)
    assert entries("scenario")[-1].changes == {"priority": [10, 5]}
    cargo = {"code": "demo", "name": "Demo Cargo", "adapter": "demo", "config": {"api_key": "k-999", "region": "TR"}}
    assert client.post("/api/v1/cargo-companies", json=cargo, headers=admin).status_code == 201
    [company] = entries("cargo company")
    assert company.changes["config"] == [None, {"api_key": "••••••", "region": "TR"}]
    _ = store


def test_a_refused_change_leaves_no_entry(app, client):
    admin = auth("erp")
    bad = {**LOCATION, "type": "shop"}
    assert client.post("/api/v1/locations", json=bad, headers=admin).status_code == 422
    assert entries() == []


def test_an_import_is_audited_as_the_admin_who_started_it(app, client):
    import io

    from tests.views.test_admin_imports import work
    from tests.views.test_auth import login

    factories.user("root", "admin")
    db.session.commit()
    login(client, "root")
    client.post("/admin/imports/", data={"kind": "locations",
                                         "file": (io.BytesIO(b"code,name\nIZM-01,Izmir Store\n"), "l.csv")},
                content_type="multipart/form-data")
    work()
    [entry] = entries("location")
    assert entry.entity_key == "IZM-01" and entry.actor == "user:root" and entry.action == "created"


def test_the_audit_page_is_for_admins_searches_and_exports(app, client):
    from tests.views.test_auth import login

    admin = auth("erp")
    client.post("/api/v1/locations", json=LOCATION, headers=admin)
    client.post("/api/v1/channels", json={"code": "web", "name": "Web"}, headers=admin)
    factories.user("root", "admin")
    factories.user("boss", "supervisor")
    db.session.commit()
    login(client, "boss")
    assert client.get("/reports/audit/").status_code == 403
    assert client.get("/reports/audit.csv").status_code == 403
    login(client, "root")
    html = client.get("/reports/audit/?kind=location").get_data(as_text=True)
    assert "IST-01" in html and 'data-audit="' in html and ">web<" not in html
    assert client.get("/reports/audit/?q=ist").get_data(as_text=True).count('data-audit="') == 1
    response = client.get("/reports/audit/?from=2026-12-02&to=2026-12-01")
    assert response.status_code == 422 and "before the start date" in response.get_data(as_text=True)
    text = client.get("/reports/audit.csv?kind=channel").get_data(as_text=True)
    assert text.startswith("\ufeffid,at,actor,kind,record,action,changes") and ",channel,web,created," in text


def test_the_audit_page_names_kinds_in_plain_words_and_the_csv_and_api_keep_the_codes(app, client):
    from app.services.audit import KINDS
    from app.services.audit_log import KIND_LABELS
    from tests.views.test_auth import login

    assert set(KIND_LABELS) == set(KINDS)  # a new kind of record gets its words too
    admin = auth("erp")
    client.post("/api/v1/channels", json={"code": "web", "name": "Web"}, headers=admin)
    factories.user("root", "admin")
    db.session.commit()
    login(client, "root")
    html = client.get("/reports/audit/").get_data(as_text=True)
    assert '<td data-kind="channel">Channel</td>' in html
    assert '<option value="denial reason" >Denial reason</option>' in html.replace("selected", "")
    assert '<option value="token" >API token</option>' in html.replace("selected", "")
    turkish = client.get("/reports/audit/", headers={"Accept-Language": "tr-TR,tr;q=0.9"}).get_data(as_text=True)
    assert '<td data-kind="channel">Kanal</td>' in turkish and ">Kullanıcı</option>" in turkish
    assert ">channel mapping<" not in turkish and ">cargo company<" not in turkish
    assert ",channel,web,created," in client.get("/reports/audit.csv?kind=channel").get_data(as_text=True)
    body = client.get("/api/v1/audit?kind=channel", headers=admin).get_json()
    assert {r["kind"] for r in body["results"]} == {"channel"}
