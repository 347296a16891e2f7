"""HttpCarrier against a real carrier gateway served on 127.0.0.1 by this test module."""

from __future__ import annotations

import base64
import io
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

import pytest
from pypdf import PdfReader
from reportlab.pdfgen.canvas import Canvas

from app.services.carriers import CarrierError, get_adapter
from app.services.carriers.base import Address, ShipmentRequest
from app.services.carriers.http import STATUS_MAP, HttpCarrier
from tests.http_servers import LocalServer, QuietHandler, proxies_lead_nowhere, serving

API_KEY = "s3cret-token"
NOW = datetime(2026, 3, 2, 12, 0)


def gateway_pdf() -> bytes:
    buffer = io.BytesIO()
    canvas = Canvas(buffer)
    canvas.drawString(100, 700, "GATEWAY LABEL")
    canvas.save()
    return buffer.getvalue()


GATEWAY_PDF = gateway_pdf()
GATEWAY_ZPL = "^XA^FO50,50^A0N,40,40^FDGATEWAY LABEL^FS^XZ"


@dataclass
class Answer:
    status: int = 200
    body: bytes | dict | list = b""
    content_type: str = "application/json"
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)


class Gateway:
    """A gateway that keeps one shipment per idempotency key, unless a test scripts an answer."""

    def __init__(self) -> None:
        self.url = ""
        self.received: list[Received] = []
        self.scripted: dict[tuple[str, str], Answer] = {}
        self.by_key: dict[str, str] = {}
        self.statuses: dict[str, str] = {}
        self.release = threading.Event()

    def script(self, method: str, path: str, answer: Answer) -> None:
        self.scripted[(method, path)] = answer

    def answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> Answer:
        if (method, path) in self.scripted:
            return self.scripted[(method, path)]
        if headers.get("Authorization") != f"Bearer {API_KEY}":
            return Answer(401, {"message": "invalid API key"})
        parts = path.removeprefix("/api/").strip("/").split("/")
        if method == "POST" and parts == ["shipments"]:
            key = headers["Idempotency-Key"]
            if key not in self.by_key:
                self.by_key[key] = f"GW{len(self.by_key) + 1:08d}"
            tracking = self.by_key[key]
            self.statuses.setdefault(tracking, "created")
            return Answer(
                201,
                {
                    "tracking_number": tracking,
                    "tracking_url": f"https://carrier.example.invalid/t/{tracking}",
                    "label_pdf_base64": base64.b64encode(GATEWAY_PDF).decode(),
                    "label_zpl": GATEWAY_ZPL,
                    "reference": f"ref-{tracking}",
                },
            )
        if len(parts) >= 2 and parts[0] == "shipments" and parts[1] in self.statuses:
            tracking = parts[1]
            if method == "GET" and len(parts) == 2:
                return Answer(200, {"status": self.statuses[tracking]})
            if method == "GET" and parts[2:] == ["label"]:
                return Answer(200, GATEWAY_PDF, content_type="application/pdf")
            if method == "POST" and parts[2:] == ["cancel"]:
                self.statuses[tracking] = "cancelled"
                return Answer(200, {})
        return Answer(404, {"message": "no such shipment"})


def _handler(gateway: Gateway) -> type[QuietHandler]:
    class Handler(QuietHandler):
        def _serve(self) -> None:
            body = self.read_body()
            headers = dict(self.headers.items())
            gateway.received.append(Received(self.command, self.path, headers, body))
            answer = gateway.answer(self.command, self.path, headers, body)
            if answer.delay:
                gateway.release.wait(answer.delay)
            payload = answer.body
            if not isinstance(payload, bytes):
                payload = json.dumps(payload).encode()
            self.reply(answer.status, payload, Content_Type=answer.content_type, **answer.headers)

        do_GET = do_POST = _serve

    return Handler


@pytest.fixture
def gateway() -> Iterator[Gateway]:
    gateway = Gateway()
    server = LocalServer(_handler(gateway))
    gateway.url = server.url("/api/")
    with serving(server, release=gateway.release):
        yield gateway


def carrier(gateway: Gateway, **config: object) -> HttpCarrier:
    adapter = get_adapter("http", {"base_url": gateway.url, "api_key": API_KEY, **config})
    assert isinstance(adapter, HttpCarrier)
    return adapter


def shipment_request(key: str = "PKG-000777") -> ShipmentRequest:
    return ShipmentRequest(
        package_number=key,
        order_number="WEB-1009",
        boxes=2,
        weight_kg=Decimal("3.250"),
        cargo_company_code="ARAS",
        sender=Address("Bursa Mağaza", "Fomara Meydanı 1", "Bursa", "Osmangazi", "16010"),
        recipient=Address("Gökçe Ünlü", "Çınar Sok. 4/2", "İzmir", "Bornova", "35040", "TR", "+905551112233"),
        idempotency_key=key,
    )


