"""ORDER_FILTERING refuses keys it does not have, on the admin screen and through the API: the
message names the key and the allowed one, and the stored value stays as it was."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.models import Setting
from app.services.settings import get_setting, put_setting
from tests import factories
from tests.views.test_auth import login

BEFORE = {"accepted_statuses": ["approved"]}


@pytest.fixture
def admin(app, client):
    factories.user("root", "admin")
    put_setting("ORDER_FILTERING", BEFORE)
    db.session.commit()
    login(client, "root")
    return client


def stored() -> object:
    db.session.rollback()
    return db.session.get(Setting, "ORDER_FILTERING").value


@pytest.mark.parametrize(("value", "named"), [
    ('{"accepted_status": ["approved", "paid"]}', '"accepted_status"'),
    ('{"accepted_statuses": ["paid"], "rejected_statuses": ["fraud"]}', '"rejected_statuses"'),
])
def test_the_admin_screen_names_the_unknown_key_and_the_allowed_one_and_saves_nothing(admin, value, named):
    response = admin.post("/admin/settings/ORDER_FILTERING", data={"value": value}, headers={"HX-Request": "true"})
    assert response.status_code == 422
    page = response.get_data(as_text=True).replace("&#34;", '"').replace("&quot;", '"')
    assert f"ORDER_FILTERING has no key {named}. The allowed key is \"accepted_statuses\"" in page
    assert "nothing was saved" in page
    assert stored() == BEFORE


def test_several_unknown_keys_are_all_named(admin):
    response = admin.post("/admin/settings/ORDER_FILTERING", data={"value": '{"a": 1, "b": 2}'})
    page = response.get_data(as_text=True).replace("&#34;", '"')
    assert response.status_code == 422 and 'has no keys "a", "b".' in page
    assert stored() == BEFORE


def test_the_refusal_is_in_turkish_on_a_turkish_page(admin):
    admin.post("/language", data={"language": "tr"})
    response = admin.post("/admin/settings/ORDER_FILTERING", data={"value": '{"statuses": ["paid"]}'})
    page = response.get_data(as_text=True).replace("&#34;", '"')
    assert response.status_code == 422 and '"statuses"' in page and "anahtar" in page
    assert stored() == BEFORE


def test_the_api_refuses_the_unknown_key_with_422_and_keeps_the_value(app, client):
    factories.user("erp", "admin")
    put_setting("ORDER_FILTERING", BEFORE)
    headers = {"Authorization": f"Token {factories.api_token('erp')}"}
    response = client.put("/api/v1/settings/ORDER_FILTERING", headers=headers,
                          json={"value": {"accepted_statuses": ["paid"], "acepted_statuses": ["x"]}})
    assert response.status_code == 422
    body = response.get_json()
    assert '"acepted_statuses"' in str(body) and '"accepted_statuses"' in str(body)
    assert stored() == BEFORE
    assert get_setting("ORDER_FILTERING") == BEFORE


def test_the_allowed_key_alone_is_still_saved(admin):
    response = admin.post("/admin/settings/ORDER_FILTERING", data={"value": '{"accepted_statuses": ["paid"]}'})
    assert response.status_code == 303
    assert stored() == {"accepted_statuses": ["paid"]}


def test_a_value_stored_before_the_check_keeps_its_statuses(app):
    """Written before keys were checked: the planner still reads its accepted statuses."""
    db.session.add(Setting(key="ORDER_FILTERING", value={"accepted_statuses": ["approved"], "note": "old"}))
    db.session.commit()
    assert get_setting("ORDER_FILTERING")["accepted_statuses"] == ["approved"]
