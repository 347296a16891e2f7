"""The one outbound HTTP client: every call Packline makes to someone else's server goes through
`request` — carrier gateways, the invoice service, webhook deliveries, channel connectors.

The same rules hold for every caller:

- The answer's body is read raw (`Accept-Encoding: identity`, no decompression) and at most
  `max_bytes` of it; a bigger 2xx answer is a permanent error (or cut short with `truncate`).
  Of an error answer only the start is read: it is only ever quoted.
- Redirects are never followed: a 3xx is a permanent error that names the `Location`.
- Proxies and credentials from the environment (`HTTP(S)_PROXY`, `.netrc`) are ignored.
- `timeout` bounds connecting and each socket read; `deadline` bounds the whole call between
  reads, so a server dribbling its body byte by byte cannot hold a worker.
- Unless `allow_private`, only public addresses are contacted: the host's addresses are checked
  when it is resolved and again on the socket actually connected, before any byte (TLS
  included) is sent, which defeats DNS rebinding.
- Every failure is one `HttpError`: transient (timeouts, connection errors, 5xx, 408, 425, 429,
  with any `Retry-After`) or permanent (other 4xx, redirects, oversize answers, refused
  addresses, malformed URLs).
"""

from __future__ import annotations

import http.client
import ipaddress
import json as jsonlib
import socket
import ssl
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Literal
from urllib.parse import urlsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

DEFAULT_TIMEOUT = 10.0
DEADLINE_FACTOR = 6  # without an explicit deadline a call may take six read timeouts in all
DEFAULT_MAX_BYTES = 1024 * 1024
ERROR_BODY_BYTES = 64 * 1024
MESSAGE_CHARS = 300
TRANSIENT_STATUSES = frozenset({408, 425, 429})

Reason = Literal["timeout", "connection", "refused", "redirect", "status", "too_large", "invalid"]


@dataclass(frozen=True)
class HttpResponse:
    """A 2xx answer. `complete` is False only when `truncate` cut the body short."""

    status: int
    headers: Mapping[str, str] = field(repr=False)
    body: bytes = field(repr=False)
    complete: bool = True

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "")

    def json(self) -> Any:
        """The body parsed as JSON; ValueError when it is not JSON."""
        return jsonlib.loads(self.body)


class HttpError(Exception):
    """An outbound call failed. `reason` says how; `transient` whether trying again may help.

    For an answer outside 2xx, `status` is its status code and `response` holds its headers and
    the start of its body; `retry_after` is the server's `Retry-After` in seconds, if it sent one.
    """

    def __init__(
        self,
        message: str,
        *,
        transient: bool,
        reason: Reason,
        status: int | None = None,
        retry_after: float | None = None,
        response: HttpResponse | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.transient = transient
        self.reason = reason
        self.status = status
        self.retry_after = retry_after
        self.response = response


def is_transient_status(status: int) -> bool:
    """5xx, 408, 425 and 429 say "try again later"; every other error status says "never"."""
    return status >= 500 or status in TRANSIENT_STATUSES


# --- public addresses only (SSRF) ----------------------------------------------------------------

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip.sixtofour:
        return ip.sixtofour
    if ip.teredo:
        return ip.teredo[1]
    return None


def address_kind(ip: IPAddress) -> str | None:
    """Why `ip` is not a public unicast address ("loopback", "private", ...), or None."""
    if isinstance(ip, ipaddress.IPv6Address):
        ip = _embedded_ipv4(ip) or ip
    checks = (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
        ("site-local", isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local),
        ("non-public", not ip.is_global),  # e.g. 100.64.0.0/10 carrier-grade NAT
    )
    return next((kind for kind, hit in checks if hit), None)


def _parse_ip(text: str) -> IPAddress:
    return ipaddress.ip_address(text.split("%", 1)[0])  # drop an IPv6 zone id


def describe_refusal(host: str, address: str, kind: str) -> str:
    """"<host> resolves to <address>, a <kind> address" (or "<host> is a ..." for a literal)."""
    where = f"{host} is" if host.strip("[]") == address else f"{host} resolves to {address},"
    return f"{where} a {kind} address"


def non_public_address(host: str, port: int) -> tuple[str, str] | None:
    """(address, kind) of the first non-public address `host` resolves to, or None when all are
    public. Raises OSError or UnicodeError when the host cannot be resolved."""
    for info in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        address = str(info[4][0])
        kind = address_kind(_parse_ip(address))
        if kind:
            return address, kind
    return None


class AddressRefused(Exception):
    """Raised inside the connection pool when the socket connected to a non-public address."""


class _PublicOnlyMixin:
    """Checks the address the socket actually connected to, closing the gap between our DNS
    lookup and the pool's own (DNS rebinding). Runs before any byte, TLS included, is sent."""

    host: str

    def _new_conn(self) -> socket.socket:
        sock: socket.socket = super()._new_conn()  # type: ignore[misc]
        address = str(sock.getpeername()[0])
        kind = address_kind(_parse_ip(address))
        if kind:
            sock.close()
            raise AddressRefused(describe_refusal(self.host, address, kind))
        return sock


class _PublicHTTPConnection(_PublicOnlyMixin, HTTPConnection):
    pass


class _PublicHTTPSConnection(_PublicOnlyMixin, HTTPSConnection):
    pass


class _PublicHTTPPool(HTTPConnectionPool):
    ConnectionCls = _PublicHTTPConnection


class _PublicHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _PublicHTTPSConnection


class _PublicOnlyAdapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _PublicHTTPPool, "https": _PublicHTTPSPool}


