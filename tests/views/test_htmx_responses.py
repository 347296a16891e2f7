"""What an htmx request gets after a successful form: the redirect, pushed URL or retarget the
page needs (headers set through htmx-flask), and error pages as fragments."""

from __future__ import annotations

import io

from sqlalchemy import select

from app.extensions import db
from app.models import ImportRun, Package, Scenario, User
from app.models.webhooks import WebhookSubscription
from tests import factories
from tests.services.builders import get_product, make_package, set_stock
from tests.views.test_admin_scenarios import form as scenario_form
from tests.views.test_auth import login

HX = {"HX-Request": "true"}


def signed_in(client, role: str = "admin"):
    factories.user("boss", role)
    db.session.commit()
    login(client, "boss")
    return client


def test_a_user_created_from_htmx_is_opened_with_a_client_side_redirect(app, client):
    factories.location("IST-01")
    response = signed_in(client).post("/admin/users/new", headers=HX, data={
        "username": "ayse", "role": "staff", "locations": ["IST-01"], "password": "long-enough-pw"})
    user = db.session.scalar(select(User).where(User.username == "ayse"))
    assert response.status_code == 200 and response.headers["HX-Redirect"] == f"/admin/users/{user.id}/"


def test_a_saved_scenario_pushes_its_own_url(app, client):
    factories.location("WH-01")
    factories.channel("web")
    response = signed_in(client).post("/admin/scenarios/new", data=scenario_form(op="save"), headers=HX)
    scenario = db.session.scalar(select(Scenario))
    assert response.status_code == 200 and response.headers["HX-Push-Url"] == f"/admin/scenarios/{scenario.id}/"


def test_an_upload_from_htmx_redirects_to_its_progress_page(app, client):
    response = signed_in(client).post("/admin/imports/", headers=HX, data={
        "kind": "channels", "file": (io.BytesIO(b"code,name\nweb,Web\n"), "channels.csv")})
    run = db.session.scalar(select(ImportRun))
    assert response.status_code == 200 and response.headers["HX-Redirect"] == f"/admin/imports/{run.id}/"


def test_a_deleted_webhook_sends_htmx_back_to_the_list(app, client):
    signed_in(client)
    sub = WebhookSubscription(url="https://example.com/hook", secret="s" * 32, events=["*"])
    db.session.add(sub)
    db.session.commit()
    sub_id = sub.id
    response = client.post(f"/admin/webhooks/{sub_id}/delete", headers=HX)
    assert response.headers["HX-Redirect"] == "/admin/webhooks/"
    db.session.rollback()
    assert db.session.get(WebhookSubscription, sub_id) is None


def test_a_manual_plan_from_htmx_opens_the_order(app, client):
    home, store = factories.location("WH-01"), factories.location("IST-01")
    package = make_package("out_of_stock", location=home, items=[("SKU-A", 1)], spare=0)
    set_stock(store, get_product("SKU-A"), 1)
    db.session.commit()
    response = signed_in(client, "supervisor").post(f"/supervisor/packages/{package.id}/plan", headers=HX,
                                                    data={"all_location": "IST-01", "version": package.version})
    assert response.status_code == 200 and response.headers["HX-Redirect"] == f"/supervisor/orders/{package.order_id}/"
    db.session.rollback()
    assert db.session.get(Package, package.id).state == "cancelled"


def test_an_error_for_htmx_is_a_fragment_and_for_a_browser_a_page(app, client):
    signed_in(client)
    fragment = client.get("/admin/users/999999/", headers=HX)
    page = client.get("/admin/users/999999/")
    assert fragment.status_code == page.status_code == 404
    assert "<html" not in fragment.get_data(as_text=True) and "<html" in page.get_data(as_text=True)
