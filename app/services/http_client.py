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
  addresses, malformed URLs). Its `message` is short English (logs, the API); `said` is the same
  sentence as a catalogue message (services/said.py) for the screens that show it later, in the
  reader's language.
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

from app.services.said import N_, Message, said

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
        said: Message | str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.said: Message | str = said if said is not None else message  # what the screens say
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


def _said(msgid: str, **values: Any) -> tuple[str, Message]:
    """(English text, message) of one of our sentences; the English is the msgid filled in as
    it always was (`seconds` as "10", not the locale's number), cut to MESSAGE_CHARS, and each
    value of the message cut the same way (`capped_said`)."""
    english = {k: f"{v:g}" if isinstance(v, float) else v for k, v in values.items()}
    return _short(msgid % english), capped_said(msgid, **values)


MESSAGE_ITEMS = 20  # items of a list value kept in a stored message
_MESSAGE_KEYS = frozenset({"id", "plural", "sep"})  # a nested message's catalogue ids: never cut


def capped(value: Any, _depth: int = 0) -> Any:
    """A value to keep in a stored message, cut like the English text: text to MESSAGE_CHARS,
    a list to MESSAGE_ITEMS items, a message's own values the same way. Failures keep what a
    remote said (a redirect's Location, a channel's answer, a carrier's error): a hostile or
    broken remote must not make a row megabytes long."""
    if isinstance(value, str):
        return _short(value)
    if isinstance(value, (list, tuple)):
        return [capped(v, _depth + 1) for v in value[:MESSAGE_ITEMS]]
    if isinstance(value, dict):
        if _depth > 8:  # a message nests a few levels at most
            return _short(str(value))
        return {k: v if k in _MESSAGE_KEYS else capped(v, _depth + 1) for k, v in list(value.items())[:MESSAGE_ITEMS]}
    if isinstance(value, (int, float, bool)) or value is None:
        return value
    return _short(str(value))


def capped_said(msgid: str, **values: Any) -> Message:
    """`said`, with every value `capped`."""
    return said(msgid, **{k: capped(v) for k, v in values.items()})


# Kinds of address (address_kind) as words of the catalogue.
_KINDS = {"unspecified": N_("unspecified"), "loopback": N_("loopback"), "link-local": N_("link-local"),
          "multicast": N_("multicast"), "private": N_("private"), "reserved": N_("reserved"),
          "site-local": N_("site-local"), "non-public": N_("non-public")}


def refusal_said(host: str, address: str, kind: str) -> tuple[str, Message]:
    """(English, message) of `describe_refusal`."""
    kind_said: Any = said(_KINDS[kind]) if kind in _KINDS else kind
    if host.strip("[]") == address:
        text, message = _said(N_("%(host)s is a %(kind)s address"), host=host, kind=kind)
    else:
        text, message = _said(N_("%(host)s resolves to %(address)s, a %(kind)s address"), host=host,
                              address=address, kind=kind)
    message["values"]["kind"] = kind_said
    return text, message


class AddressRefused(Exception):
    """Raised inside the connection pool when the socket connected to a non-public address."""

    def __init__(self, host: str, address: str, kind: str) -> None:
        text, self.said = refusal_said(host, address, kind)
        super().__init__(text)


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
            raise AddressRefused(self.host, address, kind)
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
        text, message = _said(N_("cannot resolve host: %(problem)s"), problem=str(exc))
        raise HttpError(text, transient=True, reason="connection", said=message) from None
    if found:
        text, message = refusal_said(host, *found)
        raise HttpError(text, transient=False, reason="refused", said=message)


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
            return HttpError(str(cause), transient=False, reason="refused", said=cause.said)
    # (kind of exception, the sentence (the exception's text is `problem`), reason)
    kinds: list[tuple[type[BaseException], str, Reason]] = [
        (requests.exceptions.ConnectTimeout, N_("connect timeout after %(seconds)ss"), "timeout"),
        (ssl.SSLError, N_("TLS error: %(problem)s"), "connection"),
        (requests.exceptions.SSLError, N_("TLS error: %(problem)s"), "connection"),
        (ConnectionRefusedError, N_("connection refused"), "connection"),
        (http.client.RemoteDisconnected, N_("connection closed without a response"), "connection"),
        (ConnectionResetError, N_("connection reset by peer"), "connection"),
        (BrokenPipeError, N_("connection reset by peer"), "connection"),
        (socket.gaierror, N_("cannot resolve host: %(problem)s"), "connection"),
        (TimeoutError, N_("timeout after %(seconds)ss"), "timeout"),
        (requests.exceptions.Timeout, N_("timeout after %(seconds)ss"), "timeout"),
        (requests.exceptions.InvalidURL, N_("invalid URL: %(problem)s"), "invalid"),
        (requests.exceptions.MissingSchema, N_("invalid URL: %(problem)s"), "invalid"),
        (requests.exceptions.InvalidSchema, N_("invalid URL: %(problem)s"), "invalid"),
        (requests.exceptions.InvalidHeader, N_("invalid header: %(problem)s"), "invalid"),
    ]
    for kind, msgid, reason in kinds:
        for cause in causes:
            if isinstance(cause, kind):
                values: dict[str, Any] = {}
                if "%(seconds)s" in msgid:
                    values["seconds"] = float(timeout)
                if "%(problem)s" in msgid:
                    values["problem"] = _short(str(cause))
                text, message = _said(msgid, **values)
                return HttpError(text, transient=reason != "invalid", reason=reason, said=message)
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
            text, message = _said(N_("HTTP %(status)s redirect not followed (Location: %(location)s)"),
                                  status=status, location=location)
            raise HttpError(text, transient=False, reason="redirect", status=status, response=answer, said=message)
        transient = is_transient_status(status)
        text, message = _said(N_("HTTP %(status)s"), status=status)
        raise HttpError(text, transient=transient, reason="status", status=status, response=answer, said=message,
                        retry_after=retry_after_seconds(headers.get("Retry-After")) if transient else None)
    declared = headers.get("Content-Length", "")
    too_large = N_("answer is larger than %(bytes)s bytes")
    if not truncate and declared.isdigit() and int(declared) > max_bytes:
        text, message = _said(too_large, bytes=max_bytes)
        raise HttpError(text, transient=False, reason="too_large", said=message)
    body, stopped = _read(response, max_bytes, deadline_at)
    if stopped is None or truncate:
        return HttpResponse(status, headers, body, complete=stopped is None)
    if stopped == "too_large":
        text, message = _said(too_large, bytes=max_bytes)
        raise HttpError(text, transient=False, reason="too_large", said=message)
    if stopped == "timeout":
        text, message = _said(N_("timeout after %(seconds)ss"), seconds=float(deadline))
        raise HttpError(text, transient=True, reason="timeout", said=message)
    text, message = _said(N_("connection broken while reading the answer"))
    raise HttpError(text, transient=True, reason="connection", said=message)


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
