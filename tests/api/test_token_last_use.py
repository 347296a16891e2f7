"""An API token's `last_used_at`: stamped at most once a minute, on the request's own write
transaction or at the end of a read, and never a reason for a request to fail."""

from __future__ import annotations

import threading
from datetime import timedelta

import requests
from sqlalchemy import select, update

from app.extensions import db
from app.models import StockLocation
from app.models.base import utcnow
from app.models.users import ApiToken
from tests import factories

LOCATION = {"code": "IST-01", "name": "Kadikoy Store", "type": "store"}


def erp_token() -> dict[str, str]:
    factories.user("erp", "admin")
    db.session.commit()
    return {"Authorization": f"Token {factories.api_token('erp')}"}


def last_used():
    db.session.rollback()  # a fresh snapshot
    return db.session.scalar(select(ApiToken.last_used_at))


def stamp(at) -> None:
    db.session.execute(update(ApiToken).values(last_used_at=at))
    db.session.commit()


def test_the_stamp_moves_when_stale_and_stays_within_the_minute(app, client):
    headers = erp_token()
    assert last_used() is None
    assert client.get("/api/v1/locations", headers=headers).status_code == 200
    first = last_used()
    assert first is not None and utcnow() - first < timedelta(seconds=10)

    recent = utcnow() - timedelta(seconds=20)
    stamp(recent)
    client.get("/api/v1/locations", headers=headers)
    assert last_used() == recent  # within the minute: no write at all

    stale = utcnow() - timedelta(minutes=5)
    for method, body, status in (("GET", None, 200), ("POST", LOCATION, 201), ("POST", {"code": "bad code"}, 422)):
        stamp(stale)
        response = client.open("/api/v1/locations", method=method, json=body, headers=headers)
        assert response.status_code == status
        assert last_used() > stale, (method, status)  # a read, a write, and a write that failed
    assert db.session.scalar(select(StockLocation.code)) == "IST-01"


def test_twenty_parallel_reads_with_a_stale_token_all_succeed(app, live_server):
    headers = erp_token()
    stale = utcnow() - timedelta(minutes=5)
    stamp(stale)
    barrier = threading.Barrier(20)
    statuses: list[int] = []

    def read() -> None:
        barrier.wait()
        statuses.append(requests.get(f"{live_server}/api/v1/locations", headers=headers, timeout=60).status_code)

    threads = [threading.Thread(target=read) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * 20
    assert last_used() > stale
