"""Webhooks: from a committed outbox event to a signed POST at a subscriber, retried on schedule.

    signing        sign / verify the `Packline-Signature` header
    payload        the signed JSON body and the request headers
    retry          retry strategies, their schedules and the delivery promise
    urls           which URLs may be used (http(s), public addresses unless allowed)
    attempt        one delivery attempt over the shared HTTP client (app/services/http_client.py)
    outbox         relay, publishing, the sweeper, claiming and finishing attempts
    subscriptions  subscription CRUD, representations, the delivery log and redelivery

The delivery core and the outbox's entry points are re-exported here. `subscriptions` is
imported as a module (`from app.services.webhooks import subscriptions`): it validates with
app/schemas/webhooks.py, which reads the retry defaults and header rules from this package, so
importing it here would make the two import each other.
"""

from app.services.webhooks.attempt import (
    TIMEOUT_SECONDS,
    AttemptResult,
    Claim,
    make_attempt,
    post,
)
from app.services.webhooks.outbox import (
    INTERRUPTED,
    claim_attempt,
    finish_attempt,
    install_relay,
    publish_pending,
    reset_redis_backoff,
    sweep,
)
from app.services.webhooks.payload import USER_AGENT, build_body, build_headers, validate_extra_headers
from app.services.webhooks.retry import (
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_STRATEGY,
    STRATEGIES,
    next_attempt_delay,
    retry_schedule,
    validate_retry_policy,
)
from app.services.webhooks.signing import SIGNATURE_TOLERANCE_SECONDS, sign, verify
from app.services.webhooks.urls import PRIVATE_URLS_SETTING, is_url_allowed, validate_subscription_url

__all__ = [
    "DEFAULT_MAX_ATTEMPTS",
    "DEFAULT_STRATEGY",
    "INTERRUPTED",
    "PRIVATE_URLS_SETTING",
    "SIGNATURE_TOLERANCE_SECONDS",
    "STRATEGIES",
    "TIMEOUT_SECONDS",
    "USER_AGENT",
    "AttemptResult",
    "Claim",
    "build_body",
    "build_headers",
    "claim_attempt",
    "finish_attempt",
    "install_relay",
    "is_url_allowed",
    "make_attempt",
    "next_attempt_delay",
    "post",
    "publish_pending",
    "reset_redis_backoff",
    "retry_schedule",
    "sign",
    "sweep",
    "validate_extra_headers",
    "validate_retry_policy",
    "validate_subscription_url",
    "verify",
]