def _refuse_non_public_host(url: str) -> None:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return  # malformed: requests reports it
    host = parts.hostname
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not host:
        return
    try:
        found = non_public_address(host, port or (443 if scheme == "https" else 80))
    except UnicodeError:
        return  # not a valid host name: requests reports it
    except OSError as exc:
        raise HttpError(_short(f"cannot resolve host: {exc}"), transient=True, reason="connection") from None
    if found:
        raise HttpError(describe_refusal(host, *found), transient=False, reason="refused")


# --- failures before an answer -------------------------------------------------------------------


def _short(text: str) -> str:
    return text if len(text) <= MESSAGE_CHARS else text[: MESSAGE_CHARS - 1] + "…"


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    stack: list[BaseException] = [exc]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        linked = [current.__cause__, current.__context__, getattr(current, "reason", None)]
        linked += list(current.args)
        stack.extend(e for e in linked if isinstance(e, BaseException))


def _failure(exc: BaseException, timeout: float) -> HttpError:
    """One short, stable message for whatever requests, urllib3 or the socket raised."""
    causes = list(_causes(exc))
    for cause in causes:
        if isinstance(cause, AddressRefused):
            return HttpError(str(cause), transient=False, reason="refused")
    kinds: list[tuple[type[BaseException], str, Reason]] = [
        (requests.exceptions.ConnectTimeout, f"connect timeout after {timeout:g}s", "timeout"),
        (ssl.SSLError, "TLS error: {}", "connection"),
        (requests.exceptions.SSLError, "TLS error: {}", "connection"),
        (ConnectionRefusedError, "connection refused", "connection"),
        (http.client.RemoteDisconnected, "connection closed without a response", "connection"),
        (ConnectionResetError, "connection reset by peer", "connection"),
        (BrokenPipeError, "connection reset by peer", "connection"),
        (socket.gaierror, "cannot resolve host: {}", "connection"),
        (TimeoutError, f"timeout after {timeout:g}s", "timeout"),
        (requests.exceptions.Timeout, f"timeout after {timeout:g}s", "timeout"),
        (requests.exceptions.InvalidURL, "invalid URL: {}", "invalid"),
        (requests.exceptions.MissingSchema, "invalid URL: {}", "invalid"),
        (requests.exceptions.InvalidSchema, "invalid URL: {}", "invalid"),
        (requests.exceptions.InvalidHeader, "invalid header: {}", "invalid"),
    ]
    for kind, template, reason in kinds:
        for cause in causes:
            if isinstance(cause, kind):
                return HttpError(_short(template.format(cause)), transient=reason != "invalid", reason=reason)
    network = isinstance(exc, (requests.ConnectionError, requests.Timeout, urllib3.exceptions.HTTPError, OSError))
    return HttpError(_short(f"{type(exc).__name__}: {exc}"), transient=network,
                     reason="connection" if network else "invalid")


