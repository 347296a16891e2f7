"""What one store command costs the database (SPEC §12, docs/benchmarks.md): a ceiling on the
SQL statements of `pick`, `prepare`, packing and a package GET through the API, so a lazy load
that sneaks back in fails here, and a keyed command commits once."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models.events import OutboxEvent
from tests import factories
from tests.api.test_packages_api import auth, make_package
from tests.statements import database_work

# SQLite counts its BEGIN IMMEDIATE statements too (PostgreSQL's BEGIN is implicit).
PICK_CEILING = 9
PREPARE_CEILING = 12
PACKING_CEILING = 14
GET_CEILING = 6


def _store_with_packages(n: int):
    store = factories.location("IST-A")
    shirt = factories.product("SHIRT", barcode="8690000000017")
    jeans = factories.product("JEANS", barcode="8690000000024")
    factories.stock(store, shirt, on_hand=50)
    factories.stock(store, jeans, on_hand=50)
    db.session.commit()
    return store, [make_package(store, shirt, f"WEB-{k}", quantity=2) for k in range(n)]


def test_pick_and_prepare_stay_within_their_statement_ceilings(app, client):
    store, packages = _store_with_packages(2)
    ids = [p.id for p in packages]
    headers = auth("ayse", "staff", [store])
    # The first command of a process loads the configuration snapshot; measure the second.
    for pid in ids[:1]:
        assert client.post(f"/api/v1/packages/{pid}/commands/prepare", headers=headers).status_code == 200
    pid = ids[1]
    with database_work() as prepare:
        response = client.post(f"/api/v1/packages/{pid}/commands/prepare", headers=headers)
    assert response.status_code == 200, response.get_json()
    with database_work() as pick:
        response = client.post(f"/api/v1/packages/{pid}/commands/pick", json={"barcode": "8690000000017"},
                               headers=headers)
    assert response.status_code == 200, response.get_json()
    assert [i["picked_quantity"] for i in response.get_json()["items"]] == [1]
    assert len(prepare["statements"]) <= PREPARE_CEILING, prepare["statements"]
    assert len(pick["statements"]) <= PICK_CEILING, pick["statements"]
    # A barcode of no item in the package is still refused, and changes nothing.
    response = client.post(f"/api/v1/packages/{pid}/commands/pick", json={"barcode": "8690000000024"},
                           headers=headers)
    assert response.status_code == 422
    assert "not in this package" in response.get_json()["error"]["message"]


def test_a_keyed_command_commits_once_and_its_repeat_replays_the_same_answer(app, client):
    store, (package,) = _store_with_packages(1)
    headers = auth("ayse", "staff", [store])
    keyed = {**headers, "Idempotency-Key": "scan-1"}
    assert client.post(f"/api/v1/packages/{package.id}/commands/prepare", headers=headers).status_code == 200
    with database_work() as work:
        first = client.post(f"/api/v1/packages/{package.id}/commands/pick", json={"barcode": "8690000000017"},
                            headers=keyed)
    assert first.status_code == 200, first.get_json()
    # The command, its Idempotency-Key claim and the stored answer: one transaction, one commit.
    assert work["commits"] == 1, work["statements"]
    assert len(work["statements"]) <= PICK_CEILING + 4, work["statements"]
    with database_work() as work:
        again = client.post(f"/api/v1/packages/{package.id}/commands/pick", json={"barcode": "8690000000017"},
                            headers=keyed)
    assert again.status_code == 200 and again.headers.get("Idempotent-Replayed") == "true"
    assert again.get_data() == first.get_data()
    assert first.get_json()["items"][0]["picked_quantity"] == 1  # the scan counted once
    fresh = client.get(f"/api/v1/packages/{package.id}", headers=headers).get_json()
    assert fresh["items"][0]["picked_quantity"] == 1
    assert {k: v for k, v in fresh.items() if k != "updated_at"} == {
        k: v for k, v in first.get_json().items() if k != "updated_at"}
    assert fresh["updated_at"] == first.get_json()["updated_at"]


def test_packing_reads_the_configuration_token_once_and_does_not_reload_the_package(app, client):
    """A stock UPDATE is not a configuration change (the token is checked once per command), and
    the answer is built from the objects the command holds: nothing is read after the commit
    unless a follow-up job ran inline (RQ_SYNC)."""
    assert not app.config.get("RQ_SYNC")
    store, packages = _store_with_packages(2)
    headers = auth("ayse", "staff", [store])
    for package in packages:
        pid = package.id
        assert client.post(f"/api/v1/packages/{pid}/commands/prepare", headers=headers).status_code == 200
        for _ in range(2):
            response = client.post(f"/api/v1/packages/{pid}/commands/pick", json={"barcode": "8690000000017"},
                                   headers=headers)
            assert response.status_code == 200, response.get_json()
        with database_work() as work:
            response = client.post(f"/api/v1/packages/{pid}/commands/complete_packing_without_shipment",
                                   headers=headers)
        assert response.status_code == 200, response.get_json()
        assert response.get_json()["state"] == "packed"
    assert work["commits"] == 1, work["statements"]
    # Read once, and not in a statement of its own: the API token lookup reads it too.
    tokens = [s for s in work["sql"] if "config_versions" in s]
    assert len(tokens) == 1 and "api_tokens" in tokens[0], work["statements"]
    assert work["statements"][work["after_commit"]:] == [], work["statements"]
    assert len(work["statements"]) <= PACKING_CEILING, work["statements"]


def test_every_commands_answer_is_a_fresh_get_and_nothing_is_read_after_its_commit(app, client):
    """The answer is described from the objects the command locked and wrote (no reload): it must
    equal what a GET reads afterwards, field for field. Packing moves the package from preparing
    to packed, which cannot move the order's status (order_status.status_class): the order's
    items and packages are not read, and the order still says in_progress."""
    store, packages = _store_with_packages(2)
    headers = auth("ayse", "staff", [store])
    first = packages[0].id
    assert client.post(f"/api/v1/packages/{first}/commands/prepare", headers=headers).status_code == 200
    pid = packages[1].id
    steps = [("prepare", None, PREPARE_CEILING), ("pick", {"barcode": "8690000000017"}, PICK_CEILING),
             ("pick", {"barcode": "8690000000017"}, PICK_CEILING),
             ("complete_packing_without_shipment", None, PACKING_CEILING)]
    for command, body, ceiling in steps:
        with database_work() as work:
            response = client.post(f"/api/v1/packages/{pid}/commands/{command}", json=body, headers=headers)
        assert response.status_code == 200, response.get_json()
        assert work["commits"] == 1 and work["statements"][work["after_commit"]:] == [], (command, work["statements"])
        assert len(work["statements"]) <= ceiling, (command, work["statements"])
        with database_work() as read:
            fresh = client.get(f"/api/v1/packages/{pid}", headers=headers)
        assert fresh.status_code == 200 and fresh.headers["ETag"] == response.headers["ETag"]
        assert fresh.get_json() == response.get_json(), command
        assert len(read["statements"]) <= GET_CEILING, "\n".join(read["statements"])
    assert response.get_json()["state"] == "packed"
    assert not [s for s in work["statements"] if "FROM order_items" in s], work["statements"]
    order = client.get(f"/api/v1/orders/{response.get_json()['order']['id']}", headers=headers).get_json()
    assert order["status"] == "in_progress"


def test_a_setting_another_process_commits_is_seen_by_the_very_next_api_command(app, client):
    """The API token lookup reads the configuration token too (no statement of its own): a
    setting committed by another connection between two commands moves the token, so the next
    command's answer already follows it."""
    from sqlalchemy import update

    from app.models import Setting
    from app.services.settings import put_setting

    store, (package,) = _store_with_packages(1)
    put_setting("REQUIRE_SCAN_TO_PACK", False)
    db.session.commit()
    headers = auth("ayse", "staff", [store])
    pid = package.id
    assert client.post(f"/api/v1/packages/{pid}/commands/prepare", headers=headers).status_code == 200
    first = client.post(f"/api/v1/packages/{pid}/commands/pick", json={"barcode": "8690000000017"}, headers=headers)
    assert "complete_packing" in first.get_json()["allowed_commands"]  # scanning not required
    with db.engine.connect().execution_options(sqlite_immediate=True) as other:  # another process's write
        other.execute(update(Setting.__table__).where(Setting.key == "REQUIRE_SCAN_TO_PACK").values(value=True))
        other.commit()
    with database_work() as work:
        second = client.post(f"/api/v1/packages/{pid}/commands/complete_packing", json={}, headers=headers)
    # One unit of two is scanned and scanning is now required: packing is refused, nothing changed.
    assert second.status_code == 409, second.get_json()
    assert "Scan every item" in second.get_json()["error"]["message"]
    assert "complete_packing" not in second.get_json()["error"]["details"]["allowed_commands"]
    assert sum("config_versions" in s for s in work["sql"]) == 1, work["statements"]
    assert client.get(f"/api/v1/packages/{pid}", headers=headers).get_json()["state"] == "preparing"


