"""Webhook signatures: `Packline-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">`."""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Sequence

SIGNATURE_TOLERANCE_SECONDS = 300


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
