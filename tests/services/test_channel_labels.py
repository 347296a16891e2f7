"""Marketplace labels (channels that print their own): the scanned tracking number is enough, the
label URL is optional, nothing scanned is refused in plain words, and the hook for channel
connectors that fetch labels (issue 16) opens a pending shipment and queues the connector's task."""

from __future__ import annotations

import pytest
from rq import Queue, SimpleWorker
from sqlalchemy import select

from app.extensions import db
from app.models import Shipment
from app.queues import redis_connection
from app.services.errors import ValidationFailed
from app.services.lifecycle import set_shipment_status
from app.services.package_commands import channel_labels
from app.services.packages import run_package_command
from tests.services.builders import get_channel, make_package, row_counts, staff


def marketplace_package():
    return make_package("preparing", channel=get_channel("mp", provides_shipping_label=True))


def test_the_scanned_tracking_number_packs_without_a_label_url(app):
    package = marketplace_package()
    result = run_package_command(package.id, "complete_packing_channel", {"tracking_number": "TY12345"},
                                 staff(package.location))
    assert result.state == "packed"
    assert (result.shipment.status, result.shipment.tracking_number, result.shipment.label_url) == (
        "label_ready", "TY12345", None)


def test_nothing_scanned_is_refused_in_plain_words_and_changes_nothing(app):
    package = marketplace_package()
    before = row_counts()
    with pytest.raises(ValidationFailed) as exc:
        run_package_command(package.id, "complete_packing_channel", {}, staff(package.location))
    assert exc.value.details == {"tracking_number": channel_labels.SCAN_THE_LABEL}
    db.session.rollback()
    assert row_counts() == before


def fetch_label_for_test(shipment_id: int) -> None:
    """What a connector's label task does (a stand-in until issue 16's connectors exist)."""
    shipment = db.session.get(Shipment, shipment_id)
    shipment.label_pdf = b"%PDF-1.4 marketplace label"
    shipment.tracking_number = "TY-FETCHED"
    set_shipment_status(shipment, "label_ready", "fetch_channel_label", "system:test")
    db.session.commit()


def test_a_connector_that_fetches_labels_packs_with_nothing_typed(app, monkeypatch):
    # The hook the connectors fill in (app.services.channels.label_task); the task runs in a real worker.
    monkeypatch.setattr(channel_labels, "label_task",
                        lambda channel: f"{__name__}.fetch_label_for_test" if channel.code == "mp" else None)
    package = marketplace_package()
    result = run_package_command(package.id, "complete_packing_channel", {}, staff(package.location))
    assert (result.state, result.shipment.status, result.shipment.tracking_number) == ("packed", "pending", None)
    connection = redis_connection()
    queue = Queue("carriers", connection=connection)
    assert f"channel-label-{result.shipment.id}-{result.shipment.version}" in queue.job_ids
    db.session.rollback()
    SimpleWorker([queue], connection=connection).work(burst=True)
    db.session.rollback()
    shipment = db.session.scalar(select(Shipment).where(Shipment.package_id == package.id))
    assert (shipment.status, shipment.tracking_number, shipment.label_pdf[:4]) == ("label_ready", "TY-FETCHED", b"%PDF")


def test_a_channel_without_a_label_fetching_connector_falls_back_to_the_scan(app):
    assert channel_labels.label_task(get_channel("mp", provides_shipping_label=True)) is None


def test_asking_again_for_a_label_the_channel_cannot_fetch_is_refused_and_changes_nothing(app):
    # The carrier must never label a marketplace's parcel; staff print it from the seller panel instead.
    package = marketplace_package()
    run_package_command(package.id, "complete_packing_channel", {"tracking_number": "TY12345"}, staff(package.location))
    before = row_counts()
    with pytest.raises(ValidationFailed) as exc:
        run_package_command(package.id, "refresh_label", {}, staff(package.location))
    assert exc.value.message == channel_labels.NO_LABEL_FETCH
    db.session.rollback()
    assert row_counts() == before
    shipment = db.session.scalar(select(Shipment).where(Shipment.package_id == package.id))
    assert (shipment.status, shipment.tracking_number) == ("label_ready", "TY12345")
