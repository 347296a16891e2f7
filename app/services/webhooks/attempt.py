"""One webhook delivery attempt: sign the claimed event, POST it through the shared HTTP client
(app/services/http_client.py) and report what happened as an `AttemptResult`.

Nothing here touches the database: `outbox.claim_attempt` hands over a `Claim`,
`outbox.finish_attempt` records the result. See docs/webhooks.md for the receiver's side.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass

from app.services.http_client import HttpError, request
from app.services.said import N_, Message, said
from app.services.webhooks.payload import build_headers
from app.services.webhooks.signing import sign
from app.services.webhooks.urls import PRIVATE_URLS_SETTING, refusal, validate_subscription_url

TIMEOUT_SECONDS = 10.0
MAX_RESPONSE_BYTES = 4096
EXCERPT_CHARS = 1024
ERROR_CHARS = 300


@dataclass(frozen=True)
class Claim:
    """Everything a worker needs to make one attempt without touching the database."""

    delivery_id: int
    attempt_id: int
    number: int
    url: str
    secret: str
    extra_headers: dict[str, str]
    event_id: str
    event_type: str
    body: bytes
    allow_private: bool
    subscription_id: int = 0
    first: bool = False  # the delivery's first attempt (its subscription's next one waits for it)


@dataclass(frozen=True)
class AttemptResult:
    """What one delivery attempt did; `ok` only for a 2xx answer."""

    ok: bool
    status_code: int | None
    duration_ms: int
    response_excerpt: str
    error: str | None
    # The same sentence as a catalogue message (services/said.py), said on the admin screens in
    # the reader's language; None when the error is not ours to say (or there is none).
    error_message: Message | None = None


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


def post(
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    timeout: float = TIMEOUT_SECONDS,
    max_response_bytes: int = MAX_RESPONSE_BYTES,
    *,
    allow_private: bool = False,
) -> AttemptResult:
    """POST `body` once and report what happened; never raises for network problems.

    Redirects are not followed (a 3xx fails with its status recorded). At most
    `max_response_bytes` of the answer's body are read, raw, within `timeout` (a 2xx whose body
    is longer or still arriving counts all the same); the excerpt is the first ~1 KB of it as
    text. Unless `allow_private`, connecting to a non-public address is refused after DNS
    resolution, whatever the URL said.
    """
    started = time.monotonic()
    status: int | None = None
    raw = b""
    content_type = ""
    error: str | None = None
    error_message: Message | str | None = None
    try:
        answer = request("POST", url, data=body, headers=headers, timeout=timeout, deadline=timeout,
                         max_bytes=max_response_bytes, truncate=True, allow_private=allow_private)
    except HttpError as exc:
        if exc.reason == "refused":
            error = _short(f"refused: {refusal(exc.message)}")
            error_message = said(N_("refused: %(problem)s; webhooks to private, loopback, link-local and other "
                                    "non-public addresses are refused unless the %(setting)s setting is enabled"),
                                 problem=exc.said, setting=PRIVATE_URLS_SETTING)
        else:
            error, error_message = exc.message, exc.said
        if exc.response is not None:
            status, raw, content_type = exc.status, exc.response.body, exc.response.content_type
    else:
        status, raw, content_type = answer.status, answer.body, answer.content_type
    return AttemptResult(
        ok=error is None,
        status_code=status,
        duration_ms=int((time.monotonic() - started) * 1000),
        response_excerpt=_excerpt(raw, content_type),
        error=error,
        error_message=error_message if isinstance(error_message, dict) else None,
    )


def make_attempt(claim: Claim, timeout: float = TIMEOUT_SECONDS) -> AttemptResult:
    """Send the claimed delivery once, signed now. The URL is checked again first (DNS may have
    changed since the subscription was saved): a refused one sends nothing."""
    problem = validate_subscription_url(claim.url, claim.allow_private)
    if problem:
        return AttemptResult(ok=False, status_code=None, duration_ms=0, response_excerpt="",
                             error=f"refused: {problem}"[:ERROR_CHARS])
    signature = sign(claim.secret, claim.body, int(time.time()))
    headers = build_headers(claim.event_id, claim.event_type, claim.delivery_id, claim.number, signature,
                            claim.extra_headers)
    return post(claim.url, claim.body, headers, timeout=timeout, allow_private=claim.allow_private)
