"""The shared outbound HTTP client against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
import requests

from app.services.http_client import HttpError, HttpResponse, request
from tests.conftest import free_port
from tests.http_servers import LocalServer, QuietHandler, proxies_lead_nowhere, serving

Route = Callable[[QuietHandler], None]


class Server(LocalServer):
    """Answers each path with the route a test registered; records every request it gets."""

    def __init__(self) -> None:
        super().__init__(Handler)
        self.routes: dict[str, Route] = {}
        self.received: list[tuple[str, str, dict[str, str], bytes]] = []

    def paths(self) -> list[str]:
        return [path for _, path, _, _ in self.received]


class Handler(QuietHandler):
    server: Server

    def _serve(self) -> None:
        body = self.read_body()
        self.server.received.append((self.command, self.path, dict(self.headers.items()), body))
        self.server.routes[self.path](self)

    do_GET = do_POST = _serve


def answer(status: int, body: bytes = b"", **headers: str) -> Route:
    def route(handler: QuietHandler) -> None:
        handler.reply(status, body, **headers)

    return route


def chunked(total: int, chunk: bytes = b"x" * 65536) -> Route:
    """A 200 without Content-Length: only counting what arrives can bound it."""

    def route(handler: QuietHandler) -> None:
        handler.send_response(200)
        handler.send_header("Connection", "close")
        handler.end_headers()
        sent = 0
        while sent < total:
            handler.wfile.write(chunk)
            sent += len(chunk)

    return route


def sleepy(seconds: float) -> Route:
    def route(handler: QuietHandler) -> None:
        time.sleep(seconds)
        answer(200, b"late")(handler)

    return route


def trickle(handler: QuietHandler) -> None:
    handler.send_response(200)
    handler.send_header("Content-Length", "200")
    handler.end_headers()
    for _ in range(200):
        handler.wfile.write(b".")
        time.sleep(0.05)


@pytest.fixture
def server() -> Iterator[Server]:
    with serving(Server()) as server:
        yield server


def failure(url: str, **options: object) -> HttpError:
    with pytest.raises(HttpError) as error:
        request("GET", url, **{"allow_private": True, **options})  # type: ignore[arg-type]
    return error.value


# --- answers ---------------------------------------------------------------------------------------


def test_a_2xx_answer_comes_back_with_status_headers_body_and_json(server):
    server.routes["/ok"] = answer(201, b'{"id": 7}', Content_Type="application/json")

    response = request("POST", server.url("/ok"), json={"name": "Ayşe"}, headers={"X-Key": "k"},
                       allow_private=True)

    assert isinstance(response, HttpResponse) and response.complete
    assert (response.status, response.content_type, response.json()) == (201, "application/json", {"id": 7})
    [(method, _, headers, body)] = server.received
    assert (method, headers["X-Key"], headers["Accept-Encoding"]) == ("POST", "k", "identity")
    assert body.decode() == '{"name": "Ay\\u015fe"}'


@pytest.mark.parametrize("declared", [True, False])
def test_a_2xx_body_over_the_limit_is_a_permanent_error(server, declared):
    server.routes["/big"] = answer(200, b"x" * 5000) if declared else chunked(50 * 1024 * 1024)

    error = failure(server.url("/big"), max_bytes=4096)

    assert (error.reason, error.transient) == ("too_large", False)
    assert error.message == "answer is larger than 4096 bytes"


def test_a_body_of_exactly_the_limit_is_whole_and_truncate_cuts_a_longer_one(server):
    server.routes["/exact"] = answer(200, b"x" * 4096)
    server.routes["/big"] = chunked(50 * 1024 * 1024)

    exact = request("GET", server.url("/exact"), max_bytes=4096, allow_private=True)
    cut = request("GET", server.url("/big"), max_bytes=4096, truncate=True, allow_private=True)

    assert (len(exact.body), exact.complete) == (4096, True)
    assert (cut.body, cut.complete) == (b"x" * 4096, False)


def test_a_redirect_is_refused_not_followed(server):
    server.routes["/moved"] = answer(302, Location="/ok")
    server.routes["/ok"] = answer(200, b"followed")

    error = failure(server.url("/moved"))

    assert (error.reason, error.transient, error.status) == ("redirect", False, 302)
    assert error.message == "HTTP 302 redirect not followed (Location: /ok)"
    assert server.paths() == ["/moved"]


@pytest.mark.parametrize("status", [500, 502, 503, 408, 425, 429])
def test_server_errors_timeouts_and_rate_limits_are_transient(server, status):
    server.routes["/busy"] = answer(status, b'{"message": "later"}')

    error = failure(server.url("/busy"))

    assert (error.reason, error.transient, error.status) == ("status", True, status)
    assert error.message == f"HTTP {status}"
    assert error.response.json() == {"message": "later"}


@pytest.mark.parametrize("status", [400, 401, 404, 409, 422])
def test_other_client_errors_are_permanent_and_keep_the_start_of_the_answer(server, status):
    server.routes["/no"] = answer(status, b"n" * 200_000, Retry_After="5")

    error = failure(server.url("/no"))

    assert (error.reason, error.transient, error.status, error.retry_after) == ("status", False, status, None)
    assert error.response.body == b"n" * 64 * 1024


def test_retry_after_is_kept_in_seconds_or_as_a_date(server):
    in_two_minutes = format_datetime(datetime.now(UTC) + timedelta(minutes=2), usegmt=True)
    server.routes["/seconds"] = answer(503, Retry_After="7")
    server.routes["/date"] = answer(429, Retry_After=in_two_minutes)
    server.routes["/nonsense"] = answer(503, Retry_After="soon")

    assert failure(server.url("/seconds")).retry_after == 7.0
    assert 100 < failure(server.url("/date")).retry_after <= 120
    assert failure(server.url("/nonsense")).retry_after is None


# --- failures before an answer ---------------------------------------------------------------------


def test_a_server_slower_than_the_timeout_is_a_transient_timeout(server):
    server.routes["/slow"] = sleepy(2)

    started = time.monotonic()
    error = failure(server.url("/slow"), timeout=0.3)

    assert time.monotonic() - started < 1.5
    assert (error.reason, error.transient, error.message) == ("timeout", True, "timeout after 0.3s")


def test_a_body_trickling_past_the_deadline_is_a_timeout_unless_truncated(server):
    server.routes["/trickle"] = trickle

    started = time.monotonic()
    error = failure(server.url("/trickle"), timeout=1, deadline=0.5)
    cut = request("GET", server.url("/trickle"), timeout=1, deadline=0.5, truncate=True, allow_private=True)

    assert time.monotonic() - started < 3
    assert (error.reason, error.transient) == ("timeout", True)
    assert 0 < len(cut.body) < 50 and not cut.complete


def test_connection_refused_is_transient():
    error = failure(f"http://127.0.0.1:{free_port()}/")

    assert (error.reason, error.transient, error.message) == ("connection", True, "connection refused")


@pytest.mark.parametrize("url", ["not a url", "ftp://127.0.0.1/x", "http://[::1/"])
def test_a_malformed_url_is_permanent(url):
    error = failure(url)

    assert (error.reason, error.transient) == ("invalid", False)
    assert error.message.startswith("invalid URL")


def test_proxies_from_the_environment_are_ignored(server, monkeypatch):
    server.routes["/ok"] = answer(200, b"direct")
    proxies_lead_nowhere(monkeypatch)
    with pytest.raises(requests.exceptions.ProxyError):  # the environment does route plain requests
        requests.get(server.url("/ok"), timeout=2)

    response = request("GET", server.url("/ok"), allow_private=True)

    assert response.body == b"direct"


# --- public addresses only -------------------------------------------------------------------------


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_a_private_address_is_refused_unless_allowed(server, host):
    server.routes["/ok"] = answer(200, b"inside")

    error = failure(server.url("/ok", host), allow_private=False)
    allowed = request("GET", server.url("/ok", host), allow_private=True)

    assert (error.reason, error.transient) == ("refused", False)
    where = "127.0.0.1 is" if host == "127.0.0.1" else "localhost resolves to 127.0.0.1,"
    assert error.message == f"{where} a loopback address"
    assert allowed.body == b"inside"
    assert server.paths() == ["/ok"]  # the refused call sent nothing


def test_a_name_that_rebinds_to_a_private_address_after_the_check_is_refused_on_the_socket(server, monkeypatch):
    server.routes["/ok"] = answer(200, b"inside")
    real_getaddrinfo = socket.getaddrinfo
    lookups: list[str] = []

    def rebinding_dns(host, port, *args, **kwargs):
        if host != "rebind.example.invalid":
            return real_getaddrinfo(host, port, *args, **kwargs)
        lookups.append(host)
        address = "93.184.216.34" if len(lookups) == 1 else "127.0.0.1"  # public first, then ours
        return [(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding_dns)

    error = failure(server.url("/ok", "rebind.example.invalid"), allow_private=False)

    assert len(lookups) >= 2  # checked on resolve, then the connection resolved again
    assert (error.reason, error.transient) == ("refused", False)
    assert error.message == "rebind.example.invalid resolves to 127.0.0.1, a loopback address"
    assert server.received == []
