"""Webhook retry schedules and the delivery promise (at least 8 attempts over at least 24 hours)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.services.webhooks import (
    DEFAULT_MAX_ATTEMPTS,
    STRATEGIES,
    next_attempt_delay,
    retry_schedule,
    validate_retry_policy,
)


def attempts_and_span(strategy: str, **kwargs) -> tuple[int, timedelta]:
    attempt, span = 1, timedelta()
    while (delay := next_attempt_delay(strategy, attempt, **kwargs)) is not None:
        span += delay
        attempt += 1
    return attempt, span


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_every_strategy_defaults_to_at_least_8_attempts_over_at_least_24_hours(strategy):
    attempts, span = attempts_and_span(strategy)

    assert attempts == DEFAULT_MAX_ATTEMPTS >= 8
    assert span >= timedelta(hours=24)
    assert validate_retry_policy(strategy, DEFAULT_MAX_ATTEMPTS) is None


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_jitter_is_deterministic_and_only_lengthens_the_wait(strategy):
    for attempt in range(1, DEFAULT_MAX_ATTEMPTS):
        plain = next_attempt_delay(strategy, attempt)
        jittered = next_attempt_delay(strategy, attempt, jitter_key="delivery:9")
        assert jittered == next_attempt_delay(strategy, attempt, jitter_key="delivery:9")
        assert plain <= jittered <= plain * 1.1 + timedelta(milliseconds=1)
    assert attempts_and_span(strategy, jitter_key="delivery:9")[1] >= timedelta(hours=24)


def test_the_documented_exponential_schedule():
    assert retry_schedule("exponential") == [
        timedelta(seconds=30),
        timedelta(minutes=2),
        timedelta(minutes=10),
        timedelta(minutes=30),
        timedelta(hours=1),
        timedelta(hours=3),
        timedelta(hours=6),
        timedelta(hours=12),
        timedelta(hours=12),
    ]
    assert retry_schedule("linear")[:3] == [timedelta(minutes=m) for m in (40, 80, 120)]
    assert set(retry_schedule("fixed")) == {timedelta(hours=3)}


def test_no_delay_after_the_last_attempt():
    assert next_attempt_delay("fixed", 2, max_attempts=3) is not None
    assert next_attempt_delay("fixed", 3, max_attempts=3) is None
    assert next_attempt_delay("exponential", 10) is None
    assert next_attempt_delay("linear", 12) is None


def test_retry_settings_that_break_the_delivery_promise_are_refused():
    assert "max_attempts" in validate_retry_policy("exponential", 3)
    assert "24 hours" in validate_retry_policy("fixed", 8, base_seconds=60)
    assert "strategy" in validate_retry_policy("random", 10)
    with pytest.raises(ValueError):
        next_attempt_delay("random", 1)
    with pytest.raises(ValueError):
        next_attempt_delay("fixed", 0)
