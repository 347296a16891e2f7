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
from app.services.http_client import HttpError, request
from app.services.packages import run_package_command
from app.services.transitions import NOT_HOLDING_ITEM_STATES, PACKED_AND_LATER

INVOICEABLE_STATES = PACKED_AND_LATER
TIMEOUT_SECONDS = 10
MAX_ANSWER_BYTES = 1024 * 1024


class InvoiceServiceError(Exception):
    """The invoice service failed; `transient` ones (timeouts, 5xx) are worth retrying."""

    def __init__(self, message: str, transient: bool) -> None:
        super().__init__(message[:500])
        self.message = message[:500]
        self.transient = transient


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
        run_package_command(package_id, "update_invoice", params, Actor.system("invoice"))
    except ServiceError as exc:
        details = "; ".join(f"{k}: {v}" for k, v in exc.details.items())
        raise InvoiceServiceError(f"invoice service answer not stored: {exc.message} {details}".strip(),
                                  transient=False) from None
    return "invoiced"


def _post(url: str, payload: dict[str, Any], timeout: float) -> dict[str, Any]:
    try:
        answer = request("POST", url, json=payload, timeout=timeout, max_bytes=MAX_ANSWER_BYTES, allow_private=True,
                         headers={"Accept": "application/json", "User-Agent": "Packline invoices"})
    except HttpError as exc:
        raise InvoiceServiceError(_failure(exc, timeout), transient=exc.transient) from None
    try:
        data = answer.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise InvoiceServiceError("invoice service answered with something that is not a JSON object",
                                  transient=False)
    return data


def _failure(exc: HttpError, timeout: float) -> str:
    if exc.reason == "timeout":
        return f"invoice service timed out after {timeout:g} s"
    if exc.reason == "connection":
        return f"invoice service unreachable: {exc.message}"
    if exc.reason == "too_large":
        return f"invoice service answer is larger than {MAX_ANSWER_BYTES // (1024 * 1024)} MB"
    if exc.reason == "redirect" and exc.response is not None:
        return f"invoice service redirected to {exc.response.headers.get('Location', '?')}; configure the final URL"
    if exc.response is not None:
        try:
            data = exc.response.json()
        except ValueError:
            data = None
        message = data.get("message") if isinstance(data, dict) else None
        text = message if isinstance(message, str) else exc.response.body[:300].decode("utf-8", "replace")
        return f"invoice service answered {exc.status}: {' '.join(text.split())}"
    return f"invoice service request failed: {exc.message}"
