"""What a webhook delivery sends: the body that is signed byte for byte, and its headers."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal

from app.services.webhooks import build_body, build_headers, validate_extra_headers

EVENT_ID = "3f1c2b8e-5a7d-4c1e-9b0a-2d4e6f8a1c3e"


def test_the_body_is_compact_json_with_exactly_the_contract_keys():
    istanbul = timezone(timedelta(hours=3))
    body = build_body(
        EVENT_ID,
        "order.created",
        datetime(2026, 11, 20, 13, 0, 0, 250000, tzinfo=istanbul),
        {"number": "WEB-1001", "total": Decimal("199.90"), "customer": "Ayşe"},
        None,
    )

    payload = json.loads(body)
    assert list(payload) == ["id", "type", "occurred_at", "data", "previous"]
    assert payload["occurred_at"] == "2026-11-20T10:00:00.250Z"
    assert payload["data"]["total"] == "199.90" and payload["previous"] == {}
    assert b" " not in body.replace(b"Ay\xc5\x9fe", b"")
    naive_utc = build_body(EVENT_ID, "order.created", datetime(2026, 11, 20, 10), {}, {})
    assert json.loads(naive_utc)["occurred_at"] == "2026-11-20T10:00:00.000Z"


def test_extra_headers_cannot_override_the_packline_ones():
    extra = {
        "Authorization": "Bearer abc",
        "content-type": "text/plain",
        "PACKLINE-EVENT-ID": "forged",
        "Packline-Signature": "forged",
        "Host": "internal",
    }

    headers = build_headers(EVENT_ID, "order.created", 1, 3, "t=1,v1=ab", extra)

    assert headers["Authorization"] == "Bearer abc"
    assert headers["Content-Type"] == "application/json"
    assert headers["Packline-Event-Id"] == EVENT_ID
    assert headers["Packline-Signature"] == "t=1,v1=ab"
    assert headers["Packline-Attempt"] == "3"
    lowered = [name.lower() for name in headers]
    assert len(lowered) == len(set(lowered)) and "host" not in lowered


def test_extra_header_validation_names_the_problem():
    assert validate_extra_headers({"X-Api-Key": "k"}) is None
    assert "cannot be overridden" in validate_extra_headers({"Packline-Attempt": "1"})
    assert "single-line" in validate_extra_headers({"X-Evil": "a\r\nHost: b"})
    assert "valid HTTP header name" in validate_extra_headers({"Bad Name": "x"})
