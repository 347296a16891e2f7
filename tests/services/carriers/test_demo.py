"""The demo carrier: idempotent tracking numbers, real labels, parcels delivered by the clock."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from pypdf import PdfReader

from app.services.carriers import CarrierError, get_adapter
from app.services.carriers.base import Address, ShipmentRequest
from app.services.carriers.demo import DemoCarrier

SHIPPED_AT = datetime(2026, 3, 2, 9, 30)


def shipment_request(key: str = "PKG-000123", boxes: int = 2) -> ShipmentRequest:
    return ShipmentRequest(
        package_number=key,
        order_number="HB-5521",
        boxes=boxes,
        weight_kg=Decimal("1.2"),
        cargo_company_code="DEMO",
        sender=Address("Ankara Depo", "Organize Sanayi 3. Cad.", "Ankara", "Sincan", "06935"),
        recipient=Address("Şükrü Işık", "Gül Sok. 9", "Eskişehir", "Odunpazarı", "26010"),
        idempotency_key=key,
    )


def test_a_retried_create_gets_the_same_tracking_number() -> None:
    carrier = get_adapter("demo", {})

    first = carrier.create_shipment(shipment_request("PKG-000123"))
    retried = get_adapter("demo", {}).create_shipment(shipment_request("PKG-000123"))

    assert retried.tracking_number == first.tracking_number
    assert retried.label_pdf == first.label_pdf


def test_every_package_gets_its_own_tracking_number() -> None:
    carrier = get_adapter("demo", {})

    numbers = {carrier.create_shipment(shipment_request(f"PKG-{n:06d}", boxes=1)).tracking_number for n in range(50)}

    assert len(numbers) == 50
    assert all(re.fullmatch(r"PKL\d{16}", number) for number in numbers)


def test_create_returns_tracking_url_and_real_labels() -> None:
    shipment = get_adapter("demo", {}).create_shipment(shipment_request(boxes=2))

    assert shipment.tracking_url == f"https://track.example.invalid/{shipment.tracking_number}"
    assert shipment.carrier_reference == "demo:PKG-000123"
    reader = PdfReader(io.BytesIO(shipment.label_pdf))
    assert len(reader.pages) == 2
    assert shipment.tracking_number in reader.pages[0].extract_text()
    assert "Şükrü Işık" in reader.pages[0].extract_text()
    assert shipment.label_zpl.startswith("^XA") and shipment.label_zpl.endswith("^XZ")
    assert f"^FD{shipment.tracking_number}^FS" in shipment.label_zpl


def test_fetch_label_renders_the_same_label_again() -> None:
    carrier = get_adapter("demo", {})
    req = shipment_request()
    shipment = carrier.create_shipment(req)

    assert carrier.fetch_label(shipment.tracking_number, req) == (
        shipment.label_pdf,
        shipment.label_zpl,
    )


def test_parcel_is_in_transit_once_shipped_and_delivered_after_the_configured_time() -> None:
    carrier = get_adapter("demo", {"deliver_after_minutes": 30})

    def status(after: timedelta) -> str | None:
        return carrier.query_status("PKL1", SHIPPED_AT, SHIPPED_AT + after).status

    assert status(timedelta(0)) == "in_transit"
    assert status(timedelta(minutes=29, seconds=59)) == "in_transit"
    assert status(timedelta(minutes=30)) == "delivered"
    assert status(timedelta(days=3)) == "delivered"


def test_delivery_takes_an_hour_by_default() -> None:
    carrier = DemoCarrier({})

    assert carrier.query_status("PKL1", SHIPPED_AT, SHIPPED_AT + timedelta(minutes=59)).status == ("in_transit")
    assert carrier.query_status("PKL1", SHIPPED_AT, SHIPPED_AT + timedelta(hours=1)).status == ("delivered")


def test_naive_times_are_read_as_utc_next_to_aware_ones() -> None:
    carrier = DemoCarrier({"deliver_after_minutes": "45"})
    now = SHIPPED_AT.replace(tzinfo=UTC) + timedelta(minutes=45)

    assert carrier.query_status("PKL1", SHIPPED_AT, now).status == "delivered"


@pytest.mark.parametrize("minutes", [-1, "soon", None, float("nan")])
def test_a_bad_delivery_delay_is_a_permanent_configuration_error(minutes: object) -> None:
    with pytest.raises(CarrierError, match="deliver_after_minutes") as error:
        get_adapter("demo", {"deliver_after_minutes": minutes})

    assert error.value.transient is False


def test_an_unknown_adapter_is_a_permanent_error_that_names_the_known_ones() -> None:
    with pytest.raises(CarrierError, match="'pigeon'.*demo, http") as error:
        get_adapter("pigeon", {})

    assert error.value.transient is False
