"""The admin webhook page: add a subscription, read the delivery log, send deliveries again."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlalchemy import select, update

from app.extensions import db
from app.models.webhooks import WebhookDelivery, WebhookSubscription
from app.services.settings import put_setting
from tests import factories
from tests.factories import PASSWORD
from tests.tasks.test_webhooks_flow import Receiver, change_package, run_worker, running_receiver


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as server:
        yield server


def sign_in(client, role: str = "admin") -> None:
    factories.user("boss", role)
    db.session.commit()
    assert client.post("/login", data={"username": "boss", "password": PASSWORD}).status_code in (302, 303)


def test_staff_cannot_open_the_webhook_page(app, client):
    store = factories.location()
    factories.user("ayse", "staff", [store])
    db.session.commit()
    client.post("/login", data={"username": "ayse", "password": PASSWORD})
    assert client.get("/admin/webhooks/").status_code == 403


def test_supervisors_see_webhooks_but_only_admins_change_them(app, client):
    sign_in(client, "supervisor")
    page = client.get("/admin/webhooks/")
    assert page.status_code == 200 and "Add a webhook" not in page.get_data(as_text=True)
    response = client.post("/admin/webhooks/", data={"url": "https://93.184.215.14/h", "events": ["*"], "secret": "x",
                                                     "strategy": "exponential", "max_attempts": "10"})
    assert response.status_code == 403
    assert db.session.scalar(select(WebhookSubscription)) is None


def test_an_admin_adds_a_webhook_and_a_bad_one_comes_back_with_its_errors(app, client):
    sign_in(client)
    bad = client.post("/admin/webhooks/", data={"url": "ftp://x.example/hooks", "secret": "", "strategy": "exponential",
                                                "max_attempts": "3"}, headers={"HX-Request": "true"})
    assert bad.status_code == 422
    html = bad.get_data(as_text=True)
    assert 'id="webhooks-index"' in html and "<html" not in html  # the fragment, re-rendered
    assert "URL must start with http:// or https://" in html
    assert "Attempts before giving up must be a whole number from 8 to 50." in html and "Max_attempts" not in html
    assert db.session.scalar(select(WebhookSubscription)) is None

    put_setting("WEBHOOK_ALLOW_PRIVATE_URLS", True)
    good = client.post("/admin/webhooks/", data={"url": "http://127.0.0.1:9/hooks", "events": ["package.shipped"],
                                                 "secret": "s3cret", "strategy": "linear", "max_attempts": "10",
                                                 "active": "on", "headers": "X-Api-Key: abc"})
    assert good.status_code == 303
    db.session.expire_all()
    sub = db.session.scalar(select(WebhookSubscription))
    assert (sub.url, sub.events, sub.retry_strategy, sub.max_attempts, sub.headers) == (
        "http://127.0.0.1:9/hooks", ["package.shipped"], "linear", 10, {"X-Api-Key": "abc"})
    page = client.get("/admin/webhooks/").get_data(as_text=True)
    assert "http://127.0.0.1:9/hooks" in page and "s3cret" not in page


def test_the_delivery_log_shows_attempts_and_failed_deliveries_are_sent_again(app, client, receiver):
    sign_in(client)
    put_setting("WEBHOOK_ALLOW_PRIVATE_URLS", True)
    client.post("/admin/webhooks/", data={"url": receiver.url("/down"), "events": ["*"], "secret": "s3cret",
                                          "strategy": "exponential", "max_attempts": "10", "active": "on"})
    sub_id = db.session.scalar(select(WebhookSubscription.id))
    event_id = change_package(4, "waiting", "preparing")
    run_worker()
    page = client.get(f"/admin/webhooks/{sub_id}").get_data(as_text=True)
    assert event_id in page and "retrying" in page and "HTTP 503" in page and "maintenance" in page
    assert not re.search(r"HTTP 503\s*<small>HTTP 503", page)  # the attempt log says the status once

    db.session.execute(update(WebhookDelivery).values(status="failed", next_attempt_at=None))
    db.session.commit()
    db.session.get(WebhookSubscription, sub_id).url = receiver.url("/ok")
    db.session.commit()
    page = client.get(f"/admin/webhooks/{sub_id}?status=failed").get_data(as_text=True)
    assert "Send all 1 failed again" in page
    fragment = client.post(f"/admin/webhooks/{sub_id}/redeliver-failed", headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and 'id="deliveries"' in fragment.get_data(as_text=True)
    run_worker()
    assert receiver.event_ids("/ok") == [event_id]

    delivery_id = db.session.scalar(select(WebhookDelivery.id))
    row = client.post(f"/admin/webhooks/{sub_id}/deliveries/{delivery_id}/redeliver", headers={"HX-Request": "true"})
    assert row.status_code == 200 and re.search(rf'<tbody id="delivery-{delivery_id}"', row.get_data(as_text=True))
    run_worker()
    assert receiver.event_ids("/ok") == [event_id, event_id]


def test_ticking_particular_events_subscribes_to_those_even_with_all_events_still_ticked(app, client):
    """The form opens with "All events" ticked; a browser without script sends it along with the
    events the admin ticked, and those events are what the webhook gets."""
    sign_in(client)
    put_setting("WEBHOOK_ALLOW_PRIVATE_URLS", True)
    page = client.get("/admin/webhooks/").get_data(as_text=True)
    assert re.search(r'value="\*" data-all-events\s+checked', page)  # the default the tester saw
    response = client.post("/admin/webhooks/", data={"url": "http://127.0.0.1:9/r", "events": ["*", "return.created"],
                                                     "secret": "s3cret", "strategy": "exponential",
                                                     "max_attempts": "10", "active": "on"})
    assert response.status_code == 303
    only_all = client.post("/admin/webhooks/", data={"url": "http://127.0.0.1:9/a", "events": ["*"], "secret": "s",
                                                     "strategy": "exponential", "max_attempts": "10"})
    assert only_all.status_code == 303
    db.session.expire_all()
    subs = {s.url: s.events for s in db.session.scalars(select(WebhookSubscription))}
    assert subs == {"http://127.0.0.1:9/r": ["return.created"], "http://127.0.0.1:9/a": ["*"]}
    listing = client.get("/admin/webhooks/").get_data(as_text=True)
    assert "return.created" in listing


@pytest.mark.parametrize(("attempts", "strategy", "english", "turkish"), [
    ("3", "exponential", "Attempts before giving up must be a whole number from 8 to 50.",
     "Vazgeçmeden önceki deneme sayısı 8 ile 50 arasında bir tam sayı olmalı."),
    ("8", "fixed", "With this retry strategy the attempts end before 24 hours have passed: raise the attempts "
     "before giving up.", "Bu yeniden deneme stratejisiyle denemeler 24 saat dolmadan biter: vazgeçmeden önceki "
     "deneme sayısını artırın."),
])
def test_retry_problems_name_the_forms_fields_not_the_apis(app, client, attempts, strategy, english, turkish):
    sign_in(client)
    data = {"url": "https://93.184.215.14/h", "events": ["*"], "secret": "s", "strategy": strategy,
            "max_attempts": attempts}
    html = client.post("/admin/webhooks/", data=data).get_data(as_text=True)
    assert english in html and "max_attempts" not in html.replace('name="max_attempts"', "")
    html_tr = client.post("/admin/webhooks/", data=data, headers={"Accept-Language": "tr"}).get_data(as_text=True)
    assert turkish in html_tr
    assert db.session.scalar(select(WebhookSubscription)) is None
