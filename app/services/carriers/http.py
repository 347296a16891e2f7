"""`HttpCarrier`: a brand's own carrier gateway, spoken to over a small JSON API.

Config: `base_url`, `api_key` (sent as `Authorization: Bearer`), `timeout_seconds` (default 10),
optionally `tracking_url_template` (e.g. "https://carrier.example/t/{tracking_number}") used when
the gateway answers without a tracking URL.

    POST {base_url}/shipments                    request JSON, `Idempotency-Key` header
         -> {"tracking_number", "tracking_url", "label_pdf_base64", "label_zpl", "reference"}
    GET  {base_url}/shipments/{tn}/label         -> the same label fields as JSON, or a raw PDF
    GET  {base_url}/shipments/{tn}               -> {"status": "..."}   (see STATUS_MAP)
    POST {base_url}/shipments/{tn}/cancel        -> any 2xx

Calls go through the shared client (app/services/http_client.py): no redirects, answers over
10 MB refused, proxies from the environment ignored. The gateway is the brand's own and often on
its private network, so private addresses are allowed. Timeouts, connection errors, 408, 425, 429
and 5xx are transient (the job retries); other answers outside 2xx are permanent and carry the
gateway's own message. A missing label is not an error: we render our own, so a gateway only has
to issue tracking numbers.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import asdict
from datetime import datetime
from typing import Any
from urllib.parse import quote

from flask_babel import gettext as _

from app.services.carriers.base import (
    CarrierAdapter,
    CarrierError,
    CarrierShipment,
    CarrierStatus,
    CarrierStatusName,
    ShipmentRequest,
    validate_tracking_number,
)
from app.services.carriers.labels import render_label_pdf, render_zpl
from app.services.http_client import HttpError, capped_said, request
from app.services.said import N_, Message

# Gateway status -> ours. Anything else means "nothing we act on" and leaves the shipment as is.
STATUS_MAP: dict[str, CarrierStatusName] = {
    "created": "in_transit",
    "picked_up": "in_transit",
    "in_transit": "in_transit",
    "out_for_delivery": "in_transit",
    "delivery_attempted": "attempted_delivery",
    "returned": "delivery_failed",
    "failed": "delivery_failed",
    "delivered": "delivered",
    "cancelled": "cancelled",
}

MAX_BODY_BYTES = 10 * 1024 * 1024
USER_AGENT = "Packline carrier adapter"


def _gateway_message(body: bytes) -> str:
    """The most readable part of an error answer: its JSON message, else the start of the text."""
    try:
        data = json.loads(body)
    except ValueError:
        return body[:300].decode("utf-8", "replace")
    if isinstance(data, dict):
        for key in ("message", "error", "detail", "title"):
            value = data.get(key)
            if isinstance(value, dict):
                value = value.get("message")
            if isinstance(value, str) and value.strip():
                return value
    return json.dumps(data, ensure_ascii=False)[:300]


def _said(msgid: str, **values: Any) -> tuple[str, Message]:
    """(English text, message): the English as it always was (a float as "10", not the locale's
    number); a value given as (English, message) is said as its message."""
    english, kept = {}, {}
    for key, value in values.items():
        if isinstance(value, tuple):
            english[key], kept[key] = value
        else:
            english[key] = f"{value:g}" if isinstance(value, float) else value
            kept[key] = value
    return msgid % english, capped_said(msgid, **kept)  # a gateway's own words, cut


def _header_value(value: str) -> str:
    # Header values must be printable Latin-1; percent-encoding keeps any key sendable.
    return value if value.isascii() and value.isprintable() else quote(value, safe="")


class HttpCarrier(CarrierAdapter):
    """Carrier gateway over HTTP; see the module docstring for the protocol."""

    name = "http"

    def __init__(self, config: Mapping[str, Any]) -> None:
        super().__init__(config)
        base_url = self.config.get("base_url")
        if not isinstance(base_url, str) or not base_url.startswith(("http://", "https://")):
            raise CarrierError(_('http carrier: base_url must be an http:// or https:// URL'), transient=False)
        self.base_url = base_url.rstrip("/")
        self.api_key = str(self.config.get("api_key") or "")
        if not (self.api_key.isascii() and self.api_key.isprintable()):
            raise CarrierError(_('http carrier: api_key must be printable ASCII'), transient=False)
        try:
            self.timeout = float(self.config.get("timeout_seconds", 10))
        except (TypeError, ValueError):
            self.timeout = 0.0
        if not self.timeout > 0:
            raise CarrierError(_('http carrier: timeout_seconds must be a positive number'), transient=False)

    # ------------------------------------------------------------------------------ contract

    def create_shipment(self, req: ShipmentRequest) -> CarrierShipment:
        """POST the shipment; a retry with the same idempotency key gets the same shipment."""
        body = asdict(req)
        body["weight_kg"] = float(req.weight_kg) if req.weight_kg is not None else None
        data = self._json(
            self._call(
                "POST",
                "/shipments",
                json=body,
                headers={"Idempotency-Key": _header_value(req.idempotency_key)},
            )
        )
        tracking_number = data.get("tracking_number")
        if tracking_number in (None, ""):
            raise CarrierError(_('carrier answered without a tracking number'), transient=False)
        try:
            tracking_number = validate_tracking_number(tracking_number)
        except ValueError as exc:
            raise CarrierError(_('carrier answered with an unusable tracking number: %(exc)s', exc=exc), transient=False) from None
        pdf, zpl = self._labels(data, tracking_number, req)
        reference = data.get("reference")
        return CarrierShipment(
            tracking_number=tracking_number,
            tracking_url=self._tracking_url(data.get("tracking_url"), tracking_number),
            label_pdf=pdf,
            label_zpl=zpl,
            carrier_reference=str(reference)[:200] if reference not in (None, "") else "",
        )

    def fetch_label(self, tracking_number: str, req: ShipmentRequest) -> tuple[bytes, str]:
        """GET the label; a raw PDF answer or missing fields fall back to our own rendering."""
        body = self._call("GET", f"{self._shipment_path(tracking_number)}/label")
        if body.startswith(b"%PDF-"):
            return body, render_zpl(req, tracking_number)
        return self._labels(self._json(body), tracking_number, req)

    def query_status(self, tracking_number: str, shipped_at: datetime, now: datetime) -> CarrierStatus:
        """GET the shipment and map its status through STATUS_MAP (unknown -> None)."""
        data = self._json(self._call("GET", self._shipment_path(tracking_number)))
        raw = data.get("status")
        if not isinstance(raw, str) or not raw.strip():
            raise CarrierError(_('carrier answered without a status'), transient=False)
        return CarrierStatus(STATUS_MAP.get(raw.strip().lower()), raw.strip()[:200])

    def cancel(self, tracking_number: str) -> None:
        """POST the cancellation; any 2xx answer means it is cancelled."""
        self._call("POST", f"{self._shipment_path(tracking_number)}/cancel")

    # ------------------------------------------------------------------------------- helpers

    def _shipment_path(self, tracking_number: str) -> str:
        try:
            return "/shipments/" + quote(validate_tracking_number(tracking_number), safe="")
        except ValueError as exc:
            raise CarrierError(str(exc), transient=False) from None

    def _call(self, method: str, path: str, *, json: Any = None, headers: Mapping[str, str] | None = None) -> bytes:
        """Send one request and return the body of its 2xx answer, or raise CarrierError."""
        request_headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
        if self.api_key:
            request_headers["Authorization"] = f"Bearer {self.api_key}"
        request_headers.update(headers or {})
        try:
            answer = request(method, self.base_url + path, headers=request_headers, json=json,
                             timeout=self.timeout, max_bytes=MAX_BODY_BYTES, allow_private=True)
        except HttpError as exc:
            text, message = self._failure(exc, f"{method} {path}")
            raise CarrierError(text, transient=exc.transient, said=message) from None
        return answer.body

    def _failure(self, exc: HttpError, what: str) -> tuple[str, Message]:
        """(English text, catalogue message) of a failed call: the text for logs and the API,
        the message for the store's shipment panel (said in the reader's language)."""
        if exc.reason == "timeout":
            return _said(N_("carrier gateway timed out after %(seconds)s s (%(what)s)"), seconds=self.timeout,
                         what=what)
        if exc.reason == "connection":
            return _said(N_("carrier gateway unreachable (%(what)s): %(problem)s"), what=what,
                         problem=(exc.message, exc.said))
        if exc.reason == "too_large":
            return _said(N_("carrier gateway answer to %(what)s is larger than %(mb)s MB"), what=what,
                         mb=MAX_BODY_BYTES // (1024 * 1024))
        if exc.reason == "redirect" and exc.response is not None:
            location = exc.response.headers.get("Location", "?")
            return _said(N_("carrier gateway redirected %(what)s to %(location)s; configure the final URL"),
                         what=what, location=location)
        if exc.response is not None:  # the gateway's own words stay as it sent them
            return _said(N_("carrier gateway answered %(status)s to %(what)s: %(message)s"), status=exc.status,
                         what=what, message=_gateway_message(exc.response.body))
        return _said(N_("carrier gateway request failed (%(what)s): %(problem)s"), what=what,
                     problem=(exc.message, exc.said))

    def _json(self, body: bytes) -> dict[str, Any]:
        try:
            data = json.loads(body)
        except ValueError:
            text, message = _said(N_("carrier answered with something that is not JSON: %(start)s"),
                                  start=body[:100].decode("utf-8", "replace"))
            raise CarrierError(text, transient=False, said=message) from None
        if not isinstance(data, dict):
            raise CarrierError(_('carrier answered with JSON that is not an object'), transient=False)
        return data

    def _labels(self, data: Mapping[str, Any], tracking_number: str, req: ShipmentRequest) -> tuple[bytes, str]:
        encoded = data.get("label_pdf_base64")
        if encoded in (None, ""):
            pdf = render_label_pdf(req, tracking_number)
        else:
            try:
                pdf = base64.b64decode(str(encoded), validate=True)
            except (binascii.Error, ValueError):
                raise CarrierError(_('carrier answered with a label that is not valid base64'), transient=False) from None
            if not pdf.startswith(b"%PDF-"):
                raise CarrierError(_('carrier answered with a label that is not a PDF'), transient=False)
        zpl = data.get("label_zpl")
        if not isinstance(zpl, str) or not zpl.strip():
            zpl = render_zpl(req, tracking_number)
        elif not zpl.lstrip().startswith("^XA"):
            raise CarrierError(_('carrier answered with a ZPL label that does not start with ^XA'), transient=False)
        return pdf, zpl

    def _tracking_url(self, value: object, tracking_number: str) -> str:
        # The URL becomes a link in our UI: anything but plain http(s) is dropped, not trusted.
        if (
            isinstance(value, str)
            and value.startswith(("https://", "http://"))
            and len(value) <= 1000
            and value.isprintable()
            and " " not in value
        ):
            return value
        template = self.config.get("tracking_url_template")
        if isinstance(template, str) and "{tracking_number}" in template:
            return template.replace("{tracking_number}", quote(tracking_number, safe=""))
        return ""
