"""One webhook delivery attempt against real HTTP receivers on 127.0.0.1; no traffic goes anywhere else."""

from __future__ import annotations

import importlib.util
import json
import os
import select
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import pytest

from app.services.webhooks import USER_AGENT, build_body, build_headers, post, sign, verify
from tests.http_servers import LocalServer, QuietHandler, serving

SECRET = "whsec-test"
EVENT_ID = "3f1c2b8e-5a7d-4c1e-9b0a-2d4e6f8a1c3e"
HUGE_BYTES = 50 * 1024 * 1024
EXAMPLE_RECEIVER = Path(__file__).resolve().parents[3] / "docs" / "examples" / "webhook_receiver.py"


# --- a real receiver whose behaviour is chosen by the path -------------------------------------


class Recorder(LocalServer):
    def __init__(self) -> None:
        super().__init__(RecordingHandler)
        self.received: list[tuple[str, dict[str, str], bytes]] = []
        self.huge_bytes_sent: list[int] = []

    def paths(self) -> list[str]:
        return [path for path, _, _ in self.received]


class RecordingHandler(QuietHandler):
    server: Recorder

    def do_POST(self) -> None:
        body = self.read_body()
        self.server.received.append((self.path, dict(self.headers.items()), body))
        route = getattr(self, "route_" + self.path.strip("/").replace("-", "_"))
        route()

    def route_ok(self) -> None:
        self.reply(200, b"received", Content_Type="text/plain; charset=utf-8")

    def route_redirect(self) -> None:
        self.reply(302, b"", Location="/ok")

    def route_not_found(self) -> None:
        self.reply(404, b'{"error": "no such hook"}', Content_Type="application/json")

    def route_broken(self) -> None:
        self.reply(500, b"database down " * 500, Content_Type="text/plain")

    def route_binary(self) -> None:
        self.reply(200, b"\x00\xff\xfe" * 100, Content_Type="application/octet-stream")

    def route_slow(self) -> None:
        time.sleep(2)
        self.reply(200, b"too late")

    def route_trickle(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "4096")
        self.end_headers()
        for _ in range(4096):
            self.wfile.write(b".")
            time.sleep(0.1)

    def route_reset(self) -> None:
        # SO_LINGER with a zero timeout turns close() into a TCP RST.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()

    def route_huge(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(HUGE_BYTES))
        self.end_headers()
        chunk, sent = b"x" * 65536, 0
        try:
            while sent < HUGE_BYTES:
                self.wfile.write(chunk)
                sent += len(chunk)
        finally:
            self.server.huge_bytes_sent.append(sent)


@pytest.fixture
def receiver() -> Iterator[Recorder]:
    with serving(Recorder()) as server:
        yield server


def signed_request(event_id: str = EVENT_ID, secret: str = SECRET) -> tuple[bytes, dict[str, str]]:
    body = build_body(
        event_id,
        "package.state_changed",
        datetime(2026, 11, 20, 10, 0, tzinfo=UTC),
        {"id": 42, "number": "WEB-1001-P1", "state": "packed"},
        {"state": "preparing"},
    )
    signature = sign(secret, body, int(time.time()))
    return body, build_headers(event_id, "package.state_changed", 7, 1, signature, {})


# --- one attempt ---------------------------------------------------------------------------------


def test_a_2xx_answer_succeeds_with_packline_headers_and_a_verifiable_signature(receiver):
    body, headers = signed_request()

    result = post(receiver.url("/ok"), body, headers, allow_private=True)

    assert result.ok and result.status_code == 200 and result.error is None
    assert result.response_excerpt == "received"
    assert result.duration_ms >= 0
    [(_, seen, received_body)] = receiver.received
    assert received_body == body
    assert seen["Content-Type"] == "application/json"
    assert seen["User-Agent"] == USER_AGENT
    assert seen["Packline-Event-Id"] == EVENT_ID
    assert seen["Packline-Event-Type"] == "package.state_changed"
    assert seen["Packline-Delivery-Id"] == "7"
    assert seen["Packline-Attempt"] == "1"
    assert verify(SECRET, received_body, seen["Packline-Signature"])
    assert not verify("another-secret", received_body, seen["Packline-Signature"])


