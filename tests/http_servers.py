"""Real HTTP servers on 127.0.0.1 for tests: webhook receivers, carrier gateways, invoice services,
channel APIs. A test subclasses LocalServer (its state) and QuietHandler (its answers) and runs the
server inside `serving(...)`."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TypeVar

import pytest

from tests.conftest import free_port


class LocalServer(ThreadingHTTPServer):
    """A threaded HTTP server on a free port of 127.0.0.1. A client hanging up on purpose (a
    timeout test, a killed worker) is not reported, and closing it waits for no request."""

    daemon_threads = True
    block_on_close = False

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(("127.0.0.1", 0), handler)

    def url(self, path: str = "", host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.server_address[1]}{path}"

    def handle_error(self, request: object, client_address: object) -> None:
        pass


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that logs nothing, with the two steps most handlers take."""

    def log_message(self, format: str, *args: object) -> None:
        pass

    def read_body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def reply(self, status: int, body: bytes = b"", **headers: str) -> None:
        """Answer `status` with `body` and its Content-Length; a header per keyword, `_` in its
        name standing for `-` (Content_Type="application/json")."""
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


Server = TypeVar("Server", bound=ThreadingHTTPServer)


@contextmanager
def serving(server: Server, release: threading.Event | None = None) -> Iterator[Server]:
    """`server` answering from a background thread inside the `with`. Afterwards `release` is set
    first (no handler is left waiting on it), then the server is stopped and its socket closed."""
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        if release is not None:
            release.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


def proxies_lead_nowhere(monkeypatch: pytest.MonkeyPatch) -> None:
    """The environment's proxy variables (HTTP, HTTPS, ALL; both cases) name a port nobody listens
    on and no NO_PROXY exempts anything: a client that honoured them could not connect."""
    dead_proxy = f"http://127.0.0.1:{free_port()}"
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, dead_proxy)
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