# --- the answer ----------------------------------------------------------------------------------


def _read(response: requests.Response, limit: int, deadline_at: float) -> tuple[bytes, str | None]:
    """Up to `limit` bytes of the raw body and why reading stopped early: "too_large",
    "timeout", "broken" or None (the whole body)."""
    data = bytearray()
    try:
        # read1 returns after at most one socket read, so the deadline is checked between reads;
        # one byte past the limit tells a body that is exactly `limit` long from a longer one.
        while time.monotonic() < deadline_at:
            chunk = response.raw.read1(limit + 1 - len(data), decode_content=False)
            if not chunk:
                return bytes(data), None
            data += chunk
            if len(data) > limit:
                return bytes(data[:limit]), "too_large"
    except (requests.RequestException, urllib3.exceptions.HTTPError, OSError):
        return bytes(data), "broken"
    return bytes(data), "timeout"


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """A `Retry-After` header (seconds or an HTTP date) as seconds from now, or None."""
    value = (value or "").strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _answer(
    response: requests.Response, max_bytes: int, truncate: bool, deadline_at: float, deadline: float
) -> HttpResponse:
    status = response.status_code
    headers = response.headers
    if not 200 <= status < 300:
        body, stopped = _read(response, min(max_bytes, ERROR_BODY_BYTES), deadline_at)
        answer = HttpResponse(status, headers, body, complete=stopped is None)
        if 300 <= status < 400:
            location = headers.get("Location", "")
            raise HttpError(_short(f"HTTP {status} redirect not followed (Location: {location})"),
                            transient=False, reason="redirect", status=status, response=answer)
        transient = is_transient_status(status)
        raise HttpError(f"HTTP {status}", transient=transient, reason="status", status=status, response=answer,
                        retry_after=retry_after_seconds(headers.get("Retry-After")) if transient else None)
    declared = headers.get("Content-Length", "")
    if not truncate and declared.isdigit() and int(declared) > max_bytes:
        raise HttpError(f"answer is larger than {max_bytes} bytes", transient=False, reason="too_large")
    body, stopped = _read(response, max_bytes, deadline_at)
    if stopped is None or truncate:
        return HttpResponse(status, headers, body, complete=stopped is None)
    if stopped == "too_large":
        raise HttpError(f"answer is larger than {max_bytes} bytes", transient=False, reason="too_large")
    if stopped == "timeout":
        raise HttpError(f"timeout after {deadline:g}s", transient=True, reason="timeout")
    raise HttpError("connection broken while reading the answer", transient=True, reason="connection")


def request(
    method: str,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    json: Any = None,
    data: bytes | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    connect_timeout: float | None = None,
    deadline: float | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    truncate: bool = False,
    allow_private: bool = False,
) -> HttpResponse:
    """Send one request and return its 2xx answer, or raise HttpError (see the module docstring).

    `timeout` bounds each socket read (and connecting, unless `connect_timeout`); `deadline`
    (default six read timeouts) bounds the whole call, checked between reads of the body.
    `max_bytes` bounds the body of a 2xx answer: a longer one is a permanent error, or with
    `truncate` is cut (as is one still arriving at the deadline or broken off) and returned with
    `complete=False`. `allow_private` skips the public-address check, for services the brand
    configures on its own network.
    """
    started = time.monotonic()
    total = deadline if deadline is not None else DEADLINE_FACTOR * timeout
    if not allow_private:
        _refuse_non_public_host(url)
    with requests.Session() as session:
        session.trust_env = False  # no proxies or .netrc credentials from the environment
        if not allow_private:
            session.mount("http://", _PublicOnlyAdapter())
            session.mount("https://", _PublicOnlyAdapter())
        try:
            response = session.request(
                method,
                url,
                headers={"Accept-Encoding": "identity", **(headers or {})},
                json=json,
                data=data,
                timeout=(connect_timeout or timeout, timeout),
                allow_redirects=False,
                stream=True,
            )
        except (requests.RequestException, AddressRefused, OSError, ValueError) as exc:
            raise _failure(exc, timeout) from None
        with response:
            return _answer(response, max_bytes, truncate, started + total, total)
