"""Webhook retry policies: the fixed, linear and exponential schedules and the delivery promise
(at least 8 attempts over at least 24 hours) every subscription's policy must keep."""

from __future__ import annotations

import hashlib
from datetime import timedelta

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
