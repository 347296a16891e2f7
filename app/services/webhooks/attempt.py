"""Webhook delivery core: signing, payloads, one HTTP attempt, retry schedule, URL safety.

Nothing here touches the database. The RQ job loads a delivery, calls `is_url_allowed`,
`build_body`, `sign`, `build_headers` and `post`, records the `AttemptResult`, and asks
`next_attempt_delay` when to try again. See docs/webhooks.md for the receiver's side.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import ipaddress
import json
import socket
import ssl
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

USER_AGENT = "Packline-Webhooks/1"
SIGNATURE_TOLERANCE_SECONDS = 300
EXCERPT_CHARS = 1024
ERROR_CHARS = 300
PRIVATE_URLS_SETTING = "WEBHOOK_ALLOW_PRIVATE_URLS"

# --- signatures -------------------------------------------------------------------------------


def _hmac_hex(secret: str, body: bytes, timestamp: int) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, timestamp: int, *, previous_secrets: Sequence[str] = ()) -> str:
    """Return the `Packline-Signature` value: `t=<ts>,v1=<hex HMAC-SHA256 of "<t>.<body>">`.

    `previous_secrets` adds one more `v1=` per secret so receivers keep verifying while a
    subscription's secret is being rotated.
    """
    parts = [f"t={int(timestamp)}"]
    parts += [f"v1={_hmac_hex(s, body, timestamp)}" for s in (secret, *previous_secrets)]
    return ",".join(parts)


def verify(
    secret: str | Sequence[str],
    body: bytes,
    header: str,
    tolerance_seconds: int = SIGNATURE_TOLERANCE_SECONDS,
    now: float | None = None,
) -> bool:
    """True when `header` carries a `v1=` signature of `body` by `secret` (or any of several
    secrets) and its timestamp is within `tolerance_seconds` of `now`. Constant-time compare."""
    timestamps: list[str] = []
    signatures: list[str] = []
    for item in (header or "").split(","):
        key, _, value = item.strip().partition("=")
        if key == "t":
            timestamps.append(value)
        elif key == "v1":
            signatures.append(value)
    if len(timestamps) != 1 or not signatures:
        return False
    if not (timestamps[0].isascii() and timestamps[0].isdigit() and len(timestamps[0]) <= 12):
        return False
    timestamp = int(timestamps[0])
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_seconds:
        return False
    secrets = [secret] if isinstance(secret, str) else list(secret)
    expected = [_hmac_hex(s, body, timestamp) for s in secrets]
    # Compare every pair (no early exit) so timing says nothing about which one matched.
    matched = False
    for candidate in signatures:
        for digest in expected:
            matched |= hmac.compare_digest(candidate.encode(), digest.encode())
    return matched


# --- body and headers -------------------------------------------------------------------------


def _utc_iso(moment: datetime) -> str:
    # The database stores naive UTC datetimes; aware ones are converted.
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat(timespec="milliseconds") + "Z"


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return _utc_iso(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (Decimal, UUID)):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def build_body(
    event_id: str | UUID,
    event_type: str,
    occurred_at: datetime,
    data: Mapping[str, Any],
    previous: Mapping[str, Any] | None,
) -> bytes:
    """Serialize one event as compact UTF-8 JSON: `id`, `type`, `occurred_at`, `data`, `previous`.

    These exact bytes are signed and sent; they must not be re-serialized in between. Naive
    datetimes are taken as UTC; NaN or infinity raise ValueError rather than send invalid JSON.
    """
    payload = {
        "id": str(event_id),
        "type": event_type,
        "occurred_at": _utc_iso(occurred_at),
        "data": dict(data),
        "previous": dict(previous or {}),
    }
    text = json.dumps(payload, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=_json_default)
    return text.encode("utf-8")


# Extra headers may never replace these: they carry the contract or the message framing.
_RESERVED_HEADERS = frozenset({"content-type", "content-length", "transfer-encoding", "host", "connection"})


def _is_reserved_header(name: str) -> bool:
    lowered = name.strip().lower()
    return lowered in _RESERVED_HEADERS or lowered.startswith("packline-")


def validate_extra_headers(headers: Mapping[str, Any]) -> str | None:
    """Error message for a subscription's custom headers, or None when they are usable."""
    for name, value in headers.items():
        if not isinstance(name, str) or not name or not all(33 <= ord(c) < 127 for c in name):
            return f"header name {name!r} is not a valid HTTP header name"
        if ":" in name:
            return f"header name {name!r} must not contain ':'"
        if _is_reserved_header(name):
            return f"header {name!r} is set by Packline and cannot be overridden"
        if not isinstance(value, str) or any(c in value for c in "\r\n\x00"):
            return f"header {name!r} must have a single-line text value"
    return None