def test_a_redirect_is_a_failure_and_is_not_followed(receiver):
    body, headers = signed_request()

    result = post(receiver.url("/redirect"), body, headers, allow_private=True)

    assert not result.ok and result.status_code == 302
    assert "redirect not followed" in result.error
    assert receiver.paths() == ["/redirect"]


@pytest.mark.parametrize(
    ("path", "status", "excerpt_start"),
    [("/not-found", 404, '{"error": "no such hook"}'), ("/broken", 500, "database down")],
)
def test_client_and_server_errors_fail_with_their_status_and_an_excerpt(receiver, path, status, excerpt_start):
    body, headers = signed_request()

    result = post(receiver.url(path), body, headers, allow_private=True)

    assert not result.ok and result.status_code == status
    assert result.error == f"HTTP {status}"
    assert result.response_excerpt.startswith(excerpt_start)
    assert len(result.response_excerpt) <= 1024


def test_a_receiver_slower_than_the_timeout_fails_at_the_timeout(receiver):
    body, headers = signed_request()

    started = time.monotonic()
    result = post(receiver.url("/slow"), body, headers, timeout=0.5, allow_private=True)

    assert time.monotonic() - started < 1.5
    assert not result.ok and result.status_code is None
    assert "timeout" in result.error


def test_a_body_trickling_in_is_cut_at_the_deadline_but_the_2xx_still_counts(receiver):
    body, headers = signed_request()

    started = time.monotonic()
    result = post(receiver.url("/trickle"), body, headers, timeout=0.5, allow_private=True)

    assert time.monotonic() - started < 1.5
    assert result.ok and result.status_code == 200
    assert 0 < len(result.response_excerpt) < 50


def test_a_connection_reset_fails_with_a_short_error(receiver):
    body, headers = signed_request()

    result = post(receiver.url("/reset"), body, headers, allow_private=True)

    assert not result.ok and result.status_code is None
    assert result.error == "connection reset by peer"


def test_a_huge_answer_is_read_only_up_to_the_limit(receiver):
    body, headers = signed_request()

    started = time.monotonic()
    result = post(receiver.url("/huge"), body, headers, max_response_bytes=4096, allow_private=True)

    assert time.monotonic() - started < 3
    assert result.ok and result.response_excerpt == "x" * 1024
    deadline = time.monotonic() + 5
    while not receiver.huge_bytes_sent and time.monotonic() < deadline:
        time.sleep(0.05)
    assert receiver.huge_bytes_sent and receiver.huge_bytes_sent[0] < HUGE_BYTES


def test_a_binary_answer_gives_a_text_excerpt_without_nul(receiver):
    body, headers = signed_request()

    result = post(receiver.url("/binary"), body, headers, allow_private=True)

    assert result.ok and result.response_excerpt and "\x00" not in result.response_excerpt


def test_connection_refused_fails_without_raising():
    body, headers = signed_request()
    with socket.socket() as bound_but_not_listening:
        bound_but_not_listening.bind(("127.0.0.1", 0))
        port = bound_but_not_listening.getsockname()[1]

        result = post(f"http://127.0.0.1:{port}/", body, headers, allow_private=True)

    assert not result.ok and result.status_code is None
    assert result.error == "connection refused"


def test_tls_against_a_plain_http_port_is_a_tls_error(receiver):
    body, headers = signed_request()

    result = post(receiver.url("/ok").replace("http:", "https:"), body, headers, allow_private=True)

    assert not result.ok and result.status_code is None
    assert result.error.startswith("TLS error")


