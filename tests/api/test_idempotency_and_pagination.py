"""Idempotency-Key replays (and refuses) writes; lists page with absolute next/previous URLs."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.models import IdempotencyRecord, OutboxEvent, Package, StockLedger, StockLocation, TransitionLog, User
from app.models.base import utcnow
from app.services.idempotency import fingerprint as request_fingerprint
from tests import factories
from tests.api.helpers import auth
from tests.services.builders import make_package

LOCATION = {"code": "IST-01", "name": "Kadikoy Store", "type": "store"}


def written_rows() -> tuple[int, int, int, int]:
    db.session.commit()  # a fresh snapshot: on SQLite an open read transaction sees old rows
    return tuple(db.session.scalar(select(func.count()).select_from(m))
                 for m in (OutboxEvent, TransitionLog, StockLedger, StockLocation))


def test_the_same_key_and_body_replays_the_first_response_without_running_again(app, client):
    factories.location("WH-01")
    factories.product("TSHIRT-M")
    admin = auth("erp")
    first = client.post("/api/v1/locations", json=LOCATION, headers={**admin, "Idempotency-Key": "loc-1"})
    stock = client.put("/api/v1/stock", json=[{"location": "WH-01", "sku": "TSHIRT-M", "quantity": 5}],
                       headers={**admin, "Idempotency-Key": "stock-1"})
    assert (first.status_code, stock.status_code) == (201, 200)
    before = written_rows()
    assert before == (1, 0, 1, 2)
    again = client.post("/api/v1/locations", json=LOCATION, headers={**admin, "Idempotency-Key": "loc-1"})
    assert again.status_code == 201
    assert again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    stock_again = client.put("/api/v1/stock", json=[{"location": "WH-01", "sku": "TSHIRT-M", "quantity": 5}],
                             headers={**admin, "Idempotency-Key": "stock-1"})
    assert stock_again.get_json() == {"updated": 1, "unchanged": 0}  # the first answer, not a re-run's
    assert written_rows() == before
    # Without the key the same request really runs (and is a duplicate).
    assert client.post("/api/v1/locations", json=LOCATION, headers=admin).status_code == 409


def test_the_same_key_with_another_body_is_a_conflict(app, client):
    admin = auth("erp")
    client.post("/api/v1/locations", json=LOCATION, headers={**admin, "Idempotency-Key": "k"})
    other = client.post("/api/v1/locations", json={**LOCATION, "code": "IST-02"},
                        headers={**admin, "Idempotency-Key": "k"})
    assert other.status_code == 409
    assert other.get_json()["error"]["code"] == "idempotency_key_reused"
    other_path = client.post("/api/v1/channels", json=LOCATION, headers={**admin, "Idempotency-Key": "k"})
    assert other_path.status_code == 409
    assert other_path.get_json()["error"]["code"] == "idempotency_key_reused"
    assert written_rows()[3] == 1


def test_a_duplicate_while_the_first_is_still_running_is_refused(app, client):
    admin = auth("erp")
    user = db.session.scalar(select(User).where(User.username == "erp"))
    body = b'{"code": "IST-01", "name": "Kadikoy Store"}'
    db.session.add(IdempotencyRecord(user_id=user.id, key="busy", method="POST", path="/api/v1/locations",
                                     request_hash=request_fingerprint("POST", "/api/v1/locations", body)))
    db.session.commit()
    response = client.post("/api/v1/locations", data=body,
                           headers={**admin, "Idempotency-Key": "busy", "Content-Type": "application/json"})
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "request_in_progress"
    assert written_rows()[3] == 0


def test_keys_are_per_user_and_expire_after_a_day(app, client):
    first, second = auth("erp"), auth("pos")
    assert client.post("/api/v1/locations", json=LOCATION, headers={**first, "Idempotency-Key": "k"}).status_code == 201
    # Another user's identical key is their own: the request runs (and meets the duplicate).
    theirs = client.post("/api/v1/locations", json=LOCATION, headers={**second, "Idempotency-Key": "k"})
    assert theirs.status_code == 409 and "Idempotent-Replayed" not in theirs.headers
    assert theirs.get_json()["error"]["code"] == "duplicate"
    record = db.session.scalar(select(IdempotencyRecord).where(IdempotencyRecord.status_code == 201))
    record.created_at = utcnow() - timedelta(hours=25)
    db.session.commit()
    expired = client.post("/api/v1/locations", json=LOCATION, headers={**first, "Idempotency-Key": "k"})
    assert expired.status_code == 409 and "Idempotent-Replayed" not in expired.headers
    assert expired.get_json()["error"]["code"] == "duplicate"
    assert written_rows()[3] == 1  # the location was created exactly once


def stored_keys() -> list[tuple[str, int | None]]:
    db.session.commit()
    return [(r.key, r.status_code) for r in db.session.scalars(select(IdempotencyRecord).order_by(IdempotencyRecord.id))]


def test_a_failed_command_leaves_no_key_so_a_corrected_retry_runs(app, client):
    package = make_package("waiting")
    admin = auth("erp")
    bad = client.post("/api/v1/locations", json={**LOCATION, "code": "has space"},
                      headers={**admin, "Idempotency-Key": "fix-me"})
    assert bad.status_code == 422
    # Refused inside its write transaction (the claim was already inserted there): rolled back with it.
    refused = client.post(f"/api/v1/packages/{package.id}/commands/ship", headers={**admin, "Idempotency-Key": "ship"})
    assert refused.status_code == 409 and refused.get_json()["error"]["code"] == "command_not_allowed"
    assert stored_keys() == []
    fixed = client.post("/api/v1/locations", json=LOCATION, headers={**admin, "Idempotency-Key": "fix-me"})
    assert fixed.status_code == 201 and "Idempotent-Replayed" not in fixed.headers
    assert stored_keys() == [("fix-me", 201)]
    again = client.post("/api/v1/locations", json=LOCATION, headers={**admin, "Idempotency-Key": "fix-me"})
    assert again.headers["Idempotent-Replayed"] == "true" and again.get_json() == fixed.get_json()


def test_a_claim_whose_answer_was_lost_is_never_run_again(app, client):
    """The claim commits with the command, so a claim without an answer means the command ran
    and the process died before storing the answer: a retry must not run it a second time."""
    admin = auth("erp")
    user = db.session.scalar(select(User).where(User.username == "erp"))
    body = b'{"code": "IST-01", "name": "Kadikoy Store"}'
    db.session.add(IdempotencyRecord(user_id=user.id, key="lost", method="POST", path="/api/v1/locations",
                                     request_hash=request_fingerprint("POST", "/api/v1/locations", body),
                                     created_at=utcnow() - timedelta(minutes=10)))
    db.session.commit()
    response = client.post("/api/v1/locations", data=body,
                           headers={**admin, "Idempotency-Key": "lost", "Content-Type": "application/json"})
    assert response.status_code == 409 and response.get_json()["error"]["code"] == "request_answer_lost"
    assert written_rows()[3] == 0


def test_validation_errors_are_replayed_too(app, client):
    admin = auth("erp")
    bad = {"code": "has space", "name": "x"}
    first = client.post("/api/v1/locations", json=bad, headers={**admin, "Idempotency-Key": "bad"})
    again = client.post("/api/v1/locations", json=bad, headers={**admin, "Idempotency-Key": "bad"})
    assert first.status_code == again.status_code == 422
    assert again.get_json() == first.get_json()


def test_lists_page_with_absolute_links(app, client):
    for n in range(5):
        factories.location(f"L{n}")
    admin = auth("erp")
    page1 = client.get("/api/v1/locations?page_size=2&type=store", headers=admin).get_json()
    assert page1["count"] == 5 and [r["code"] for r in page1["results"]] == ["L0", "L1"]
    assert page1["previous"] is None
    assert page1["next"] == "http://localhost/api/v1/locations?page_size=2&type=store&page=2"
    page3 = client.get(page1["next"].replace("page=2", "page=3"), headers=admin).get_json()
    assert [r["code"] for r in page3["results"]] == ["L4"] and page3["next"] is None
    assert page3["previous"] == "http://localhost/api/v1/locations?page_size=2&type=store&page=2"
    default = client.get("/api/v1/locations", headers=admin).get_json()
    assert default["count"] == 5 and len(default["results"]) == 5 and default["next"] is None


def test_bad_page_parameters_get_422(app, client):
    admin = auth("erp")
    for query in ("page=0", "page=x", "page_size=201", "page_size=-1", "page_size=0"):
        response = client.get(f"/api/v1/locations?{query}", headers=admin)
        assert response.status_code == 422, query
        assert set(response.get_json()["error"]["details"]) <= {"page", "page_size"}
    assert client.get("/api/v1/locations?page_size=200", headers=admin).status_code == 200


def test_concurrent_duplicates_run_once(app, live_server):
    import threading

    import requests

    admin = auth("erp")
    barrier = threading.Barrier(5)
    answers: list[tuple[int, bool]] = []

    def post() -> None:
        barrier.wait()
        response = requests.post(f"{live_server}/api/v1/locations", json=LOCATION, timeout=30,
                                 headers={**admin, "Idempotency-Key": "race"})
        answers.append((response.status_code, response.headers.get("Idempotent-Replayed") == "true"))

    threads = [threading.Thread(target=post) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert [a for a in answers if a == (201, False)] == [(201, False)]  # ran exactly once
    assert all(a in ((201, True), (409, False)) for a in answers if a != (201, False))
    assert written_rows()[3] == 1 and written_rows()[0] == 1


def test_twenty_identical_keyed_commands_at_once_apply_exactly_once(app, live_server):
    """Real threads through the real server: the claim's unique key makes the duplicates wait for
    the first command's transaction, then answer with its stored answer (or 409 while it is not
    stored yet), never running the pick again."""
    import threading

    import requests

    factories.product("SKU-A", barcode="8690000000017")
    package = make_package("preparing", items=[("SKU-A", 20)])
    admin = auth("erp")
    url = f"{live_server}/api/v1/packages/{package.id}/commands/pick"
    barrier = threading.Barrier(20)
    answers: list[tuple[int, bool, dict]] = []

    def pick() -> None:
        barrier.wait()
        response = requests.post(url, json={"barcode": "8690000000017", "quantity": 1}, timeout=60,
                                 headers={**admin, "Idempotency-Key": "scan-1"})
        answers.append((response.status_code, response.headers.get("Idempotent-Replayed") == "true",
                        response.json()))

    threads = [threading.Thread(target=pick) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ran = [body for status, replayed, body in answers if status == 200 and not replayed]
    assert len(answers) == 20 and len(ran) == 1
    for status, replayed, body in answers:
        assert (status == 200 and body == ran[0]) or (
            status == 409 and body["error"]["code"] == "request_in_progress"), (status, replayed, body)
    db.session.rollback()
    assert [i.picked_quantity for i in db.session.get(Package, package.id).items] == [1]
    assert db.session.scalar(select(func.count()).select_from(TransitionLog).where(
        TransitionLog.entity_id == package.id, TransitionLog.command == "pick")) == 1
