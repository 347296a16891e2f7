"""What a webhook delivery sends: the JSON body (signed byte for byte) and the request headers."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

USER_AGENT = "Packline-Webhooks/1"


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
