"""Transfer commands: dispatch, receive, scope, the transition table and re-sourcing."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import OutboxEvent, Package, Transfer, TransitionLog
from app.models.transfers import TRANSFER_STATES
from app.services.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.services.packages import run_package_command
from app.services.transfers import run_transfer_command
from app.services.transitions import TRANSFER_TRANSITIONS
from tests import factories
from tests.services.builders import (
    ledger_sums,
    live_packages,
    make_transfer,
    row_counts,
    staff,
    stock_of,
    supervisor,
)

REPLANNING = ("report_missing", "out_of_stock", "cancel")


def test_dispatch_takes_the_goods_out_of_the_source(app):
    transfer = make_transfer(items=[("SKU-A", 2)], spare=1)
    assert stock_of(transfer.source, "SKU-A") == (3, 2)
    result = run_transfer_command(transfer.id, "dispatch", {}, staff(transfer.source))
    assert result.state == "in_transit"
    assert stock_of(transfer.source, "SKU-A") == (1, 0)
    assert ledger_sums(transfer.source, "SKU-A") == (1, 0)
    event = db.session.scalars(select(OutboxEvent).where(OutboxEvent.type == "transfer.state_changed")).one()
    assert (event.previous, event.data["state"]) == ({"state": "waiting"}, "in_transit")


def test_ready_for_dispatch_records_the_carrier(app):
    transfer = make_transfer()
    result = run_transfer_command(transfer.id, "ready_for_dispatch",
                                  {"cargo_company": "demo", "tracking_number": "TR-1"}, staff(transfer.source))
    assert (result.state, result.cargo_company.code, result.tracking_number) == ("ready_for_dispatch", "demo", "TR-1")
    with pytest.raises(ValidationFailed):
        other = make_transfer()
        run_transfer_command(other.id, "ready_for_dispatch", {"cargo_company": "ghost"}, staff(other.source))


def test_receiving_the_last_transfer_releases_the_package_for_preparing(app):
    transfer = make_transfer(items=[("SKU-A", 2)], state="in_transit", spare=0)
    destination = transfer.destination
    result = run_transfer_command(transfer.id, "receive", {}, staff(destination))
    assert result.state == "received"
    assert [i.state for i in result.items] == ["received"]
    assert stock_of(destination, "SKU-A") == (2, 2)  # arrived and reserved for the package
    assert ledger_sums(destination, "SKU-A") == (2, 2)
    package = result.package
    assert package.state == "waiting"
    log = db.session.scalars(select(TransitionLog).where(TransitionLog.entity_type == "package",
                                                         TransitionLog.entity_id == package.id)
                             .order_by(TransitionLog.id.desc())).first()
    assert (log.from_state, log.to_state) == ("waiting_for_transfer", "waiting")
    # ... and the received units are packed from the destination's reservation.
    run_package_command(package.id, "complete_packing_without_shipment", {}, staff(destination))
    assert stock_of(destination, "SKU-A") == (0, 0)


def test_package_waits_while_another_transfer_is_on_its_way(app):
    first = make_transfer(items=[("SKU-A", 1)], state="in_transit")
    package = first.package
    from app.services import workorders

    second = workorders.create_transfer(package, first.source_id, [(package.items[0], 1)], "system:test",
                                        reserve=False)
    second.state = "in_transit"
    db.session.commit()
    run_transfer_command(first.id, "receive", {}, supervisor())
    db.session.expire_all()
    assert db.session.get(Package, package.id).state == "waiting_for_transfer"
    run_transfer_command(second.id, "receive", {}, supervisor())
    db.session.expire_all()
    assert db.session.get(Package, package.id).state == "waiting"


def test_goods_for_a_cancelled_package_arrive_unreserved(app):
    transfer = make_transfer(items=[("SKU-A", 2)], state="in_transit", spare=0)
    run_package_command(transfer.package_id, "cancel", {}, supervisor())
    run_transfer_command(transfer.id, "receive", {}, supervisor())
    assert stock_of(transfer.destination, "SKU-A") == (2, 0)


def test_staff_of_source_or_destination_may_act_others_get_404(app):
    transfer = make_transfer()
    stranger = factories.location()
    db.session.commit()
    before = row_counts()
    with pytest.raises(NotFound):
        run_transfer_command(transfer.id, "dispatch", {}, staff(stranger))
    assert row_counts() == before
    assert run_transfer_command(transfer.id, "ready_for_dispatch", {}, staff(transfer.source)).state == \
        "ready_for_dispatch"
    assert run_transfer_command(transfer.id, "dispatch", {}, staff(transfer.source)).state == "in_transit"


def test_only_the_sending_store_dispatches_and_only_the_receiving_store_receives(app):
    transfer = make_transfer()
    db.session.commit()
    with pytest.raises(Forbidden, match="sending store"):
        run_transfer_command(transfer.id, "dispatch", {}, staff(transfer.destination))
    assert run_transfer_command(transfer.id, "dispatch", {}, staff(transfer.source)).state == "in_transit"
    with pytest.raises(Forbidden, match="receiving store"):
        run_transfer_command(transfer.id, "receive", {}, staff(transfer.source))
    assert run_transfer_command(transfer.id, "receive", {}, staff(transfer.destination)).state == "received"


def test_unknown_transfer_or_command_is_404(app):
    transfer = make_transfer()
    with pytest.raises(NotFound):
        run_transfer_command(999999, "dispatch", {}, supervisor())
    with pytest.raises(NotFound) as exc:
        run_transfer_command(transfer.id, "fly", {}, supervisor())
    assert exc.value.code == "unknown_command"


def test_cancel_is_for_supervisors(app):
    transfer = make_transfer()
    with pytest.raises(Forbidden):
        run_transfer_command(transfer.id, "cancel", {}, staff(transfer.source))


def test_same_expected_version_twice_applies_once(app):
    transfer = make_transfer(items=[("SKU-A", 1)], spare=0)
    run_transfer_command(transfer.id, "dispatch", {}, supervisor(), expected_version=1)
    with pytest.raises(Conflict) as exc:
        run_transfer_command(transfer.id, "dispatch", {}, supervisor(), expected_version=1)
    assert exc.value.code == "stale"
    assert stock_of(transfer.source, "SKU-A") == (0, 0)


def _transfer_in(state: str) -> Transfer:
    transfer = make_transfer(state="in_transit" if state in ("in_transit", "received") else "waiting")
    if state not in ("waiting", "in_transit"):
        transfer.state = state
        db.session.commit()
    return transfer


ALLOWED = [(c, s) for c, t in TRANSFER_TRANSITIONS.items() for s in t.sources if c not in REPLANNING]


@pytest.mark.parametrize(("command", "state"), ALLOWED)
def test_transfer_command_runs_from_every_state_the_table_allows(app, command, state):
    transfer = _transfer_in(state)
    result = run_transfer_command(transfer.id, command, {}, supervisor())
    assert result.state == TRANSFER_TRANSITIONS[command].target
    assert result.version == 2


@pytest.mark.parametrize("command", list(TRANSFER_TRANSITIONS))
def test_transfer_command_is_refused_with_409_from_every_other_state(app, command):
    for state in [s for s in TRANSFER_STATES if s not in TRANSFER_TRANSITIONS[command].sources]:
        transfer = _transfer_in(state)
        with pytest.raises(Conflict) as exc:
            run_transfer_command(transfer.id, command, {}, supervisor())
        assert exc.value.code == "command_not_allowed"
        assert exc.value.details["state"] == state


def test_report_missing_with_bad_items_is_422_and_changes_nothing(app):
    transfer = make_transfer(items=[("SKU-A", 2)])
    item_id = transfer.items[0].id
    for items, field in (([{"item_id": item_id, "quantity": 3}], "items.0.quantity"),
                         ([{"item_id": 424242, "quantity": 1}], "items.0.item_id"),
                         ([], "items")):
        before = row_counts()
        with pytest.raises(ValidationFailed) as exc:
            run_transfer_command(transfer.id, "report_missing", {"items": items}, staff(transfer.source))
        assert field in exc.value.details
        assert row_counts() == before


# --- re-sourcing ----------------------------------------------------------------------------

def resourcing_network():
    """Source S sends to destination D; store B (preferred) can take over; WH parks the rest."""
    from tests.services.builders import get_product, make_scenario, set_stock

    source = factories.location(code="S", priority=5)
    destination = factories.location(code="D", priority=6)
    b = factories.location(code="B", priority=1)
    wh = factories.location(code="WH", priority=9)
    make_scenario(wh)
    set_stock(b, get_product("SKU-A"), 5)
    db.session.commit()
    return source, destination, b


@pytest.fixture
def network(app):
    return resourcing_network()


def rules_allow_transfers() -> None:
    from app.models import ScenarioRule

    for rule in db.session.scalars(select(ScenarioRule)):
        rule.transferable = True
    db.session.commit()


def test_missing_transfer_units_are_written_off_and_brought_by_another_transfer(network):
    source, destination, b = network
    rules_allow_transfers()
    transfer = make_transfer(items=[("SKU-A", 2)], source=source, destination=destination, spare=0)
    params = {"items": [{"item_id": transfer.items[0].id, "quantity": 1}]}
    result = run_transfer_command(transfer.id, "report_missing", params, staff(source))
    assert result.state == "waiting"
    assert [(ti.quantity, ti.state) for ti in result.items] == [(1, "open")]
    assert stock_of(source, "SKU-A") == (1, 1)  # one written off, one still travels
    assert ledger_sums(source, "SKU-A") == (1, 1)
    # The same package at D: one unit still comes from S, the missing one now from B.
    assert live_packages(transfer.package.order_id) == [("D", "waiting_for_transfer", [("SKU-A", 2)])]
    transfers = db.session.scalars(select(Transfer).where(Transfer.package_id == transfer.package_id)
                                   .order_by(Transfer.id)).all()
    assert [(t.source.code, t.destination.code, [i.quantity for i in t.items]) for t in transfers] == [
        ("S", "D", [1]), ("B", "D", [1])]
    assert stock_of(b, "SKU-A") == (5, 1)
    from app.models import PlanningExclusion

    assert db.session.scalars(select(PlanningExclusion.location_id)).all() == [source.id]


def test_missing_transfer_units_park_when_the_rules_neither_transfer_nor_split(network):
    source, destination, _ = network
    transfer = make_transfer(items=[("SKU-A", 2)], source=source, destination=destination, spare=0)
    params = {"items": [{"item_id": transfer.items[0].id, "quantity": 1}]}
    run_transfer_command(transfer.id, "report_missing", params, staff(source))
    # Not a second package at B: the rule packs an order in one place. The unit waits for stock.
    assert live_packages(transfer.package.order_id) == [("D", "waiting_for_transfer", [("SKU-A", 1)]),
                                                        ("WH", "out_of_stock", [("SKU-A", 1)])]


def test_out_of_stock_transfer_is_replaced_by_a_transfer_from_another_source(network):
    source, destination, _ = network
    rules_allow_transfers()
    transfer = make_transfer(items=[("SKU-A", 2)], source=source, destination=destination, spare=1)
    result = run_transfer_command(transfer.id, "out_of_stock", {}, staff(source))
    assert result.state == "out_of_stock"
    assert result.items[0].state == "missing"
    assert stock_of(source, "SKU-A") == (1, 0)
    assert result.package.state == "waiting_for_transfer"  # the same package, refilled
    assert live_packages(transfer.package.order_id) == [("D", "waiting_for_transfer", [("SKU-A", 2)])]


def test_out_of_stock_transfer_moves_an_empty_package_when_the_rules_do_not_transfer(network):
    source, destination, _ = network
    transfer = make_transfer(items=[("SKU-A", 2)], source=source, destination=destination, spare=1)
    result = run_transfer_command(transfer.id, "out_of_stock", {}, staff(source))
    assert result.package.state == "cancelled"  # nothing was left to pack at D
    assert live_packages(transfer.package.order_id) == [("B", "waiting", [("SKU-A", 2)])]


def test_cancelled_transfer_releases_the_source_without_writing_anything_off(network):
    source, destination, _ = network
    transfer = make_transfer(items=[("SKU-A", 1)], source=source, destination=destination, spare=0)
    result = run_transfer_command(transfer.id, "cancel", {"reason": "Truck broke down"}, supervisor())
    assert result.state == "cancelled"
    assert stock_of(source, "SKU-A") == (1, 0)
    assert live_packages(transfer.package.order_id) == [("B", "waiting", [("SKU-A", 1)])]


def test_a_transfer_ready_for_dispatch_can_still_be_cancelled(network):
    source, destination, _ = network
    transfer = make_transfer(items=[("SKU-A", 1)], source=source, destination=destination, spare=0)
    run_transfer_command(transfer.id, "ready_for_dispatch", {}, staff(source))
    assert run_transfer_command(transfer.id, "cancel", {}, supervisor()).state == "cancelled"
    assert stock_of(source, "SKU-A") == (1, 0)
