"""What the store's buttons cost the database on top of the command (SPEC §12, docs/benchmarks.md
"Command API"): Prepare, a scan and Pack without shipment posted as the tablet's htmx does (CSRF
header, session cookie) stay under a statement ceiling, read nothing after the command's commit
(the answer is drawn from what the command locked; the Refuse and packing forms' lists come from
the configuration snapshot) and cost at most one statement more than the same API command (the
browser session lookup instead of the token's). So a lazy load that sneaks back into a template
or the view's context fails here."""

from __future__ import annotations

import re

from sqlalchemy import create_engine, text

from app.extensions import db
from tests import factories
from tests.api.test_packages_api import auth
from tests.services.builders import make_package
from tests.statements import database_work
from tests.views.test_store_queue import PASSWORD

# SQLite counts its BEGIN IMMEDIATE statements too (PostgreSQL's BEGIN is implicit).
PREPARE_CEILING = 13
SCAN_CEILING = 8
PACK_CEILING = 14
# The browser session's lookup against the API token's (both read the configuration token too):
# the rest is the command itself.
OVER_THE_API = 0


def _token(html: str) -> str:
    return re.search(r'"X-CSRFToken": "([^"]+)"', html).group(1)


def _sign_in(client, username: str, store_code: str) -> dict[str, str]:
    """Signs in through the login form with its CSRF token, as a browser does; the headers htmx
    then sends with every button (base.html gives it the page's token)."""
    token = _token(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 303
    page = client.get(f"/store/{store_code}/")
    assert page.status_code == 200
    return {"HX-Request": "true", "X-CSRFToken": _token(page.get_data(as_text=True))}


def _setup():
    store = factories.location("IST-KDK", name="Kadıköy Store")
    factories.user("ayse", "staff", [store])
    factories.denial_reason("damaged", title="Item damaged")
    factories.cargo_company("demo", name="Demo Cargo")
    db.session.commit()
    packages = [make_package("waiting", location=store, items=[("TSHIRT-M", 1), ("CAP", 1)]) for _ in range(4)]
    db.session.commit()
    return store, [(p.id, [i.product.barcode_values[0] for i in p.items]) for p in packages]


def _buttons(client, headers, store, package_id, barcodes, measure=True):
    """Prepare, one scan per unit, Pack without shipment; each answer 200; the work of each."""
    base = f"/store/{store.code}/packages/{package_id}"
    steps = [("prepare", f"{base}/commands/prepare", {})] + \
            [("scan", f"{base}/scan", {"barcode": b}) for b in barcodes] + \
            [("pack", f"{base}/commands/complete_packing_without_shipment", {})]
    seen = []
    for name, url, form in steps:
        with database_work() as work:
            response = client.post(url, data=form, headers=headers)
        assert response.status_code == 200, (name, response.get_data(as_text=True)[:300])
        seen.append((name, work, response.get_data(as_text=True)))
    return seen


def test_the_store_buttons_stay_under_their_ceilings_and_read_nothing_after_the_commit(app, csrf_client):
    store, work = _setup()
    headers = _sign_in(csrf_client, "ayse", store.code)
    # The first commands of a process load the configuration snapshot and its lists; measure later ones.
    _buttons(csrf_client, headers, store, *work[0])
    ceilings = {"prepare": PREPARE_CEILING, "scan": SCAN_CEILING, "pack": PACK_CEILING}
    for name, seen, body in _buttons(csrf_client, headers, store, *work[1]):
        statements = seen["statements"]
        assert seen["commits"] == 1, (name, statements)
        # The answer is drawn from what the command holds: no transaction after the commit (no
        # lazy load in a template, no list read for a form, no configuration token read again).
        assert statements[seen["after_commit"]:] == [], (name, statements)
        assert len(statements) <= ceilings[name], (name, len(statements), statements)
        # A staff member's store comes with the signed-in session: no location lookup.
        assert not [s for s in statements if s.startswith("SELECT stock_locations.")], (name, statements)
        if name == "prepare":
            # What the person sees did not lose anything: the Refuse form lists the reasons and
            # every form posts to the command's own address.
            assert '<option value="damaged">Item damaged</option>' in body
            for command in ("complete_packing", "complete_packing_without_shipment", "refuse"):
                url = f"/store/{store.code}/packages/{work[1][0]}/commands/{command}"
                assert f'action="{url}" hx-post="{url}"' in body, command
        if name == "pack":
            assert "Packed." in body
            assert '<option value="demo">Demo Cargo</option>' in body  # the shipment form's carriers


def test_a_store_button_costs_at_most_the_session_lookup_more_than_the_api_command(app, csrf_client):
    store, work = _setup()
    token_headers = auth("mehmet", "staff", [store])
    headers = _sign_in(csrf_client, "ayse", store.code)
    _buttons(csrf_client, headers, store, *work[0])
    buttons = {name: len(seen["statements"]) for name, seen, _ in _buttons(csrf_client, headers, store, *work[1])}
    package_id, barcodes = work[2]
    api = {}
    for name, command, body in [("prepare", "prepare", None), ("scan", "pick", {"barcode": barcodes[0]}),
                                ("pack", "complete_packing_without_shipment", None)]:
        if name == "pack":
            response = csrf_client.post(f"/api/v1/packages/{package_id}/commands/pick",
                                        json={"barcode": barcodes[1]}, headers=token_headers)
            assert response.status_code == 200, response.get_json()
        with database_work() as seen:
            response = csrf_client.post(f"/api/v1/packages/{package_id}/commands/{command}", json=body,
                                        headers=token_headers)
        assert response.status_code == 200, response.get_json()
        api[name] = len(seen["statements"])
    for name in api:
        assert buttons[name] <= api[name] + OVER_THE_API, (name, buttons, api)


def test_a_denial_reason_or_cargo_company_changed_elsewhere_shows_in_the_very_next_answer(app, csrf_client):
    """The Refuse and packing forms' lists are kept per configuration snapshot: a change committed
    by another process (here: another connection, plain SQL) moves the configuration token
    (migrations 0011, 0025), so the next answer lists what is there now."""
    store, work = _setup()
    headers = _sign_in(csrf_client, "ayse", store.code)
    seen = dict((name, body) for name, _, body in _buttons(csrf_client, headers, store, *work[0]))
    assert "Item damaged" in seen["prepare"] and "Demo Cargo" in seen["pack"]
    other = create_engine(db.engine.url)
    try:
        with other.begin() as conn:
            conn.execute(text("UPDATE denial_reasons SET active = :off WHERE code = 'damaged'"), {"off": False})
            conn.execute(text("INSERT INTO denial_reasons (code, title, active, priority, created_at, updated_at) "
                              "VALUES ('wrong', 'Wrong item sent', :on, 1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"),
                         {"on": True})
            conn.execute(text("UPDATE cargo_companies SET name = 'Yurtiçi Kargo' WHERE code = 'demo'"))
    finally:
        other.dispose()
    seen = dict((name, body) for name, _, body in _buttons(csrf_client, headers, store, *work[1]))
    assert '<option value="wrong">Wrong item sent</option>' in seen["prepare"]
    assert "Item damaged" not in seen["prepare"]
    assert '<option value="demo">Yurtiçi Kargo</option>' in seen["pack"]
    assert "Demo Cargo" not in seen["pack"]


def test_someone_who_sees_every_store_still_finds_it_and_others_get_404(app, csrf_client):
    store, work = _setup()
    factories.user("admin1", "admin")
    elsewhere = factories.location("ANK-01")
    factories.user("veli", "staff", [elsewhere])
    db.session.commit()
    headers = _sign_in(csrf_client, "admin1", store.code)
    _buttons(csrf_client, headers, store, *work[0])
    csrf_client.post("/logout", headers=headers)
    headers = _sign_in(csrf_client, "veli", elsewhere.code)
    package_id = work[1][0]
    response = csrf_client.post(f"/store/{store.code}/packages/{package_id}/commands/prepare", headers=headers)
    assert response.status_code == 404
    assert csrf_client.get(f"/store/{store.code}/").status_code == 404
    db.session.rollback()
    from app.models import Package

    assert db.session.get(Package, package_id).state == "waiting"
