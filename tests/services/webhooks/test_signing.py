"""Webhook signatures: what a receiver verifies."""

from __future__ import annotations

from app.services.webhooks import sign, verify

SECRET = "whsec-test"


def test_a_signature_is_rejected_when_stale_tampered_or_malformed():
    body = b'{"id":"1"}'
    now = 1_800_000_000
    header = sign(SECRET, body, now)

    assert header.startswith(f"t={now},v1=")
    assert verify(SECRET, body, header, now=now + 299)
    assert not verify(SECRET, body, header, now=now + 301)
    assert not verify(SECRET, body, header, now=now - 301)
    assert verify(SECRET, body, header, tolerance_seconds=3600, now=now + 3000)
    assert not verify(SECRET, body + b" ", header, now=now)
    assert not verify(SECRET, body, header.replace(f"t={now}", f"t={now + 1}"), now=now)
    for malformed in ["", "v1=abc", f"t={now}", f"t=x,{header}", f"{header},t={now}", "t=١,v1=a"]:
        assert not verify(SECRET, body, malformed, now=now)


def test_secret_rotation_is_tolerated_on_both_sides():
    body, now = b"{}", 1_800_000_000

    during_rotation = sign("new", body, now, previous_secrets=["old"])

    assert during_rotation.count("v1=") == 2
    assert verify("old", body, during_rotation, now=now)
    assert verify("new", body, during_rotation, now=now)
    assert verify(["new", "old"], body, sign("old", body, now), now=now)
    assert not verify("other", body, during_rotation, now=now)