def build_headers(
    event_id: str | UUID,
    event_type: str,
    delivery_id: int | str,
    attempt: int,
    signature: str,
    extra_headers: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Request headers for one attempt. Custom headers come first and are silently dropped when
    they would replace `Content-Type`, a `Packline-*` header or a framing header."""
    headers = {
        name: value
        for name, value in (extra_headers or {}).items()
        if isinstance(name, str) and not _is_reserved_header(name)
    }
    headers.setdefault("User-Agent", USER_AGENT)
    headers.update(
        {
            "Content-Type": "application/json",
            "Packline-Event-Id": str(event_id),
            "Packline-Event-Type": event_type,
            "Packline-Delivery-Id": str(delivery_id),
            "Packline-Attempt": str(int(attempt)),
            "Packline-Signature": signature,
        }
    )
    return headers


# --- URL safety (SSRF) ------------------------------------------------------------------------

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


def _refusal(host: str, address: str, kind: str) -> str:
    where = f"{host} is" if host.strip("[]") == address else f"{host} resolves to {address},"
    return (
        f"{where} a {kind} address; webhooks to private, loopback, "
        f"link-local and other non-public addresses are refused unless the "
        f"{PRIVATE_URLS_SETTING} setting is enabled"
    )


def _parse_ip(text: str) -> IPAddress:
    return ipaddress.ip_address(text.split("%", 1)[0])  # drop an IPv6 zone id


def validate_subscription_url(url: str, allow_private: bool) -> str | None:
    """Error message for a webhook URL, or None when it may be used.

    Only http(s) URLs with a host. Unless `allow_private`, the host is resolved now and every
    address it resolves to must be public; `post()` checks the connected address again.
    """
    if not isinstance(url, str) or not url:
        return "URL is required"
    if len(url) > 2000:
        return "URL is longer than 2000 characters"
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        return "URL must not contain spaces or control characters"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return f"URL is malformed: {exc}"
    if parts.scheme.lower() not in ("http", "https"):
        return "URL must start with http:// or https://"
    host = parts.hostname
    if not host:
        return "URL has no host"
    try:
        host.encode("idna")
    except UnicodeError:
        return f"{host!r} is not a valid host name"
    if allow_private:
        return None
    default_port = 443 if parts.scheme.lower() == "https" else 80
    try:
        infos = socket.getaddrinfo(host, port or default_port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return f"cannot resolve host {host!r}"
    for info in infos:
        address = str(info[4][0])
        kind = address_kind(_parse_ip(address))
        if kind:
            return _refusal(host, address, kind)
    return None


def is_url_allowed(url: str, allow_private: bool) -> bool:
    """Delivery-time re-check of `validate_subscription_url` (DNS answers change)."""
    return validate_subscription_url(url, allow_private) is None


class AddressRefused(Exception):
    """Raised inside the HTTP client when the socket connected to a non-public address."""


class _PublicOnlyMixin:
    """Checks the address the socket actually connected to, closing the gap between our DNS
    lookup and the client's (DNS rebinding). Runs before any byte, TLS included, is sent."""

    host: str

    def _new_conn(self) -> socket.socket:
        sock: socket.socket = super()._new_conn()  # type: ignore[misc]
        address = str(sock.getpeername()[0])
        kind = address_kind(_parse_ip(address))
        if kind:
            sock.close()
            raise AddressRefused(_refusal(self.host, address, kind))
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
        self.poolmanager.pool_classes_by_scheme = {
            "http": _PublicHTTPPool,
            "https": _PublicHTTPSPool,
        }


# --- one attempt ------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttemptResult:
    """What one delivery attempt did; `ok` only for a 2xx answer."""

    ok: bool
    status_code: int | None
    duration_ms: int
    response_excerpt: str
    error: str | None


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


def _describe(exc: BaseException, timeout: float) -> str:
    causes = list(_causes(exc))
    for cause in causes:
        if isinstance(cause, AddressRefused):
            return f"refused: {cause}"
    kinds: list[tuple[type[BaseException], str]] = [
        (requests.exceptions.ConnectTimeout, f"connect timeout after {timeout:g}s"),
        (ssl.SSLError, "TLS error: {}"),
        (requests.exceptions.SSLError, "TLS error: {}"),
        (ConnectionRefusedError, "connection refused"),
        (http.client.RemoteDisconnected, "connection closed without a response"),
        (ConnectionResetError, "connection reset by peer"),
        (BrokenPipeError, "connection reset by peer"),
        (socket.gaierror, "cannot resolve host: {}"),
        (TimeoutError, f"timeout after {timeout:g}s"),
        (requests.exceptions.Timeout, f"timeout after {timeout:g}s"),
        (requests.exceptions.InvalidURL, "invalid URL: {}"),
        (requests.exceptions.MissingSchema, "invalid URL: {}"),
        (requests.exceptions.InvalidSchema, "invalid URL: {}"),
        (requests.exceptions.InvalidHeader, "invalid header: {}"),
    ]
    for kind, template in kinds:
        for cause in causes:
            if isinstance(cause, kind):
                return _short(template.format(cause))
    return _short(f"{type(exc).__name__}: {exc}")


def _short(text: str) -> str:
    return text if len(text) <= ERROR_CHARS else text[: ERROR_CHARS - 1] + "…"


def _charset(content_type: str) -> str:
    for param in content_type.split(";")[1:]:
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            return value.strip().strip('"') or "utf-8"
    return "utf-8"


def _excerpt(raw: bytes, content_type: str) -> str:
    try:
        text = raw.decode(_charset(content_type), errors="replace")
    except LookupError:
        text = raw.decode("utf-8", errors="replace")
    # PostgreSQL text columns cannot hold NUL.
    return text[:EXCERPT_CHARS].replace("\x00", "\ufffd")


def _read_bounded(response: requests.Response, limit: int, deadline: float) -> bytes:
    # read1 returns after at most one socket read, so the deadline is checked between reads.
    data = b""
    while len(data) < limit and time.monotonic() < deadline:
        chunk = response.raw.read1(limit - len(data), decode_content=False)
        if not chunk:
            break
        data += chunk
    return data


def post(
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    timeout: float = 10.0,
    max_response_bytes: int = 4096,
    *,
    allow_private: bool = False,
) -> AttemptResult:
    """POST `body` once and report what happened; never raises for network problems.

    Redirects are not followed (a 3xx fails with its status recorded). At most
    `max_response_bytes` of the answer's body are read, raw (no decompression); the excerpt is
    the first ~1 KB of it as text. Unless `allow_private`, connecting to a non-public address
    is refused after DNS resolution, whatever the URL said.
    """
    started = time.monotonic()
    deadline = started + timeout
    status: int | None = None
    raw = b""
    content_type = ""
    error: str | None = None
    with requests.Session() as session:
        session.trust_env = False  # no proxies or .netrc credentials from the environment
        if not allow_private:
            session.mount("http://", _PublicOnlyAdapter())
            session.mount("https://", _PublicOnlyAdapter())
        try:
            with session.post(
                url,
                data=body,
                headers={"Accept-Encoding": "identity", **headers},
                timeout=(timeout, timeout),
                allow_redirects=False,
                stream=True,
            ) as response:
                status = response.status_code
                content_type = response.headers.get("Content-Type", "")
                try:
                    raw = _read_bounded(response, max_response_bytes, deadline)
                except (requests.RequestException, urllib3.exceptions.HTTPError, OSError):
                    pass  # the status line arrived; a broken body does not change the verdict
                if 300 <= status < 400:
                    location = response.headers.get("Location", "")
                    error = _short(f"HTTP {status} redirect not followed (Location: {location})")
                elif not 200 <= status < 300:
                    error = f"HTTP {status}"
        except (requests.RequestException, AddressRefused, OSError, ValueError) as exc:
            error = _describe(exc, timeout)
    return AttemptResult(
        ok=status is not None and 200 <= status < 300,
        status_code=status,
        duration_ms=int((time.monotonic() - started) * 1000),
        response_excerpt=_excerpt(raw, content_type),
        error=error,
    )


# --- retry schedule ---------------------------------------------------------------------------

STRATEGIES = ("fixed", "linear", "exponential")
DEFAULT_STRATEGY = "exponential"
DEFAULT_MAX_ATTEMPTS = 10
MIN_ATTEMPTS = 8
MIN_SPAN = timedelta(hours=24)
MAX_ATTEMPTS_LIMIT = 50
MAX_DELAY = timedelta(hours=12)
JITTER_FRACTION = 0.1
DEFAULT_BASE_SECONDS = {"fixed": 3 * 3600, "linear": 40 * 60, "exponential": 30}
# Multiples of the base (30 s): 30 s, 2 min, 10 min, 30 min, 1 h, 3 h, 6 h, 12 h, then 12 h.
EXPONENTIAL_STEPS = (1, 4, 20, 60, 120, 360, 720, 1440)


def next_attempt_delay(
    strategy: str,
    attempt: int,
    base_seconds: float | None = None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    jitter_key: str | None = None,
) -> timedelta | None:
    """How long to wait after failed attempt number `attempt` (1 = the first try) before the
    next one, or None when `max_attempts` are used up.

    fixed: base (3 h); linear: base × attempt (40 min, 80 min, ...); exponential: 30 s, 2 min,
    10 min, 30 min, 1 h, 3 h, 6 h, 12 h, 12 h... scaled by base / 30 s. Each delay is capped at
    12 h. `jitter_key` (e.g. the delivery id) adds a deterministic 0-10 % so deliveries that
    failed together do not come back together; it only lengthens the wait.
    """
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown retry strategy {strategy!r}; use one of {', '.join(STRATEGIES)}")
    if attempt < 1:
        raise ValueError("attempt numbers start at 1")
    if attempt >= max_attempts:
        return None
    base = DEFAULT_BASE_SECONDS[strategy] if base_seconds is None else float(base_seconds)
    if base <= 0:
        raise ValueError("base_seconds must be positive")
    if strategy == "fixed":
        seconds = base
    elif strategy == "linear":
        seconds = base * attempt
    else:
        step = EXPONENTIAL_STEPS[min(attempt, len(EXPONENTIAL_STEPS)) - 1]
        seconds = base * step
    seconds = min(seconds, MAX_DELAY.total_seconds())
    if jitter_key is not None:
        digest = hashlib.sha256(f"{jitter_key}:{attempt}".encode()).digest()
        seconds *= 1 + JITTER_FRACTION * int.from_bytes(digest[:8], "big") / 2**64
    return timedelta(seconds=round(seconds, 3))


def retry_schedule(
    strategy: str, max_attempts: int = DEFAULT_MAX_ATTEMPTS, base_seconds: float | None = None
) -> list[timedelta]:
    """Every delay between attempts, without jitter: `max_attempts - 1` entries."""
    delays = []
    for attempt in range(1, max_attempts):
        delay = next_attempt_delay(strategy, attempt, base_seconds, max_attempts)
        assert delay is not None
        delays.append(delay)
    return delays


def validate_retry_policy(strategy: str, max_attempts: int, base_seconds: float | None = None) -> str | None:
    """Error message when a subscription's retry settings fall short of the delivery promise
    (at least 8 attempts over at least 24 h), or None."""
    if strategy not in STRATEGIES:
        return f"retry strategy must be one of {', '.join(STRATEGIES)}"
    if not isinstance(max_attempts, int) or not MIN_ATTEMPTS <= max_attempts <= MAX_ATTEMPTS_LIMIT:
        return f"max_attempts must be between {MIN_ATTEMPTS} and {MAX_ATTEMPTS_LIMIT}"
    if base_seconds is not None and not 1 <= base_seconds <= MAX_DELAY.total_seconds():
        return f"base_seconds must be between 1 and {int(MAX_DELAY.total_seconds())}"
    if sum(retry_schedule(strategy, max_attempts, base_seconds), timedelta()) < MIN_SPAN:
        return "retries must span at least 24 hours; raise max_attempts or base_seconds"
    return None
