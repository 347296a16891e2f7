"""Package commands from packing to the customer: packing, shipments, shipping, delivery, invoices."""

from __future__ import annotations

import base64

import pytest
from rq import Queue
from sqlalchemy import select

from app.extensions import db
from app.models import Invoice, OutboxEvent, Package, Reservation, TransitionLog
from app.queues import redis_connection
from app.services.errors import Conflict, ValidationFailed
from app.services.packages import run_package_command
from app.services.representations import package_dict
from app.services.settings import put_setting
from app.services.transitions import allowed_package_commands
from tests import factories
from tests.services.builders import (
    get_channel,
    ledger_sums,
    make_package,
    row_counts,
    staff,
    stock_of,
)


def carrier_job_ids() -> list[str]:
    return Queue("carriers", connection=redis_connection()).job_ids


def event_types(package: Package) -> list[str]:
    return list(db.session.scalars(select(OutboxEvent.type).where(
        OutboxEvent.aggregate_type.in_(("package", "shipment")),
        OutboxEvent.aggregate_id.in_((package.id, package.shipment.id if package.shipment else -1)))
        .order_by(OutboxEvent.id)))


# --- packing --------------------------------------------------------------------------------

def test_complete_packing_consumes_stock_creates_a_pending_shipment_and_asks_the_carrier(app):
    package = make_package("preparing", items=[("SKU-A", 2)], spare=3)
    assert stock_of(package.location, "SKU-A") == (5, 2)
    result = run_package_command(package.id, "complete_packing", {"boxes": 2, "weight_kg": 1.5},
                                 staff(package.location))
    assert result.state == "waiting_cargo_label"
    assert stock_of(package.location, "SKU-A") == (3, 0)
    assert ledger_sums(package.location, "SKU-A") == (3, 0)
    assert db.session.scalar(select(Reservation)) is None
    shipment = result.shipment
    assert (shipment.status, shipment.boxes, float(shipment.weight_kg)) == ("pending", 2, 1.5)
    assert shipment.cargo_company.code == "demo"
    assert [i.state for i in result.items] == ["packed"]
    assert carrier_job_ids() == [f"label-{shipment.id}-{shipment.version}"]
    types = event_types(result)
    assert "shipment.created" in types and "package.state_changed" in types


@pytest.mark.parametrize("params", [{"boxes": 0}, {"weight_kg": 0}, {"weight_kg": -1}, {"cargo_company": "nope"}])
def test_complete_packing_with_bad_params_is_422_and_changes_nothing(app, params):
    package = make_package("preparing", items=[("SKU-A", 2)])
    before, stock_before = row_counts(), stock_of(package.location, "SKU-A")
    with pytest.raises(ValidationFailed):
        run_package_command(package.id, "complete_packing", params, staff(package.location))
    assert row_counts() == before
    assert stock_of(package.location, "SKU-A") == stock_before
    assert carrier_job_ids() == []


def test_complete_packing_needs_every_scan_when_scanning_is_required(app):
    put_setting("REQUIRE_SCAN_TO_PACK", True)
    waiting = make_package("waiting")
    with pytest.raises(Conflict) as exc:
        run_package_command(waiting.id, "complete_packing", {}, staff(waiting.location))
    assert "Scanning is required" in exc.value.message
    preparing = make_package("preparing", items=[("SKU-A", 2)])
    barcode = preparing.items[0].product.barcode_values[0]
    run_package_command(preparing.id, "pick", {"barcode": barcode}, staff(preparing.location))
    with pytest.raises(Conflict):
        run_package_command(preparing.id, "complete_packing", {}, staff(preparing.location))
    run_package_command(preparing.id, "pick", {"barcode": barcode}, staff(preparing.location))
    assert run_package_command(preparing.id, "complete_packing", {}, staff(preparing.location)).state == \
        "waiting_cargo_label"


def packing_log(package: Package) -> dict:
    return db.session.scalar(select(TransitionLog.params).where(
        TransitionLog.entity_type == "package", TransitionLog.entity_id == package.id,
        TransitionLog.command.like("complete_packing%")))


