"""Concurrent writes never answer 500 (SPEC §11), on SQLite too: every write request takes the
database write lock when its transaction begins, so writers queue instead of failing on upgrade.

Real HTTP against the threaded live server, one thread per client, all released at once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import requests
from sqlalchemy import func, select

from app.extensions import db
from app.models import LoginFailure, Order, User
from tests import factories

PARALLEL = 20
ORDER = {"channel": "web", "placed_at": "2026-11-20T10:00:00Z", "status": "approved", "delivery_type": "cargo",
         "customer": {"name": "Ayse Yilmaz"}, "shipping_address": {"city": "Istanbul"},
         "items": [{"sku": "TSHIRT-M", "quantity": 1}]}


def _together(work, count: int = PARALLEL) -> list:
    barrier = threading.Barrier(count)

    def run(n: int):
        barrier.wait(timeout=30)
        return work(n)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def _login(live_server: str, username: str, password: str) -> int:
    with requests.Session() as browser:
        response = browser.post(f"{live_server}/login", data={"username": username, "password": password},
                                allow_redirects=False, timeout=60)
        return response.status_code


def test_twenty_simultaneous_logins_all_succeed(app, live_server):
    for n in range(PARALLEL):
        factories.user(f"clerk{n}")
    db.session.commit()

    statuses = _together(lambda n: _login(live_server, f"clerk{n}", factories.PASSWORD))

    assert statuses == [303] * PARALLEL
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(User).where(User.last_login_at.is_not(None))) == PARALLEL


def test_twenty_simultaneous_mixed_writes_all_succeed(app, live_server):
    store = factories.location("IST-KDK")
    factories.channel("web")
    factories.product("TSHIRT-M")
    factories.stock(store, db.session.scalar(select(factories.Product).where(factories.Product.sku == "TSHIRT-M")),
                    on_hand=100)
    for n in range(PARALLEL):
        factories.user(f"clerk{n}")
    factories.user("boss", "admin")
    db.session.commit()
    token = factories.api_token("boss")
    api = {"Authorization": f"Token {token}"}

    def write(n: int) -> tuple[str, int]:
        kind = ("login", "bad_login", "order", "setting")[n % 4]
        if kind == "login":
            return kind, _login(live_server, f"clerk{n}", factories.PASSWORD)
        if kind == "bad_login":
            return kind, _login(live_server, f"clerk{n}", "wrong password here")
        if kind == "order":
            response = requests.post(f"{live_server}/api/v1/orders", json={**ORDER, "number": f"WEB-{n}"},
                                     headers=api, timeout=60)
            return kind, response.status_code
        response = requests.put(f"{live_server}/api/v1/settings/REPLAN_INTERVAL_MINUTES", json={"value": 10 + n},
                                headers=api, timeout=60)
        return kind, response.status_code

    results = _together(write)

    expected = {"login": 303, "bad_login": 401, "order": 201, "setting": 200}
    assert [status for _, status in results] == [expected[kind] for kind, _ in results]
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(Order)) == PARALLEL // 4
    assert db.session.scalar(select(func.count()).select_from(LoginFailure)) == PARALLEL // 4
