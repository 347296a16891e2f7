"""Which URLs webhooks may be sent to: http(s) with a host and, unless the
`WEBHOOK_ALLOW_PRIVATE_URLS` setting is on, only public addresses (SSRF; docs/webhooks.md)."""

from __future__ import annotations

from urllib.parse import urlsplit

from app.services.http_client import capped_said, non_public_address, refusal_said
from app.services.said import N_, Message, english, said, text

PRIVATE_URLS_SETTING = "WEBHOOK_ALLOW_PRIVATE_URLS"


def refusal(description: str) -> str:
    """A refused address (`http_client.describe_refusal`) explained with the setting that allows it."""
    return (
        f"{description}; webhooks to private, loopback, link-local and other non-public addresses "
        f"are refused unless the {PRIVATE_URLS_SETTING} setting is enabled"
    )


def validate_subscription_url(url: str, allow_private: bool) -> str | None:
    """Error message for a webhook URL in English (logs, attempt records), or None when it may
    be used. `url_problem` is the same as a catalogue message, for the reader's language."""
    problem = url_problem(url, allow_private)
    return english(problem) if problem is not None else None


def url_problem(url: str, allow_private: bool) -> Message | None:
    """What is wrong with a webhook URL, as a catalogue message (services/said.py), or None.

    Only http(s) URLs with a host. Unless `allow_private`, the host is resolved now and every
    address it resolves to must be public; each delivery's HTTP call checks the connected
    address again.
    """
    if not isinstance(url, str) or not url:
        return said(N_("URL is required"))
    if len(url) > 2000:
        return said(N_("URL is longer than 2000 characters"))
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        return said(N_("URL must not contain spaces or control characters"))
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return capped_said(N_("URL is malformed: %(problem)s"), problem=str(exc))
    if parts.scheme.lower() not in ("http", "https"):
        return said(N_("URL must start with http:// or https://"))
    host = parts.hostname
    if not host:
        return said(N_("URL has no host"))
    try:
        host.encode("idna")
    except UnicodeError:
        return capped_said(N_("%(host)s is not a valid host name"), host=repr(host))
    if allow_private:
        return None
    default_port = 443 if parts.scheme.lower() == "https" else 80
    try:
        found = non_public_address(host, port or default_port)
    except (OSError, UnicodeError):
        return capped_said(N_("cannot resolve host %(host)s"), host=repr(host))
    if not found:
        return None
    return said(N_("%(problem)s; webhooks to private, loopback, link-local and other non-public addresses are "
                   "refused unless the %(setting)s setting is enabled"),
                problem=refusal_said(host, *found)[1], setting=PRIVATE_URLS_SETTING)


def _starts_with_value(message) -> bool:
    """Whether a message's first word is one of its values (a host name, as typed), recursively."""
    msgid = message.get("id") if isinstance(message, dict) else None
    if not isinstance(msgid, str) or not msgid.startswith("%("):
        return False
    first = (message.get("values") or {}).get(msgid[2:msgid.find(")")])
    return _starts_with_value(first) if isinstance(first, dict) else True


def as_sentence(problem: Message) -> str:
    """A URL problem as a sentence in the reader's language: a first capital and a full stop —
    but a sentence that starts with a host name shows the host as typed ("localhost resolves
    to 127.0.0.1…", never "Localhost")."""
    words = text(problem)
    if words and not _starts_with_value(problem):
        words = words[0].upper() + words[1:]
    return words + "."


def is_url_allowed(url: str, allow_private: bool) -> bool:
    """Delivery-time re-check of `validate_subscription_url` (DNS answers change)."""
    return url_problem(url, allow_private) is None
