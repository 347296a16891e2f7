"""Idempotency-Key replays (and refuses) writes; lists page with absolute next/previous URLs."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.models import IdempotencyRecord, OutboxEvent, StockLedger, StockLocation, TransitionLog, User
from app.models.base import utcnow
from app.views.api.common import request_fingerprint
from tests import factories

LOCATION = {"code": "IST-01", "name": "Kadikoy Store", "type": "store"}


def auth(username: str, role: str = "admin", locations=None) -> dict[str, str]:
    db.session.commit()  # SQLite cannot upgrade a read transaction older than the requests' writes
    factories.user(username, role, locations)
    db.session.commit()
    return {"Authorization": f"Token {factories.api_token(username)}"}


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
    assert client.post("/api/v1/locations", json=LOCATION,
                       headers={**second, "Idempotency-Key": "k"}).status_code == 409
    record = db.session.scalar(select(IdempotencyRecord).where(IdempotencyRecord.status_code == 201))
    record.created_at = utcnow() - timedelta(hours=25)
    db.session.commit()
    expired = client.post("/api/v1/locations", json=LOCATION, headers={**first, "Idempotency-Key": "k"})
    assert expired.status_code == 409 and "Idempotent-Replayed" not in expired.headers


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
