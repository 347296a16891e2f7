"""What a request tells about its client: the address it comes from, read through trusted
proxies only, and whether this browser signed in to an account before (the device cookie)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from flask import Flask, Response, current_app, request, url_for
from itsdangerous import BadData, URLSafeTimedSerializer

from app.models.users import username_key

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_PROXIES = "packline.trusted_proxies"

DEVICE_COOKIE = "packline_device"
DEVICE_DAYS = 90
DEVICE_MAX_ACCOUNTS = 10  # a shared store tablet remembers this many of its users


def trusted_proxies(spec: str | None) -> tuple[Network, ...]:
    """Parse TRUSTED_PROXIES ("10.0.0.5, 10.1.0.0/16"); a bad entry stops the start."""
    networks = []
    for entry in (spec or "").split(","):
        if entry.strip():
            try:
                networks.append(ipaddress.ip_network(entry.strip(), strict=False))
            except ValueError:
                raise RuntimeError(f"TRUSTED_PROXIES: {entry.strip()!r} is not an address or network.") from None
    return tuple(networks)


def register_client(app: Flask) -> None:
    app.extensions[_PROXIES] = trusted_proxies(app.config.get("TRUSTED_PROXIES"))


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _trusted(address, networks: Iterable[Network]) -> bool:
    return address is not None and any(address in network for network in networks)


def client_address() -> str:
    """The client's address. X-Forwarded-For counts only when the peer is a trusted proxy; then
    its hops are read from the right, past further trusted proxies, up to the first address no
    trusted proxy vouches for (anything left of it the client could have written itself)."""
    peer = request.remote_addr or "-"
    networks = current_app.extensions.get(_PROXIES, ())
    if not _trusted(_ip(peer), networks):
        return peer
    hops = ",".join(request.headers.getlist("X-Forwarded-For")).split(",")
    address = peer
    for hop in reversed(hops):
        ip = _ip(hop)
        if ip is None:  # garbage: the last proxy we trust is all we know
            break
        address = str(ip)
        if not _trusted(ip, networks):
            break
    return address


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="packline-device")


def _device_accounts() -> list[str]:
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw:
        return []
    try:
        accounts = _serializer().loads(raw, max_age=DEVICE_DAYS * 86400)
    except BadData:
        return []
    return [name for name in accounts if isinstance(name, str)] if isinstance(accounts, list) else []


def known_device(username: str | None) -> bool:
    """True when this browser signed in as `username` within DEVICE_DAYS."""
    key = username_key(username or "")
    return bool(key) and any(username_key(name) == key for name in _device_accounts())


def remember_device(response: Response, username: str) -> None:
    """Mark this browser as one `username` signs in on (signed with SECRET_KEY, sent only to /login)."""
    accounts = [username] + [name for name in _device_accounts() if name != username]
    response.set_cookie(
        DEVICE_COOKIE, _serializer().dumps(accounts[:DEVICE_MAX_ACCOUNTS]), max_age=DEVICE_DAYS * 86400,
        path=url_for("auth.login"), secure=current_app.config["SESSION_COOKIE_SECURE"], httponly=True, samesite="Lax",
    )