def test_packing_records_how_many_units_were_not_scanned(app):
    partly = make_package("preparing", items=[("SKU-A", 3)])
    barcode = partly.items[0].product.barcode_values[0]
    run_package_command(partly.id, "pick", {"barcode": barcode}, staff(partly.location))
    run_package_command(partly.id, "complete_packing", {"boxes": 2}, staff(partly.location))
    assert packing_log(partly) == {"boxes": 2, "unscanned": 2}

    unscanned = make_package("waiting", items=[("SKU-A", 1), ("SKU-B", 2)])
    run_package_command(unscanned.id, "complete_packing_without_shipment", {}, staff(unscanned.location))
    assert packing_log(unscanned) == {"unscanned": 3}

    channel = make_package("preparing", channel=get_channel("mp", provides_shipping_label=True))
    params = {"tracking_number": "MP-1", "label_url": "https://mp.example.com/1.pdf"}
    run_package_command(channel.id, "complete_packing_channel", params, staff(channel.location))
    assert packing_log(channel) == {**params, "unscanned": 1}

    scanned = make_package("preparing", items=[("SKU-A", 1)])
    run_package_command(scanned.id, "pick", {"barcode": barcode}, staff(scanned.location))
    run_package_command(scanned.id, "complete_packing", {}, staff(scanned.location))
    assert packing_log(scanned) == {"boxes": 1}  # nothing to note


def test_complete_packing_is_refused_when_the_channel_prints_the_label(app):
    package = make_package("preparing", channel=get_channel("mp", provides_shipping_label=True))
    with pytest.raises(Conflict) as exc:
        run_package_command(package.id, "complete_packing", {}, staff(package.location))
    assert "complete_packing_channel" in exc.value.message


def test_complete_packing_without_shipment_packs_without_a_shipment(app):
    package = make_package("waiting", items=[("SKU-A", 1)], spare=0)
    result = run_package_command(package.id, "complete_packing_without_shipment", {}, staff(package.location))
    assert (result.state, result.shipment) == ("packed", None)
    assert stock_of(package.location, "SKU-A") == (0, 0)


def test_complete_packing_channel_stores_the_channel_label(app):
    package = make_package("preparing", channel=get_channel("mp", provides_shipping_label=True))
    params = {"tracking_number": "MP-123", "label_url": "https://mp.example.com/labels/123.pdf"}
    result = run_package_command(package.id, "complete_packing_channel", params, staff(package.location))
    assert result.state == "packed"
    assert (result.shipment.status, result.shipment.tracking_number, result.shipment.label_url) == (
        "label_ready", "MP-123", "https://mp.example.com/labels/123.pdf")
    assert "shipment.label_ready" in event_types(result)
    with pytest.raises(ValidationFailed):
        other = make_package("preparing", channel=get_channel("mp"))
        run_package_command(other.id, "complete_packing_channel", {"tracking_number": "X", "label_url": "ftp://x"},
                            staff(other.location))


# --- shipments ------------------------------------------------------------------------------

def test_create_shipment_for_a_packed_package_asks_for_a_label(app):
    package = make_package("packed", with_shipment=False)
    factories.cargo_company("fast", name="Fast Cargo")
    db.session.commit()
    result = run_package_command(package.id, "create_shipment", {"cargo_company": "fast"}, staff(package.location))
    assert result.state == "waiting_cargo_label"
    assert (result.shipment.status, result.shipment.cargo_company.code) == ("pending", "fast")
    assert carrier_job_ids() == [f"label-{result.shipment.id}-1"]


def test_create_shipment_with_an_unknown_cargo_company_is_422(app):
    package = make_package("packed", with_shipment=False)
    before = row_counts()
    with pytest.raises(ValidationFailed) as exc:
        run_package_command(package.id, "create_shipment", {"cargo_company": "nope"}, staff(package.location))
    assert "cargo_company" in exc.value.details
    assert row_counts() == before


def test_refresh_label_queues_a_new_label_job(app):
    package = make_package("packed")
    shipment_id = package.shipment.id
    result = run_package_command(package.id, "refresh_label", {}, staff(package.location))
    assert result.shipment.status == "pending"
    assert carrier_job_ids() == [f"label-{shipment_id}-2"]


def test_update_shipment_info_changes_the_details_and_regenerates_the_label(app):
    package = make_package("shipped")
    params = {"tracking_number": "NEW-1", "tracking_url": "https://track.example.com/NEW-1"}
    result = run_package_command(package.id, "update_shipment_info", params, staff(package.location))
    assert (result.shipment.tracking_number, result.shipment.tracking_url) == ("NEW-1",
                                                                               "https://track.example.com/NEW-1")
    assert result.state == "shipped"
    assert len(carrier_job_ids()) == 1


# --- shipping -------------------------------------------------------------------------------

def test_ship_hands_the_parcel_to_the_carrier(app):
    package = make_package("packed")
    result = run_package_command(package.id, "ship", {}, staff(package.location))
    assert result.state == "shipped"
    assert result.shipment.status == "in_transit"
    assert result.shipment.shipped_at is not None
    types = event_types(result)
    assert "package.shipped" in types and "shipment.status_changed" in types
    assert result.order.status == "shipped"


