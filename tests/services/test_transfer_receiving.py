"""Receiving an incoming transfer with a count (issue 19): short and damaged units are planned
again like units a source reports missing, damaged ones written off at the destination with the
reason, units over what was sent stocked there only with a reason; one transaction; finishing
twice counts once."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import StockLedger, Transfer, TransitionLog
from app.services.errors import Conflict, ValidationFailed
from app.services.transfers import run_transfer_command
from tests.services.builders import (
    ledger_sums,
    live_packages,
    make_transfer,
    row_counts,
    staff,
    stock_of,
)
from tests.services.test_transfers import resourcing_network, rules_allow_transfers


@pytest.fixture
def network(app):
    """Source S sends to destination D; store B can send the units again; WH parks the rest."""
    sites = resourcing_network()
    rules_allow_transfers()
    return sites


def _receive(transfer: Transfer, lines, who) -> Transfer:
    return run_transfer_command(transfer.id, "receive", {"lines": lines}, staff(who))


def test_counted_as_sent_is_the_same_as_receiving_whole(network):
    source, destination, _ = network
    transfer = make_transfer(items=[("SKU-A", 2)], source=source, destination=destination, state="in_transit",
                             spare=0)
    result = _receive(transfer, [{"sku": "SKU-A", "received": 2}], destination)
    assert result.state == "received" and [i.state for i in result.items] == ["received"]
    assert stock_of(destination, "SKU-A") == (2, 2)
    assert result.package.state == "waiting"


def test_short_units_are_planned_again_from_another_source(network):
    source, destination, b = network
    transfer = make_transfer(items=[("SKU-A", 3)], source=source, destination=destination, state="in_transit",
                             spare=0)
    result = _receive(transfer, [{"sku": "SKU-A", "received": 2, "note": "Box was half empty"}], destination)
    assert result.state == "received"
    assert [(ti.quantity, ti.state) for ti in result.items] == [(2, "received")]
    assert stock_of(destination, "SKU-A") == (2, 2)  # the two that came, reserved for the package
    assert stock_of(source, "SKU-A") == (0, 0)  # booked out at dispatch; nothing more happens there
    # The package at D keeps three units: two here, the missing one comes from B by a new transfer.
    assert live_packages(transfer.package.order_id) == [("D", "waiting_for_transfer", [("SKU-A", 3)])]
    again = db.session.scalars(select(Transfer).where(Transfer.package_id == transfer.package_id,
                                                      Transfer.id != transfer.id)).all()
    assert [(t.source.code, [i.quantity for i in t.items]) for t in again] == [("B", [1])]
    assert stock_of(b, "SKU-A") == (5, 1)
    log = db.session.scalars(select(TransitionLog).where(TransitionLog.entity_type == "transfer",
                                                         TransitionLog.entity_id == transfer.id,
                                                         TransitionLog.command == "receive")).one()
    assert log.params["lines"][0]["note"] == "Box was half empty"


def test_damaged_units_are_written_off_here_with_the_reason_and_planned_again(network):
    source, destination, b = network
    transfer = make_transfer(items=[("SKU-A", 2)], source=source, destination=destination, state="in_transit",
                             spare=0)
    _receive(transfer, [{"sku": "SKU-A", "received": 2, "damaged": 1, "note": "Crushed in the van"}], destination)
    assert stock_of(destination, "SKU-A") == (1, 1)  # only the usable unit joined the stock
    write_off = db.session.scalars(select(StockLedger).where(StockLedger.location_id == destination.id,
                                                             StockLedger.reason == "write_off")).one()
    assert (write_off.on_hand_delta, write_off.reference) == (0, transfer.number)
    assert "Crushed in the van" in write_off.note and write_off.note.startswith("1 unit")
    assert ledger_sums(destination, "SKU-A") == (1, 1)
    assert stock_of(b, "SKU-A") == (5, 1)  # the damaged unit comes again from B


def test_over_is_refused_without_a_reason_and_stocked_with_one(network):
    source, destination, _ = network
    transfer = make_transfer(items=[("SKU-A", 1)], source=source, destination=destination, state="in_transit",
                             spare=0)
    before = row_counts()
    with pytest.raises(ValidationFailed) as exc:
        _receive(transfer, [{"sku": "SKU-A", "received": 3}], destination)
    assert "lines.0.note" in exc.value.details
    assert row_counts() == before
    _receive(transfer, [{"sku": "SKU-A", "received": 3, "note": "Two extra in the box"}], destination)
    assert stock_of(destination, "SKU-A") == (3, 1)  # one for the package, two more on the shelf
    assert ledger_sums(destination, "SKU-A") == (3, 1)


@pytest.mark.parametrize("lines, field", [
    ([{"sku": "SKU-A", "received": 1}], "lines.0.note"),  # short without a reason
    ([{"sku": "SKU-A", "received": 2, "damaged": 1}], "lines.0.note"),  # damaged without a reason
    ([{"sku": "NOPE", "received": 1, "note": "x"}, {"sku": "SKU-A", "received": 2}], "lines.0.sku"),
    ([], "lines.SKU-A"),  # a SKU left out is not silently short
])
def test_bad_counts_are_refused_and_change_nothing(network, lines, field):
    source, destination, _ = network
    transfer = make_transfer(items=[("SKU-A", 2)], source=source, destination=destination, state="in_transit",
                             spare=0)
    before = row_counts()
    with pytest.raises(ValidationFailed) as exc:
        _receive(transfer, lines, destination)
    assert field in exc.value.details, exc.value.details
    assert row_counts() == before
    assert db.session.get(Transfer, transfer.id).state == "in_transit"


@pytest.mark.parametrize("params", [
    {"lines": [{"sku": "SKU-A", "received": -1}]},
    {"lines": [{"sku": "SKU-A", "received": 1, "damaged": 2, "note": "x"}]},
    {"lines": [{"sku": "SKU-A", "received": 1, "note": "x"}, {"sku": "SKU-A", "received": 1, "note": "x"}]},
])
def test_impossible_numbers_are_422(network, params):
    source, destination, _ = network
    transfer = make_transfer(items=[("SKU-A", 2)], source=source, destination=destination, state="in_transit")
    with pytest.raises(ValidationFailed):
        run_transfer_command(transfer.id, "receive", params, staff(destination))


def test_finishing_twice_counts_once(network):
    source, destination, _ = network
    transfer = make_transfer(items=[("SKU-A", 2)], source=source, destination=destination, state="in_transit",
                             spare=0)
    lines = [{"sku": "SKU-A", "received": 2, "damaged": 1, "note": "Wet"}]
    _receive(transfer, lines, destination)
    after = row_counts()
    with pytest.raises(Conflict) as exc:
        _receive(transfer, lines, destination)
    assert exc.value.code == "command_not_allowed"
    assert row_counts() == after
    assert stock_of(destination, "SKU-A") == (1, 1)