@pytest.mark.parametrize("url", ["not a url", "http://", "ftp://127.0.0.1/x", "http://[::1/"])
def test_an_invalid_url_fails_without_raising(url):
    body, headers = signed_request()

    result = post(url, body, headers, allow_private=True)

    assert not result.ok and result.status_code is None and result.error


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_private_addresses_are_refused_at_connect_time_unless_allowed(receiver, host):
    body, headers = signed_request()
    url = receiver.url("/ok").replace("127.0.0.1", host)

    refused = post(url, body, headers)
    allowed = post(url, body, headers, allow_private=True)

    assert not refused.ok and refused.status_code is None
    assert refused.error.startswith("refused") and "WEBHOOK_ALLOW_PRIVATE_URLS" in refused.error
    assert allowed.ok
    assert receiver.paths() == ["/ok"]  # the refused attempt sent nothing


# --- the receiver example from docs/webhooks.md ------------------------------------------------------


@pytest.fixture
def example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("webhook_receiver_example", EXAMPLE_RECEIVER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def example_receiver(example):
    server = example.Receiver(("127.0.0.1", 0), SECRET)
    server.daemon_threads = True
    with serving(server):
        yield server


def test_the_documented_receiver_accepts_each_signed_event_once(example_receiver):
    url = f"http://127.0.0.1:{example_receiver.server_address[1]}/hooks"
    body, headers = signed_request()
    redelivery = dict(headers, **{"Packline-Attempt": "2", "Packline-Delivery-Id": "8"})

    first = post(url, body, headers, allow_private=True)
    again = post(url, body, redelivery, allow_private=True)
    other_body, other_headers = signed_request(event_id="7b0f3c52-0000-4000-8000-000000000002")
    other = post(url, other_body, other_headers, allow_private=True)

    assert first.ok and again.ok and other.ok
    assert first.status_code == 204
    processed = [example_receiver.inbox.get_nowait()["id"] for _ in range(2)]
    assert processed == [EVENT_ID, "7b0f3c52-0000-4000-8000-000000000002"]
    assert example_receiver.inbox.empty()


def test_the_documented_receiver_refuses_bad_or_stale_signatures(example_receiver):
    url = f"http://127.0.0.1:{example_receiver.server_address[1]}/hooks"
    body, _ = signed_request()
    forged = build_headers(EVENT_ID, "order.created", 1, 1, sign("wrong", body, int(time.time())))
    stale = build_headers(EVENT_ID, "order.created", 1, 1, sign(SECRET, body, int(time.time()) - 3600))

    results = [post(url, body, headers, allow_private=True) for headers in (forged, stale)]

    assert [(r.ok, r.status_code) for r in results] == [(False, 400), (False, 400)]
    assert example_receiver.inbox.empty()


def test_the_receiver_runs_as_a_script_and_processes_each_event_once(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    script = subprocess.Popen(
        [sys.executable, str(EXAMPLE_RECEIVER), str(port)],
        env={**os.environ, "WEBHOOK_SECRET": SECRET},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}/hooks"
        body, headers = signed_request()
        deadline = time.monotonic() + 10
        while (first := post(url, body, headers, allow_private=True)).error == "connection refused":
            assert time.monotonic() < deadline, "the example receiver did not start"
            time.sleep(0.05)
        again = post(url, body, headers, allow_private=True)
        # The script answers first and prints from another thread: wait for its line (a loaded
        # machine may take a while) before stopping it, or the stop can come before the print.
        ready, _, _ = select.select([script.stdout], [], [], 30)
        printed = script.stdout.readline() if ready else ""
    finally:
        script.terminate()
        rest, _ = script.communicate(timeout=10)

    assert (first.status_code, again.status_code) == (204, 204)
    assert (printed + rest).splitlines() == [f"2026-11-20T10:00:00.000Z package.state_changed {EVENT_ID}"]


def test_the_docs_show_the_receiver_file_verbatim_and_a_valid_example_body():
    docs = (EXAMPLE_RECEIVER.parents[1] / "webhooks.md").read_text()

    assert EXAMPLE_RECEIVER.read_text() in docs
    example_body = docs.split("```json\n", 1)[1].split("```", 1)[0]
    assert list(json.loads(example_body)) == ["id", "type", "occurred_at", "data", "previous"]
