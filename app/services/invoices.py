"""The optional invoice service: after packing, a job asks the brand's invoicing system for the
package's invoice and stores its number, date and URL through the `update_invoice` command.

    POST {INVOICE_SERVICE_URL}   JSON below          -> 2xx {"number", "date": "YYYY-MM-DD", "url"}

The call runs outside any database transaction, through the shared client
(app/services/http_client.py); the service is the brand's own, so private addresses are allowed.
Its answer is validated by the command itself.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from app.extensions import db
from app.models import Package
from app.services.actors import Actor
from app.services.errors import ServiceError
from app.services.http_client import HttpError, capped_said, request
from app.services.human_input import field_said, plain_said
from app.services.packages import run_package_command
from app.services.said import N_, Message, english, is_message, joined, listening, recall, said
from app.services.transitions import NOT_HOLDING_ITEM_STATES, PACKED_AND_LATER

INVOICEABLE_STATES = PACKED_AND_LATER
TIMEOUT_SECONDS = 10
MAX_ANSWER_BYTES = 1024 * 1024


class InvoiceServiceError(Exception):
    """The invoice service failed; `transient` ones (timeouts, 5xx) are worth retrying.

    `message` is English (logs, the job's record); `said` the same sentence as a catalogue
    message (services/said.py), which the failed-jobs page says in the reader's language."""

    def __init__(self, message: str, transient: bool, said: Message | None = None) -> None:
        super().__init__(message[:500])
        self.message = message[:500]
        self.transient = transient
        self.said = said


def invoice_request(package: Package) -> dict[str, Any]:
    """What the invoice service receives about a package."""
    order = package.order
    prices = {i.id: i.price for i in order.items}

    def money(value: Decimal | None) -> str | None:
        return str(value) if value is not None else None

    return {
        "package": {"id": package.id, "number": package.number, "location": package.location.code},
        "order": {"number": order.number, "channel": order.channel.code, "placed_at": order.placed_at.isoformat(),
                  "payment_type": order.payment_type},
        "customer": {"name": order.customer_name, "email": order.customer_email, "phone": order.customer_phone},
        "shipping_address": {"line": order.ship_line, "city": order.ship_city, "district": order.ship_district,
                             "postcode": order.ship_postcode, "country": order.ship_country},
        "items": [{"sku": i.product.sku, "name": i.product.name, "quantity": i.quantity,
                   "unit_price": money(prices.get(i.order_item_id))}
                  for i in package.items if i.state not in NOT_HOLDING_ITEM_STATES],
    }


def fetch_invoice(package_id: int, service_url: str, timeout: float = TIMEOUT_SECONDS) -> str:
    """Ask the invoice service for the package's invoice and store it; returns what happened.

    Skips packages that already have an invoice number or are not packed (yet). Raises
    InvoiceServiceError for a failed call, and ServiceError when the answer is not a valid
    invoice (the `update_invoice` command's validation, e.g. a missing number or bad date).
    """
    package = db.session.get(Package, package_id)
    if package is None:
        return "skipped: package does not exist"
    if package.invoice is not None and package.invoice.number:
        return "skipped: already invoiced"
    if package.state not in INVOICEABLE_STATES:
        return f"skipped: package is {package.state}"
    payload = invoice_request(package)
    db.session.rollback()  # no transaction stays open during the call
    answer = _post(service_url, payload, timeout)
    params = {key: answer.get(key) for key in ("number", "date", "url") if answer.get(key) is not None}
    try:
        with listening():  # the command's refusal is kept as the catalogue messages it was said in
            run_package_command(package_id, "update_invoice", params, Actor.system("invoice"))
    except ServiceError as exc:
        details = [said(N_("%(field)s: %(problem)s"), field=field_said(k), problem=_in_words(v, str(k)))
                   for k, v in exc.details.items()]
        message = said(N_("invoice service answer not stored: %(problem)s %(details)s"),
                       problem=_in_words(exc.message), details=joined(details, "; "))
        raise InvoiceServiceError(english(message).strip(), transient=False, said=message) from None
    return "invoiced"


def _in_words(value: Any, field: str | None = None) -> Any:
    """A refusal's sentence as a catalogue message, said later in the reader's language: one said
    through gettext while listening as it was, pydantic's English as the forms say it
    (`human_input.plain_said`), else the text as its own id (a service's English constant, such
    as "The command parameters are not valid.", is in the catalogue; other text reads as it is)."""
    heard = recall(value)
    if is_message(heard):
        return heard
    plain = plain_said(heard, field)
    return said(plain) if isinstance(plain, str) and plain else plain


def _post(url: str, payload: dict[str, Any], timeout: float) -> dict[str, Any]:
    try:
        answer = request("POST", url, json=payload, timeout=timeout, max_bytes=MAX_ANSWER_BYTES, allow_private=True,
                         headers={"Accept": "application/json", "User-Agent": "Packline invoices"})
    except HttpError as exc:
        message = _failure(exc, timeout)
        raise InvoiceServiceError(english(message), transient=exc.transient, said=message) from None
    try:
        data = answer.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        message = said(N_("invoice service answered with something that is not a JSON object"))
        raise InvoiceServiceError(english(message), transient=False, said=message)
    return data


def _failure(exc: HttpError, timeout: float) -> Message:
    """What went wrong, as a catalogue message; the service's own words stay as it sent them."""
    problem = exc.said if exc.said is not None else exc.message
    if exc.reason == "timeout":
        return said(N_("invoice service timed out after %(seconds)s s"), seconds=f"{timeout:g}")
    if exc.reason == "connection":
        return capped_said(N_("invoice service unreachable: %(problem)s"), problem=problem)
    if exc.reason == "too_large":
        return said(N_("invoice service answer is larger than %(mb)s MB"), mb=MAX_ANSWER_BYTES // (1024 * 1024))
    if exc.reason == "redirect" and exc.response is not None:
        return capped_said(N_("invoice service redirected to %(location)s; configure the final URL"),
                           location=exc.response.headers.get("Location", "?"))
    if exc.response is not None:
        try:
            data = exc.response.json()
        except ValueError:
            data = None
        message = data.get("message") if isinstance(data, dict) else None
        text = message if isinstance(message, str) else exc.response.body[:300].decode("utf-8", "replace")
        return capped_said(N_("invoice service answered %(status)s: %(message)s"), status=str(exc.status),
                           message=" ".join(text.split()))
    return capped_said(N_("invoice service request failed: %(problem)s"), problem=problem)