def carrier_error(call: object, *args: object) -> CarrierError:
    with pytest.raises(CarrierError) as error:
        call(*args)  # type: ignore[operator]
    assert len(error.value.message) <= 500
    return error.value


# ------------------------------------------------------------------------------- create


def test_create_sends_the_shipment_with_bearer_token_and_idempotency_key(gateway: Gateway) -> None:
    shipment = carrier(gateway).create_shipment(shipment_request())

    (request,) = gateway.received
    assert (request.method, request.path) == ("POST", "/api/shipments")
    assert request.headers["Authorization"] == f"Bearer {API_KEY}"
    assert request.headers["Idempotency-Key"] == "PKG-000777"
    body = request.json()
    assert body["idempotency_key"] == "PKG-000777"
    assert body["package_number"] == "PKG-000777"
    assert body["order_number"] == "WEB-1009"
    assert body["boxes"] == 2
    assert body["weight_kg"] == 3.25
    assert body["cargo_company_code"] == "ARAS"
    assert body["recipient"]["name"] == "Gökçe Ünlü"
    assert body["recipient"]["city"] == "İzmir"
    assert body["sender"]["district"] == "Osmangazi"
    assert shipment.tracking_number == "GW00000001"
    assert shipment.tracking_url == "https://carrier.example.invalid/t/GW00000001"
    assert shipment.carrier_reference == "ref-GW00000001"
    assert shipment.label_pdf == GATEWAY_PDF
    assert shipment.label_zpl == GATEWAY_ZPL


def test_a_retried_create_gets_the_shipment_the_gateway_already_made(gateway: Gateway) -> None:
    first = carrier(gateway).create_shipment(shipment_request("PKG-1"))
    retried = carrier(gateway).create_shipment(shipment_request("PKG-1"))
    other = carrier(gateway).create_shipment(shipment_request("PKG-2"))

    assert retried.tracking_number == first.tracking_number
    assert other.tracking_number != first.tracking_number
    assert len(gateway.by_key) == 2


def test_without_a_label_in_the_answer_our_own_label_is_rendered(gateway: Gateway) -> None:
    gateway.script("POST", "/api/shipments", Answer(200, {"tracking_number": "AR123456789"}))

    shipment = carrier(
        gateway, tracking_url_template="https://aras.example.invalid/?q={tracking_number}"
    ).create_shipment(shipment_request())

    reader = PdfReader(io.BytesIO(shipment.label_pdf))
    assert len(reader.pages) == 2  # one per box
    assert "AR123456789" in reader.pages[0].extract_text()
    assert "Gökçe Ünlü" in reader.pages[0].extract_text()
    assert shipment.label_zpl.startswith("^XA") and "^FDAR123456789^FS" in shipment.label_zpl
    assert shipment.tracking_url == "https://aras.example.invalid/?q=AR123456789"
    assert shipment.carrier_reference == ""


def test_a_tracking_url_that_is_not_http_is_dropped(gateway: Gateway) -> None:
    answer = {"tracking_number": "AR1", "tracking_url": "javascript:alert(1)"}
    gateway.script("POST", "/api/shipments", Answer(200, answer))

    assert carrier(gateway).create_shipment(shipment_request()).tracking_url == ""


def test_an_idempotency_key_that_is_not_ascii_is_still_sent_as_a_stable_header(gateway: Gateway) -> None:
    first = carrier(gateway).create_shipment(shipment_request("Paket-Çiçek/1"))
    retried = carrier(gateway).create_shipment(shipment_request("Paket-Çiçek/1"))

    assert gateway.received[0].headers["Idempotency-Key"] == "Paket-%C3%87i%C3%A7ek%2F1"
    assert gateway.received[0].json()["idempotency_key"] == "Paket-Çiçek/1"
    assert retried.tracking_number == first.tracking_number


# ------------------------------------------------------------------------- bad answers


def test_a_timeout_is_transient(gateway: Gateway) -> None:
    gateway.script("POST", "/api/shipments", Answer(200, {"tracking_number": "X1"}, delay=5))
    started = time.monotonic()

    error = carrier_error(carrier(gateway, timeout_seconds=0.3).create_shipment, shipment_request())

    assert error.transient is True
    assert "timed out after 0.3 s" in error.message
    assert time.monotonic() - started < 3


@pytest.mark.parametrize("status", [500, 502, 503])
def test_a_server_error_is_transient(gateway: Gateway, status: int) -> None:
    gateway.script("POST", "/api/shipments", Answer(status, b"<html>Bad Gateway</html>", "text/html"))

    error = carrier_error(carrier(gateway).create_shipment, shipment_request())

    assert error.transient is True
    assert f"answered {status}" in error.message


