"""Which URLs webhooks may be sent to: http(s) with a host and, unless the
`WEBHOOK_ALLOW_PRIVATE_URLS` setting is on, only public addresses (SSRF; docs/webhooks.md)."""

from __future__ import annotations

from urllib.parse import urlsplit

from app.services.http_client import describe_refusal, non_public_address

PRIVATE_URLS_SETTING = "WEBHOOK_ALLOW_PRIVATE_URLS"


def refusal(description: str) -> str:
    """A refused address (`http_client.describe_refusal`) explained with the setting that allows it."""
    return (
        f"{description}; webhooks to private, loopback, link-local and other non-public addresses "
        f"are refused unless the {PRIVATE_URLS_SETTING} setting is enabled"
    )


def validate_subscription_url(url: str, allow_private: bool) -> str | None:
    """Error message for a webhook URL, or None when it may be used.

    Only http(s) URLs with a host. Unless `allow_private`, the host is resolved now and every
    address it resolves to must be public; each delivery's HTTP call checks the connected
    address again.
    """
    if not isinstance(url, str) or not url:
        return "URL is required"
    if len(url) > 2000:
        return "URL is longer than 2000 characters"
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        return "URL must not contain spaces or control characters"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return f"URL is malformed: {exc}"
    if parts.scheme.lower() not in ("http", "https"):
        return "URL must start with http:// or https://"
    host = parts.hostname
    if not host:
        return "URL has no host"
    try:
        host.encode("idna")
    except UnicodeError:
        return f"{host!r} is not a valid host name"
    if allow_private:
        return None
    default_port = 443 if parts.scheme.lower() == "https" else 80
    try:
        found = non_public_address(host, port or default_port)
    except (OSError, UnicodeError):
        return f"cannot resolve host {host!r}"
    return refusal(describe_refusal(host, *found)) if found else None


def is_url_allowed(url: str, allow_private: bool) -> bool:
    """Delivery-time re-check of `validate_subscription_url` (DNS answers change)."""
    return validate_subscription_url(url, allow_private) is None
