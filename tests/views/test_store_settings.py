"""My settings: scan sound and vibration, on by default, chosen per user from the store header."""

from __future__ import annotations

import re

from app.extensions import db
from app.models import User
from tests import factories
from tests.views.test_store_queue import HX, login, store_with_staff


def body_feedback(html: str) -> str:
    return re.search(r'<body[^>]*data-scan-feedback="(\w+)"', html).group(1)


def feedback_of(username: str) -> bool:
    db.session.rollback()
    return db.session.query(User).filter_by(username=username).one().scan_feedback


def test_scan_sound_is_on_by_default_and_my_settings_is_one_tap_from_the_header(app, client):
    store_with_staff()
    login(client)
    home = client.get("/store/IST-KDK/").get_data(as_text=True)
    assert body_feedback(home) == "on"
    header = home.split("</header>")[0]
    assert re.search(r'<a class="settings-link" href="/store/IST-KDK/settings"', header) and "My settings" in header
    page = client.get("/store/IST-KDK/settings").get_data(as_text=True)
    assert re.search(r'<input id="scan-feedback-switch" type="checkbox" role="switch" name="scan_feedback" value="on" checked>',
                     page)
    assert "Sound and vibration for scans" in page


def test_switching_it_off_without_javascript_saves_and_every_page_then_says_off(app, client):
    store = store_with_staff()
    factories.user("mert", "staff", [store])
    db.session.commit()
    login(client)
    saved = client.post("/store/IST-KDK/settings", data={})  # an unticked switch sends nothing
    assert saved.status_code == 303 and saved.headers["Location"].endswith("/store/IST-KDK/settings")
    page = client.get("/store/IST-KDK/settings").get_data(as_text=True)
    assert "Scans are now silent" in page and 'value="on" checked' not in page
    assert body_feedback(client.get("/store/IST-KDK/packages").get_data(as_text=True)) == "off"
    assert feedback_of("ayse") is False and feedback_of("mert") is True  # a setting per user


def test_saving_with_htmx_answers_the_fragment_and_an_event_with_the_new_choice(app, client):
    store_with_staff()
    login(client)
    client.post("/store/IST-KDK/settings", data={})
    response = client.post("/store/IST-KDK/settings", data={"scan_feedback": "on"}, headers=HX)
    body = response.get_data(as_text=True)
    assert response.status_code == 200 and body.lstrip().startswith('<section id="settings"')
    assert '"scan-feedback": "on"' in response.headers["HX-Trigger"]
    assert "Scans now beep" in body and feedback_of("ayse") is True


def test_another_stores_settings_url_is_404(app, client):
    store_with_staff()
    factories.location("ANK-01")
    db.session.commit()
    login(client)
    assert client.get("/store/ANK-01/settings").status_code == 404
    assert client.post("/store/ANK-01/settings", data={"scan_feedback": "on"}).status_code == 404
