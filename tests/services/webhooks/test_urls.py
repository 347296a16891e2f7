"""Which webhook URLs may be used (resolution only; nothing is sent)."""

from __future__ import annotations

import pytest

from app.services.webhooks import is_url_allowed, validate_subscription_url


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com/hook", "http:// or https://"),
        ("https:///hook", "no host"),
        ("https://", "no host"),
        ("http://exa mple.com/", "spaces"),
        ("https://example.com:99999/", "malformed"),
    ],
)
def test_urls_that_are_not_http_with_a_host_are_refused_even_when_private_is_allowed(url, message):
    assert message in validate_subscription_url(url, allow_private=True)
    assert message in validate_subscription_url(url, allow_private=False)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:5000/hook",
        "http://localhost/hook",
        "https://10.1.2.3/hook",
        "https://192.168.1.20/hook",
        "https://172.16.0.1/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://0.0.0.0/",
        "http://100.64.0.1/",
        "http://224.0.0.1/",
        "http://[::1]/hook",
        "http://[fe80::1]/hook",
        "http://[fd00::1]/hook",
        "http://[::ffff:10.0.0.1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://[64:ff9b::a00:1]/hook",
        "http://2130706433/hook",
    ],
)
def test_private_addresses_are_refused_unless_allowed(url):
    error = validate_subscription_url(url, allow_private=False)

    assert error and "WEBHOOK_ALLOW_PRIVATE_URLS" in error
    assert not is_url_allowed(url, allow_private=False)
    assert validate_subscription_url(url, allow_private=True) is None
    assert is_url_allowed(url, allow_private=True)


@pytest.mark.parametrize(
    "url",
    ["https://93.184.216.34/hook", "http://93.184.216.34:8080/x?y=1", "https://[2606:4700::1]/"],
)
def test_public_literal_addresses_are_accepted(url):
    assert validate_subscription_url(url, allow_private=False) is None
    assert is_url_allowed(url, allow_private=False)