def test_an_unreachable_gateway_is_transient() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    adapter = get_adapter("http", {"base_url": f"http://127.0.0.1:{port}", "api_key": API_KEY})

    error = carrier_error(adapter.create_shipment, shipment_request())

    assert error.transient is True
    assert "unreachable" in error.message


def test_a_client_error_is_permanent_and_carries_the_gateway_message(gateway: Gateway) -> None:
    answer = Answer(422, {"message": "recipient postcode 35040X is invalid"})
    gateway.script("POST", "/api/shipments", answer)

    error = carrier_error(carrier(gateway).create_shipment, shipment_request())

    assert error.transient is False
    assert error.message == ("carrier gateway answered 422 to POST /shipments: recipient postcode 35040X is invalid")


def test_a_wrong_api_key_is_permanent(gateway: Gateway) -> None:
    error = carrier_error(carrier(gateway, api_key="wrong").create_shipment, shipment_request())

    assert error.transient is False
    assert "401" in error.message and "invalid API key" in error.message


def test_rate_limiting_is_transient(gateway: Gateway) -> None:
    gateway.script("POST", "/api/shipments", Answer(429, {"error": {"message": "slow down"}}))

    error = carrier_error(carrier(gateway).create_shipment, shipment_request())

    assert error.transient is True
    assert "slow down" in error.message


def test_a_huge_error_page_is_cut_to_a_short_message(gateway: Gateway) -> None:
    gateway.script("POST", "/api/shipments", Answer(400, b"x" * 2_000_000, "text/plain"))

    error = carrier_error(carrier(gateway).create_shipment, shipment_request())

    assert error.transient is False
    assert error.message.startswith("carrier gateway answered 400 to POST /shipments: xxx")


def test_an_answer_over_10_mb_is_refused_as_permanent(gateway: Gateway) -> None:
    gateway.script("GET", "/api/shipments/GW9/label", Answer(200, b"%PDF-" + b"x" * (10 * 1024 * 1024)))

    error = carrier_error(carrier(gateway).fetch_label, "GW9", shipment_request())

    assert error.transient is False
    assert error.message == "carrier gateway answer to GET /shipments/GW9/label is larger than 10 MB"


def test_proxies_from_the_environment_are_ignored(gateway: Gateway, monkeypatch: pytest.MonkeyPatch) -> None:
    proxies_lead_nowhere(monkeypatch)

    shipment = carrier(gateway).create_shipment(shipment_request())

    assert shipment.tracking_number == "GW00000001"


def test_garbage_instead_of_json_is_a_clear_error(gateway: Gateway) -> None:
    gateway.script("POST", "/api/shipments", Answer(200, b"<html>Welcome to nginx!</html>"))

    error = carrier_error(carrier(gateway).create_shipment, shipment_request())

    assert error.transient is False
    assert error.message.startswith("carrier answered with something that is not JSON")


def test_json_that_is_not_an_object_is_a_clear_error(gateway: Gateway) -> None:
    gateway.script("POST", "/api/shipments", Answer(200, ["GW1"]))

    error = carrier_error(carrier(gateway).create_shipment, shipment_request())

    assert error.message == "carrier answered with JSON that is not an object"


@pytest.mark.parametrize("answer", [{}, {"tracking_number": ""}, {"tracking_number": None}])
def test_an_answer_without_tracking_number_is_a_clear_error(gateway: Gateway, answer: dict) -> None:
    gateway.script("POST", "/api/shipments", Answer(200, answer))

    error = carrier_error(carrier(gateway).create_shipment, shipment_request())

    assert error.transient is False
    assert error.message == "carrier answered without a tracking number"


def test_an_unusable_tracking_number_is_refused(gateway: Gateway) -> None:
    gateway.script("POST", "/api/shipments", Answer(200, {"tracking_number": "GW 1^XZ"}))

    error = carrier_error(carrier(gateway).create_shipment, shipment_request())

    assert error.message.startswith("carrier answered with an unusable tracking number")


def test_a_label_that_is_not_base64_is_a_clear_error(gateway: Gateway) -> None:
    answer = {"tracking_number": "GW1", "label_pdf_base64": "%%% not base64 %%%"}
    gateway.script("POST", "/api/shipments", Answer(200, answer))

    error = carrier_error(carrier(gateway).create_shipment, shipment_request())

    assert error.transient is False
    assert error.message == "carrier answered with a label that is not valid base64"


def test_a_label_that_is_not_a_pdf_is_a_clear_error(gateway: Gateway) -> None:
    answer = {"tracking_number": "GW1", "label_pdf_base64": base64.b64encode(b"GIF89a").decode()}
    gateway.script("POST", "/api/shipments", Answer(200, answer))

    error = carrier_error(carrier(gateway).create_shipment, shipment_request())

    assert error.message == "carrier answered with a label that is not a PDF"