def test_ship_waits_for_the_label(app):
    package = make_package("packed")
    package.shipment.status = "pending"
    db.session.commit()
    with pytest.raises(Conflict) as exc:
        run_package_command(package.id, "ship", {}, staff(package.location))
    assert "label" in exc.value.message


def test_ship_without_a_shipment_is_not_allowed(app):
    package = make_package("packed", with_shipment=False)
    with pytest.raises(Conflict) as exc:
        run_package_command(package.id, "ship", {}, staff(package.location))
    assert "ship" not in exc.value.details["allowed_commands"]


def test_click_and_collect_packages_are_not_shipped(app):
    package = make_package("packed", delivery_type="click_and_collect")
    with pytest.raises(Conflict):
        run_package_command(package.id, "ship_advanced", {"cargo_company": "demo"}, staff(package.location))


def test_ship_advanced_creates_the_shipment_record(app):
    package = make_package("packed", with_shipment=False)
    params = {"cargo_company": "demo", "tracking_number": "ADV-1", "boxes": 3, "weight_kg": "2.5"}
    result = run_package_command(package.id, "ship_advanced", params, staff(package.location))
    assert result.state == "shipped"
    s = result.shipment
    assert (s.status, s.tracking_number, s.boxes, float(s.weight_kg)) == ("in_transit", "ADV-1", 3, 2.5)
    assert carrier_job_ids() == []


def test_ship_without_integration_updates_an_existing_shipment(app):
    package = make_package("packed")
    shipment_id = package.shipment.id
    params = {"cargo_company": "demo", "tracking_number": "MAN-7", "tracking_url": "https://t.example.com/7"}
    result = run_package_command(package.id, "ship_without_integration", params, staff(package.location))
    assert result.shipment.id == shipment_id
    assert (result.shipment.status, result.shipment.tracking_number) == ("in_transit", "MAN-7")


@pytest.mark.parametrize("command", ["ship_advanced", "ship_without_integration"])
def test_manual_shipping_with_an_unknown_cargo_company_is_422(app, command):
    package = make_package("packed")
    before = row_counts()
    with pytest.raises(ValidationFailed) as exc:
        run_package_command(package.id, command, {"cargo_company": "ghost", "tracking_number": "1"},
                            staff(package.location))
    assert "cargo_company" in exc.value.details
    assert row_counts() == before


@pytest.mark.parametrize("status", ["attempted_delivery", "delivery_failed", "delivered"])
def test_update_shipment_status_moves_package_and_shipment(app, status):
    package = make_package("shipped")
    result = run_package_command(package.id, "update_shipment_status", {"status": status}, staff(package.location))
    assert (result.state, result.shipment.status) == (status, status)
    assert ("package.delivered" in event_types(result)) == (status == "delivered")


def test_update_shipment_status_rejects_unknown_statuses(app):
    package = make_package("shipped")
    with pytest.raises(ValidationFailed):
        run_package_command(package.id, "update_shipment_status", {"status": "lost"}, staff(package.location))


# --- click & collect ------------------------------------------------------------------------

def test_pickup_without_otp(app):
    package = make_package("packed", delivery_type="click_and_collect")
    result = run_package_command(package.id, "ready_for_pickup", {}, staff(package.location))
    assert (result.state, result.otp_code) == ("ready_for_pickup", None)
    assert run_package_command(package.id, "deliver_to_customer", {}, staff(package.location)).state == "delivered"


def test_ready_for_pickup_is_only_for_click_and_collect(app):
    package = make_package("packed")
    with pytest.raises(Conflict):
        run_package_command(package.id, "ready_for_pickup", {}, staff(package.location))


def test_otp_is_sent_by_the_event_only_and_checked_at_handover(app):
    put_setting("IS_OTP_ENABLED", True)
    package = make_package("packed", delivery_type="click_and_collect")
    result = run_package_command(package.id, "ready_for_pickup", {}, staff(package.location))
    otp = result.otp_code
    assert otp and len(otp) == 6 and otp.isdigit()
    event = db.session.scalars(select(OutboxEvent).where(OutboxEvent.type == "package.state_changed",
                                                         OutboxEvent.aggregate_id == package.id)
                               .order_by(OutboxEvent.id.desc())).first()
    assert event.data["otp"] == otp
    assert "otp" not in package_dict(result) and otp not in str(package_dict(result))

    before = row_counts()
    for wrong in ({}, {"otp": "000000" if otp != "000000" else "111111"}):
        with pytest.raises(ValidationFailed) as exc:
            run_package_command(package.id, "deliver_to_customer", wrong, staff(package.location))
        assert "otp" in exc.value.details
    # Nothing changed but the count of wrong codes (docs/security.md, "Pickup codes").
    assert row_counts() == {**before, "pickup_code_failures": before["pickup_code_failures"] + 2}
    db.session.expire_all()
    assert db.session.get(Package, package.id).state == "ready_for_pickup"
    result = run_package_command(package.id, "deliver_to_customer", {"otp": otp}, staff(package.location))
    assert (result.state, result.otp_code) == ("delivered", None)
    assert result.order.status == "delivered"
    log_params = [e.data for e in db.session.scalars(select(OutboxEvent).where(
        OutboxEvent.type == "package.delivered", OutboxEvent.aggregate_id == package.id))]
    assert log_params and all("otp" not in d for d in log_params)