def test_an_order_status_change_describes_the_order_without_loading_configuration_rows(app, client):
    """The order.status_changed payload names the order's channel, cargo company and package
    locations; inside a command they come from the configuration snapshot the command checked."""
    store, packages = _store_with_packages(2)
    cargo = factories.cargo_company("demo")
    for package in packages:
        package.order.cargo_company_id = cargo.id
    db.session.commit()
    ids = [p.id for p in packages]
    headers = auth("ayse", "staff", [store])
    # The first command of a process loads the configuration snapshot; measure the second.
    assert client.post(f"/api/v1/packages/{ids[0]}/commands/prepare", headers=headers).status_code == 200
    with database_work() as prepare:
        response = client.post(f"/api/v1/packages/{ids[1]}/commands/prepare", headers=headers)
    assert response.status_code == 200, response.get_json()
    loads = [s for s in (" ".join(s.split()) for s in prepare["sql"])
             if "FROM cargo_companies" in s or "FROM channels" in s or "FROM stock_locations WHERE" in s]
    assert loads == []
    event = db.session.scalars(select(OutboxEvent).where(OutboxEvent.type == "order.status_changed")
                               .order_by(OutboxEvent.id.desc())).first()
    assert (event.data["number"], event.data["cargo_company"], event.data["channel"]) == ("WEB-1", "demo", "web")
    assert [p["location"] for p in event.data["packages"]] == ["IST-A"]
