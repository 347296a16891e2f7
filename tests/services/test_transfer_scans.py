"""Counting a transfer's units by scanning: only the side whose step is next, one unit per scan,
never past the quantity, and no change to the transfer's state or version."""

from __future__ import annotations

import pytest

from app.extensions import db
from app.services.errors import Conflict, Forbidden, ValidationFailed
from app.services.transfers import count_transfer_scan, run_transfer_command
from tests import factories
from tests.services.builders import make_transfer, staff, supervisor


def barcode_of(transfer) -> str:
    return transfer.items[0].product.barcode_values[0]


def test_the_sender_counts_before_dispatch_and_the_receiver_after(app):
    transfer = make_transfer(items=[("SKU-A", 2)])
    code, version = barcode_of(transfer), transfer.version
    counted = count_transfer_scan(transfer.id, code, staff(transfer.source))
    assert (counted.items[0].dispatch_scanned, counted.items[0].receive_scanned) == (1, 0)
    assert (counted.state, counted.version) == ("waiting", version)
    with pytest.raises(Forbidden):
        count_transfer_scan(transfer.id, code, staff(transfer.destination))  # not the receiver's step yet
    run_transfer_command(transfer.id, "dispatch", {}, staff(transfer.source))
    with pytest.raises(Forbidden):
        count_transfer_scan(transfer.id, code, staff(transfer.source))
    received = count_transfer_scan(transfer.id, code, staff(transfer.destination))
    assert (received.items[0].dispatch_scanned, received.items[0].receive_scanned) == (1, 1)
    assert count_transfer_scan(transfer.id, code, supervisor()).items[0].receive_scanned == 2  # managers may


def test_a_scan_never_counts_past_the_quantity_or_a_product_not_in_the_transfer(app):
    transfer = make_transfer(items=[("SKU-A", 1)])
    other = factories.product("SKU-OTHER")
    db.session.commit()
    actor = staff(transfer.source)
    count_transfer_scan(transfer.id, barcode_of(transfer), actor)
    with pytest.raises(ValidationFailed, match="Every unit of SKU-A is already counted"):
        count_transfer_scan(transfer.id, barcode_of(transfer), actor)
    with pytest.raises(ValidationFailed, match="not in this transfer"):
        count_transfer_scan(transfer.id, other.barcode_values[0], actor)
    with pytest.raises(ValidationFailed, match="not in this transfer"):
        count_transfer_scan(transfer.id, "no-such-barcode", actor)


def test_nobody_scans_a_finished_transfer(app):
    transfer = make_transfer(items=[("SKU-A", 1)], state="in_transit")
    run_transfer_command(transfer.id, "receive", {}, staff(transfer.destination))
    with pytest.raises(Conflict) as caught:
        count_transfer_scan(transfer.id, barcode_of(transfer), staff(transfer.destination))
    assert caught.value.code == "command_not_allowed"