def test_a_redirect_is_not_followed(gateway: Gateway) -> None:
    moved = Answer(302, b"", headers={"Location": "https://elsewhere.example.invalid/"})
    gateway.script("POST", "/api/shipments", moved)

    error = carrier_error(carrier(gateway).create_shipment, shipment_request())

    assert error.transient is False
    assert "redirected" in error.message
    assert len(gateway.received) == 1


@pytest.mark.parametrize(
    "config",
    [
        {},
        {"base_url": "ftp://gateway"},
        {"base_url": "http://gw", "timeout_seconds": "0"},
        {"base_url": "http://gw", "api_key": "anahtar-ğüş"},
        {"base_url": "http://gw", "api_key": "key\nX-Injected: 1"},
    ],
)
def test_a_bad_configuration_is_a_permanent_error(config: dict) -> None:
    error = carrier_error(get_adapter, "http", config)

    assert error.transient is False
    assert error.message.startswith("http carrier:")


# ---------------------------------------------------------------- labels, status, cancel


def test_fetch_label_takes_a_raw_pdf_and_renders_the_zpl_itself(gateway: Gateway) -> None:
    adapter = carrier(gateway)
    tracking = adapter.create_shipment(shipment_request()).tracking_number

    pdf, zpl = adapter.fetch_label(tracking, shipment_request())

    assert gateway.received[-1].path == f"/api/shipments/{tracking}/label"
    assert pdf == GATEWAY_PDF
    assert zpl.startswith("^XA") and f"^FD{tracking}^FS" in zpl


def test_fetch_label_takes_json_label_fields(gateway: Gateway) -> None:
    label = {"label_pdf_base64": base64.b64encode(GATEWAY_PDF).decode(), "label_zpl": GATEWAY_ZPL}
    gateway.script("GET", "/api/shipments/GW9/label", Answer(200, label))

    assert carrier(gateway).fetch_label("GW9", shipment_request()) == (GATEWAY_PDF, GATEWAY_ZPL)


@pytest.mark.parametrize(("theirs", "ours"), sorted(STATUS_MAP.items()))
def test_gateway_statuses_map_to_ours(gateway: Gateway, theirs: str, ours: str) -> None:
    adapter = carrier(gateway)
    tracking = adapter.create_shipment(shipment_request()).tracking_number
    gateway.statuses[tracking] = theirs

    status = adapter.query_status(tracking, NOW, NOW)

    assert (status.status, status.raw) == (ours, theirs)
    assert gateway.received[-1].path == f"/api/shipments/{tracking}"


def test_the_status_mapping_covers_the_documented_statuses() -> None:
    assert STATUS_MAP["created"] == STATUS_MAP["picked_up"] == STATUS_MAP["in_transit"]
    assert STATUS_MAP["in_transit"] == "in_transit"
    assert STATUS_MAP["delivery_attempted"] == "attempted_delivery"
    assert STATUS_MAP["returned"] == STATUS_MAP["failed"] == "delivery_failed"
    assert STATUS_MAP["delivered"] == "delivered"
    assert STATUS_MAP["cancelled"] == "cancelled"


def test_an_unknown_status_changes_nothing_but_keeps_the_carrier_text(gateway: Gateway) -> None:
    gateway.script("GET", "/api/shipments/GW5", Answer(200, {"status": "Held at customs"}))

    status = carrier(gateway).query_status("GW5", NOW, NOW)

    assert (status.status, status.raw) == (None, "Held at customs")


def test_a_status_answer_without_status_is_a_clear_error(gateway: Gateway) -> None:
    gateway.script("GET", "/api/shipments/GW5", Answer(200, {"state": "delivered"}))

    error = carrier_error(carrier(gateway).query_status, "GW5", NOW, NOW)

    assert error.message == "carrier answered without a status"


def test_an_unknown_shipment_is_a_permanent_error(gateway: Gateway) -> None:
    error = carrier_error(carrier(gateway).query_status, "GW404", NOW, NOW)

    assert error.transient is False
    assert "404" in error.message and "no such shipment" in error.message


def test_cancel_posts_to_the_gateway(gateway: Gateway) -> None:
    adapter = carrier(gateway)
    tracking = adapter.create_shipment(shipment_request()).tracking_number

    adapter.cancel(tracking)

    assert (gateway.received[-1].method, gateway.received[-1].path) == (
        "POST",
        f"/api/shipments/{tracking}/cancel",
    )
    assert adapter.query_status(tracking, NOW, NOW).status == "cancelled"


def test_a_refused_cancel_is_permanent_with_the_gateway_reason(gateway: Gateway) -> None:
    refusal = Answer(409, {"error": {"message": "parcel already delivered"}})
    gateway.script("POST", "/api/shipments/GW7/cancel", refusal)

    error = carrier_error(carrier(gateway).cancel, "GW7")

    assert error.transient is False
    assert error.message.endswith("parcel already delivered")
