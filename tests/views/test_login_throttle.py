"""Login throttling per address: the address is read through trusted proxies only, and a noisy
address holds back unknown browsers, never the people who signed in there before."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from app.extensions import db
from app.models import LoginFailure
from app.models.base import utcnow
from app.views.client import register_client, trusted_proxies
from tests import factories
from tests.factories import PASSWORD

SHOP = "203.0.113.7"  # one public address in front of a whole store


def attempt(client, username, password=PASSWORD, address=SHOP, forwarded_for=None):
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    return client.post("/login", data={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": address}, headers=headers)


def recorded_address() -> str:
    db.session.rollback()
    return db.session.scalars(select(LoginFailure.address).order_by(LoginFailure.id.desc())).first()


@pytest.fixture
def proxies(app):
    """Trust the given proxies for one test."""

    def trust(spec: str | None) -> None:
        app.config["TRUSTED_PROXIES"] = spec
        register_client(app)

    yield trust
    trust(None)


def spray(client, failures: int, address=SHOP, forwarded_for=None) -> None:
    for n in range(failures):
        response = attempt(client, f"guess{n}", "Winter2024!!", address, forwarded_for)
        assert response.status_code == 401


@pytest.mark.parametrize(("trusted", "peer", "forwarded_for", "client_address"), [
    (None, SHOP, "198.51.100.1", SHOP),  # nobody is trusted: the header is the client's word
    ("10.0.0.1", SHOP, "198.51.100.1", SHOP),  # the peer is not the trusted proxy
    ("10.0.0.1", "10.0.0.1", "198.51.100.1", "198.51.100.1"),
    ("10.0.0.1", "10.0.0.1", "6.6.6.6, 198.51.100.2", "198.51.100.2"),  # left of the proxy's hop: forged
    ("10.0.0.0/8", "10.0.0.1", "198.51.100.3, 10.0.0.2", "198.51.100.3"),  # two proxies deep
    ("10.0.0.0/8, ::1", "10.0.0.1", "10.0.0.3", "10.0.0.3"),  # nothing but proxies: the farthest
    ("10.0.0.1", "10.0.0.1", "not-an-address", "10.0.0.1"),  # garbage: only the proxy is known
    ("10.0.0.1", "10.0.0.1", None, "10.0.0.1"),
])
def test_x_forwarded_for_counts_only_from_a_trusted_proxy(app, client, proxies, trusted, peer, forwarded_for,
                                                           client_address):
    proxies(trusted)
    assert attempt(client, "nobody", "wrong-password", peer, forwarded_for).status_code == 401
    assert recorded_address() == client_address


def test_a_bad_trusted_proxies_entry_stops_the_start():
    with pytest.raises(RuntimeError, match="nonsense"):
        trusted_proxies("10.0.0.1, nonsense")


def test_behind_a_trusted_proxy_one_clients_failures_do_not_hold_back_the_others(app, client, proxies):
    proxies("10.0.0.1")
    factories.user("ayse", "admin")
    db.session.commit()
    spray(app.test_client(), app.config["LOGIN_MAX_FAILURES"] * 4, "10.0.0.1", "198.51.100.66")
    assert attempt(app.test_client(), "x", "wrong-password", "10.0.0.1", "198.51.100.66").status_code == 429
    # Before trusted proxies every sign-in shared the proxy's address, and this was a 429.
    assert attempt(client, "ayse", PASSWORD, "10.0.0.1", "198.51.100.5").status_code == 303


def test_a_noisy_address_does_not_lock_out_someone_signing_in_on_their_own_device(app, client):
    factories.user("ayse", "staff", [factories.location("IST-01")])
    db.session.commit()
    assert attempt(client, "ayse").status_code == 303  # her tablet, yesterday
    client.post("/logout")

    attacker = app.test_client()
    spray(attacker, app.config["LOGIN_MAX_FAILURES"] * 4)
    refused = attempt(attacker, "ayse", "Winter2024!!")
    assert refused.status_code == 429 and "from this network" in refused.get_data(as_text=True)

    signed_in = attempt(client, "ayse")  # same address, her own tablet
    assert signed_in.status_code == 303 and signed_in.headers["Location"] == "/store/"
    assert client.get("/store/", follow_redirects=True).status_code == 200


def test_a_new_browser_at_a_noisy_address_waits_out_the_window(app):
    factories.user("ayse", "admin")
    db.session.commit()
    spray(app.test_client(), app.config["LOGIN_MAX_FAILURES"] * 4)
    newcomer = app.test_client()
    held = attempt(newcomer, "ayse")
    assert held.status_code == 429  # unknown here: held back without the password being tried
    db.session.execute(update(LoginFailure).values(created_at=utcnow().replace(year=2000)))
    db.session.commit()
    assert attempt(newcomer, "ayse").status_code == 303


def test_the_device_mark_is_per_account_and_cannot_be_forged(app, client):
    factories.user("ayse", "admin")
    factories.user("mehmet", "admin")
    db.session.commit()
    assert attempt(client, "ayse").status_code == 303
    client.post("/logout")
    spray(app.test_client(), app.config["LOGIN_MAX_FAILURES"] * 4)
    assert attempt(client, "mehmet").status_code == 429  # this browser knows ayse, not mehmet

    forged = app.test_client()
    forged.set_cookie("packline_device", client.get_cookie("packline_device", path="/login").value[:-4] + "AAAA",
                      path="/login")
    assert attempt(forged, "ayse").status_code == 429


def test_per_account_lockout_still_applies_on_a_known_device(app, client):
    factories.user("ayse", "admin")
    db.session.commit()
    assert attempt(client, "ayse").status_code == 303
    client.post("/logout")
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        assert attempt(app.test_client(), "ayse", "Winter2024!!", "198.51.100.9").status_code == 401
    assert attempt(client, "ayse").status_code == 429


def _in_parallel(count: int, send) -> list[int]:
    import threading

    barrier = threading.Barrier(count)
    statuses: list[int] = []

    def run(n: int) -> None:
        barrier.wait()
        statuses.append(send(n))

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(statuses)


def test_parallel_wrong_passwords_check_no_more_than_the_limit(app, live_server):
    """Each attempt is counted under a lock before its password is compared: thirty guesses sent
    at once get exactly LOGIN_MAX_FAILURES comparisons (401), the rest wait out the lock (429)."""
    import requests

    factories.user("ayse", "admin")
    db.session.commit()
    limit = app.config["LOGIN_MAX_FAILURES"]
    statuses = _in_parallel(30, lambda n: requests.post(
        f"{live_server}/login", data={"username": "ayse", "password": f"guess-{n}"}, allow_redirects=False,
        timeout=60).status_code)
    assert statuses == [401] * limit + [429] * (30 - limit)
    db.session.rollback()
    assert db.session.query(LoginFailure).count() == limit


def test_parallel_guesses_at_many_accounts_from_one_address_check_no_more_than_its_limit(app, live_server):
    import requests

    limit = app.config["LOGIN_MAX_FAILURES"] * 4
    statuses = _in_parallel(limit + 15, lambda n: requests.post(
        f"{live_server}/login", data={"username": f"guess{n}", "password": "Winter2024!!"}, allow_redirects=False,
        timeout=60).status_code)
    assert statuses == [401] * limit + [429] * 15


def test_a_right_password_leaves_no_failure_behind(app, client):
    factories.user("ayse", "admin")
    db.session.commit()
    assert attempt(client, "ayse", "wrong-password").status_code == 401
    assert attempt(client, "ayse").status_code == 303
    db.session.rollback()
    assert db.session.query(LoginFailure).count() == 0