# --- invoices -------------------------------------------------------------------------------

def test_update_invoice_with_a_url_then_a_document(app):
    package = make_package("packed")
    params = {"number": "INV-1", "date": "2026-11-20", "url": "https://inv.example.com/1.pdf"}
    run_package_command(package.id, "update_invoice", params, staff(package.location))
    document = base64.b64encode(b"%PDF-1.4 invoice").decode()
    run_package_command(package.id, "update_invoice", {"number": "INV-2", "date": "2026-11-21",
                                                       "document_base64": document}, staff(package.location))
    invoices = db.session.scalars(select(Invoice).where(Invoice.package_id == package.id)).all()
    assert len(invoices) == 1
    invoice = invoices[0]
    assert (invoice.number, invoice.date.isoformat(), invoice.url) == ("INV-2", "2026-11-21",
                                                                       "https://inv.example.com/1.pdf")
    assert (invoice.document, invoice.content_type) == (b"%PDF-1.4 invoice", "application/pdf")


@pytest.mark.parametrize(("params", "field"), [
    ({"number": "I", "date": "2026-11-20"}, "__root__"),
    ({"number": "I", "date": "20/11/2026", "url": "https://x.example.com"}, "date"),
    ({"number": "I", "date": "2026-11-20", "document_base64": "not base64!"}, "document_base64"),
    ({"number": "I", "date": "2026-11-20", "document_base64": "A" * (14 * 1024 * 1024)}, "document_base64"),
    ({"date": "2026-11-20", "url": "https://x.example.com"}, "number"),
])
def test_update_invoice_with_bad_input_is_422_and_changes_nothing(app, params, field):
    package = make_package("shipped")
    before = row_counts()
    with pytest.raises(ValidationFailed) as exc:
        run_package_command(package.id, "update_invoice", params, staff(package.location))
    assert field in exc.value.details
    assert row_counts() == before


def test_click_and_collect_packages_are_packed_without_a_carrier_shipment(app):
    package = make_package("preparing", delivery_type="click_and_collect")
    actor = staff(package.location)
    with pytest.raises(Conflict) as exc:
        run_package_command(package.id, "complete_packing", {}, actor)
    assert "complete_packing_without_shipment" in exc.value.details["allowed_commands"]
    packed = run_package_command(package.id, "complete_packing_without_shipment", {}, actor)
    assert packed.state == "packed" and packed.shipment is None
    assert "create_shipment" not in allowed_package_commands(packed)
    assert "ready_for_pickup" in allowed_package_commands(packed)


def test_ship_right_after_the_label_lands_sees_the_new_label(app):
    """The label job locks the package (not the order) and marks label and package ready; a `ship`
    that arrives while it commits waits for the package lock and must then see the fresh shipment,
    not the one from before its wait."""
    import threading
    import time

    from sqlalchemy import text

    package = make_package("waiting_cargo_label")
    package_id, shipment_id, actor = package.id, package.shipment.id, staff(package.location)
    assert package.shipment.status == "pending"
    db.session.commit()
    holding, engine = threading.Event(), db.engine

    def label_lands() -> None:  # another process's transaction, on its own connection
        with engine.connect() as conn:
            conn.execute(text("UPDATE packages SET state = 'packed' WHERE id = :p"), {"p": package_id})
            conn.execute(text("UPDATE shipments SET status = 'label_ready', tracking_number = 'TRK-9' "
                              "WHERE id = :s"), {"s": shipment_id})
            holding.set()
            time.sleep(1.0)  # the ship command arrives now and waits for this commit
            conn.commit()

    writer = threading.Thread(target=label_lands)
    writer.start()
    try:
        assert holding.wait(10)
        result = run_package_command(package_id, "ship", {}, actor)
    finally:
        writer.join()
    assert result.state == "shipped"
    assert result.shipment.status == "in_transit"
    assert result.shipment.tracking_number == "TRK-9"
