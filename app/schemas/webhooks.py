"""Webhook subscription input (SPEC §9.1 `POST /api/v1/webhooks`)."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from app.models.events import EVENT_TYPES
from app.schemas.common import NOT_BLANK
from app.services.webhooks.payload import validate_extra_headers
from app.services.webhooks.retry import DEFAULT_MAX_ATTEMPTS, DEFAULT_STRATEGY, MAX_ATTEMPTS_LIMIT, MIN_ATTEMPTS

Strategy = Literal["fixed", "linear", "exponential"]


class RetryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    strategy: Strategy = DEFAULT_STRATEGY
    # The bounds are checked with the 24 h span by services.webhooks (one message for both).
    max_attempts: int = Field(DEFAULT_MAX_ATTEMPTS, strict=True,
                              json_schema_extra={"minimum": MIN_ATTEMPTS, "maximum": MAX_ATTEMPTS_LIMIT})


def _check_events(events: list[str]) -> list[str]:
    if not events:
        raise ValueError('List at least one event type, or "*" for every event.')
    unknown = [e for e in events if e != "*" and e not in EVENT_TYPES]
    if unknown:
        raise ValueError(f"Unknown event type {unknown[0]!r}. Known types: {', '.join(EVENT_TYPES)}.")
    if "*" in events and len(events) > 1:
        raise ValueError('"*" already means every event; do not list others with it.')
    return list(dict.fromkeys(events))


def _check_secret(secret: str) -> str:
    if not re.search(NOT_BLANK, secret):
        raise ValueError("The secret must not be empty.")
    return secret


def _check_headers(headers: dict[str, str]) -> dict[str, str]:
    problem = validate_extra_headers(headers)
    if problem:
        raise ValueError(problem[0].upper() + problem[1:] + ".")
    return headers


# The document states what a schema can; the service checks the rest (a public host, a 24 h retry span).
EventList = Annotated[list[str], AfterValidator(_check_events), Field(json_schema_extra={
    "minItems": 1, "anyOf": [{"const": ["*"]}, {"items": {"enum": list(EVENT_TYPES)}}]})]
Secret = Annotated[str, Field(max_length=200, json_schema_extra={"pattern": NOT_BLANK}), AfterValidator(_check_secret)]
Url = Annotated[str, Field(min_length=1, max_length=2000,
                           json_schema_extra={"pattern": "^[Hh][Tt][Tt][Pp][Ss]?://[^/?#]"})]
Headers = Annotated[dict[str, str], AfterValidator(_check_headers), Field(json_schema_extra={
    "propertyNames": {"pattern": "^[!-9;-~]+$"}, "additionalProperties": {"type": "string", "pattern": r"^[^\r\n\x00]*$"}})]


class WebhookIn(BaseModel):
    """A new subscription. `url` is checked further by the service (scheme, private addresses)."""

    model_config = ConfigDict(extra="forbid")

    url: Url
    events: EventList
    secret: Secret
    active: bool = True
    retry: RetryIn = Field(default_factory=RetryIn)
    headers: Headers = Field(default_factory=dict)
    description: str | None = Field(None, max_length=300)


class WebhookUpdate(BaseModel):
    """A partial change: only the fields sent are changed; `secret` is replaced when sent. Only
    `description` may be null."""

    model_config = ConfigDict(extra="forbid")

    url: Url = Field(None)
    events: EventList = Field(None)
    secret: Secret = Field(None)
    active: bool = Field(None)
    retry: RetryIn = Field(None)
    headers: Headers = Field(None)
    description: str | None = Field(None, max_length=300)


# --- responses (documented in the OpenAPI document) -----------------------------------------------


class RetryOut(BaseModel):
    strategy: Strategy
    max_attempts: int


class WebhookOut(BaseModel):
    """A subscription. The secret is write-only; `headers` lists only the extra headers' names."""

    id: int
    url: str
    events: list[str]
    active: bool
    retry: RetryOut
    headers: list[str]
    description: str | None
    created_at: str
    updated_at: str


class DeliveryEventOut(BaseModel):
    id: str
    type: str
    occurred_at: str


class AttemptOut(BaseModel):
    number: int
    status_code: int | None
    duration_ms: int | None
    response_excerpt: str | None
    error: str | None
    created_at: str


class DeliveryOut(BaseModel):
    id: int
    subscription_id: int
    event: DeliveryEventOut
    status: Literal["pending", "retrying", "succeeded", "failed"]
    attempts: int
    next_attempt_at: str | None
    last_status_code: int | None
    last_error: str | None
    created_at: str
    completed_at: str | None


class DeliveryDetailOut(DeliveryOut):
    attempt_log: list[AttemptOut]


class RedeliveredOut(BaseModel):
    redelivered: int
