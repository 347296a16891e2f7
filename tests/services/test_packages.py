"""Package commands: the error contract, the transition table, and the store-side commands."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import OutboxEvent, Package, Reservation, TransitionLog
from app.models.packages import PACKAGE_STATES
from app.services.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.services.packages import run_package_command
from app.services.transitions import PACKAGE_TRANSITIONS
from tests import factories
from tests.services.builders import (
    get_channel,
    ledger_sums,
    live_packages,
    make_package,
    make_transfer,
    row_counts,
    staff,
    stock_of,
    supervisor,
)

# Commands whose success re-plans (needs the planner); they are tested in test_replanning.py.
REPLANNING = ("report_missing", "refuse")


def package_for(command: str, state: str, **kw) -> Package:
    """A package in `state` whose guards let `command` run when the state allows it."""
    if command == "complete_packing_channel":
        kw.setdefault("channel", get_channel("mp", provides_shipping_label=True))
    if command in ("ready_for_pickup", "deliver_to_customer"):
        kw.setdefault("delivery_type", "click_and_collect")
    if command == "create_shipment":
        kw.setdefault("with_shipment", False)
    return make_package(state, **kw)


def valid_params(command: str, package: Package) -> dict:
    barcode = package.items[0].product.barcode_values[0]
    return {
        "pick": {"barcode": barcode},
        "complete_packing_channel": {"tracking_number": "MP-1", "label_url": "https://mp.example.com/l/1"},
        "update_shipment_info": {"tracking_number": "T-9"},
        "ship_advanced": {"cargo_company": "demo"},
        "ship_without_integration": {"cargo_company": "demo", "tracking_number": "X1"},
        "update_shipment_status": {"status": "delivered"},
        "block": {"reason": "Counting stock"},
        "update_invoice": {"number": "INV-1", "date": "2026-11-20", "url": "https://inv.example.com/1"},
        "cancel": {"reason": "Customer called"},
        "manual_plan": {"assignments": [{"item_ids": [i.id for i in package.items],
                                         "location": package.location.code}]},
    }.get(command, {})


def events_of(package_id: int, type_: str | None = None) -> list[OutboxEvent]:
    query = select(OutboxEvent).where(OutboxEvent.aggregate_type == "package", OutboxEvent.aggregate_id == package_id)
    if type_:
        query = query.where(OutboxEvent.type == type_)
    return list(db.session.scalars(query.order_by(OutboxEvent.id)))


def history(entity_type: str, entity_id: int) -> list[TransitionLog]:
    return list(db.session.scalars(select(TransitionLog).where(
        TransitionLog.entity_type == entity_type, TransitionLog.entity_id == entity_id).order_by(TransitionLog.id)))


ALLOWED = [(c, s) for c, t in PACKAGE_TRANSITIONS.items() for s in t.sources if c not in REPLANNING]


@pytest.mark.parametrize(("command", "state"), ALLOWED)
def test_command_runs_from_every_state_the_table_allows(app, command, state):
    package = package_for(command, state)
    version = package.version
    result = run_package_command(package.id, command, valid_params(command, package), supervisor())
    target = PACKAGE_TRANSITIONS[command].target
    expected = {None: state, "@previous": "waiting", "@status": "delivered"}.get(target, target)
    assert result.state == expected
    assert result.version == version + 1
    last = history("package", package.id)[-1]
    assert (last.command, last.from_state, last.to_state) == (command, state, expected)
    changes = events_of(package.id, "package.state_changed")
    if expected != state:
        assert changes[-1].previous == {"state": state} and changes[-1].data["state"] == expected
    else:
        assert changes == []


@pytest.mark.parametrize("command", list(PACKAGE_TRANSITIONS))
def test_command_is_refused_with_409_from_every_other_state(app, command):
    for state in [s for s in PACKAGE_STATES if s not in PACKAGE_TRANSITIONS[command].sources]:
        package = package_for(command, state)
        with pytest.raises(Conflict) as exc:
            run_package_command(package.id, command, valid_params(command, package), supervisor())
        assert exc.value.code == "command_not_allowed"
        assert exc.value.details["state"] == state
        assert command not in exc.value.details["allowed_commands"]
        assert state in exc.value.message
        db.session.expire_all()
        assert db.session.get(Package, package.id).version == package.version


def test_unknown_command_is_404_listing_the_commands(app):
    package = make_package()
    with pytest.raises(NotFound) as exc:
        run_package_command(package.id, "teleport", {}, supervisor())
    assert exc.value.code == "unknown_command"
    assert "prepare" in exc.value.details["commands"]


def test_missing_package_is_404(app):
    with pytest.raises(NotFound):
        run_package_command(999_999, "prepare", {}, supervisor())


def test_staff_of_another_store_gets_404_and_nothing_changes(app):
    package = make_package("waiting")
    other_store = factories.location()
    db.session.commit()
    before = row_counts()
    with pytest.raises(NotFound):
        run_package_command(package.id, "prepare", {}, staff(other_store))
    assert row_counts() == before
    assert db.session.get(Package, package.id).state == "waiting"


def test_staff_of_the_store_can_prepare(app):
    package = make_package("waiting")
    assert run_package_command(package.id, "prepare", {}, staff(package.location)).state == "preparing"


@pytest.mark.parametrize("command", ["cancel", "manual_plan"])
def test_managers_only_commands_are_forbidden_for_staff(app, command):
    package = make_package("waiting")
    with pytest.raises(Forbidden):
        run_package_command(package.id, command, valid_params(command, package), staff(package.location))
    db.session.expire_all()
    assert db.session.get(Package, package.id).state == "waiting"


def test_same_expected_version_twice_applies_once(app):
    package = make_package("preparing", items=[("SKU-A", 3)])
    barcode = package.items[0].product.barcode_values[0]
    version = package.version
    run_package_command(package.id, "pick", {"barcode": barcode}, staff(package.location), expected_version=version)
    with pytest.raises(Conflict) as exc:
        run_package_command(package.id, "pick", {"barcode": barcode}, staff(package.location),
                            expected_version=version)
    assert exc.value.code == "stale"
    assert exc.value.details["state"] == "preparing"
    assert "pick" in exc.value.details["allowed_commands"]
    db.session.expire_all()
    assert db.session.get(Package, package.id).items[0].picked_quantity == 1


def test_prepare_writes_the_transition_log_and_a_state_changed_event(app):
    package = make_package("waiting")
    run_package_command(package.id, "prepare", {}, staff(package.location, name="ayse"))
    log = history("package", package.id)[-1]
    assert (log.from_state, log.to_state, log.command, log.actor) == ("waiting", "preparing", "prepare", "user:ayse")
    event = events_of(package.id, "package.state_changed")[-1]
    assert event.previous == {"state": "waiting"}
    assert event.data["state"] == "preparing"
    assert event.data["id"] == package.id


def test_unknown_parameters_are_rejected_with_422(app):
    package = make_package("waiting")
    with pytest.raises(ValidationFailed) as exc:
        run_package_command(package.id, "prepare", {"force": True}, staff(package.location))
    assert "force" in exc.value.details


# --- pick -----------------------------------------------------------------------------------

def test_pick_counts_units_and_marks_the_item_picked_when_complete(app):
    package = make_package("preparing", items=[("SKU-A", 2)])
    barcode = package.items[0].product.barcode_values[0]
    result = run_package_command(package.id, "pick", {"barcode": barcode}, staff(package.location))
    assert (result.items[0].picked_quantity, result.items[0].state) == (1, "open")
    result = run_package_command(package.id, "pick", {"barcode": barcode, "quantity": 1}, staff(package.location))
    assert (result.items[0].picked_quantity, result.items[0].state) == (2, "picked")
    assert result.state == "preparing"


def test_pick_of_an_unknown_barcode_is_422_and_changes_nothing(app):
    package = make_package("preparing")
    factories.product(sku="OTHER", barcode="5550001")
    db.session.commit()
    before = row_counts()
    for barcode in ("0000000", "5550001"):
        with pytest.raises(ValidationFailed) as exc:
            run_package_command(package.id, "pick", {"barcode": barcode}, staff(package.location))
        assert exc.value.details == {"barcode": "This barcode is not in this package."}
    assert row_counts() == before


def test_over_pick_is_422_naming_the_quantity(app):
    package = make_package("preparing", items=[("SKU-A", 2)])
    barcode = package.items[0].product.barcode_values[0]
    with pytest.raises(ValidationFailed) as exc:
        run_package_command(package.id, "pick", {"barcode": barcode, "quantity": 3}, staff(package.location))
    assert "quantity" in exc.value.details
    db.session.expire_all()
    assert db.session.get(Package, package.id).items[0].picked_quantity == 0


@pytest.mark.parametrize("params", [{"barcode": ""}, {"barcode": "x", "quantity": 0}, {"quantity": 1}])
def test_pick_with_bad_params_is_422(app, params):
    package = make_package("preparing")
    with pytest.raises(ValidationFailed):
        run_package_command(package.id, "pick", params, staff(package.location))


# --- stock-releasing commands ---------------------------------------------------------------

def test_deallocate_releases_reservations_and_starts_preparing(app):
    package = make_package("waiting", items=[("SKU-A", 2)], spare=3)
    assert stock_of(package.location, "SKU-A") == (5, 2)
    result = run_package_command(package.id, "deallocate", {}, staff(package.location))
    assert result.state == "preparing"
    assert stock_of(package.location, "SKU-A") == (5, 0)
    assert ledger_sums(package.location, "SKU-A") == (5, 0)
    assert db.session.scalar(select(Reservation).where(Reservation.package_item_id == package.items[0].id)) is None


@pytest.mark.parametrize("state", ["waiting", "preparing", "out_of_stock"])
def test_packed_for_refund_returns_reserved_goods_to_stock(app, state):
    package = make_package(state, items=[("SKU-A", 2)], spare=1)
    result = run_package_command(package.id, "packed_for_refund", {}, staff(package.location))
    assert result.state == "packed_for_refund"
    assert stock_of(package.location, "SKU-A") == (3, 0)


def test_cancel_releases_reservations_and_cancels_open_transfers(app):
    transfer = make_transfer(items=[("SKU-A", 2)], spare=0)
    package = transfer.package
    assert stock_of(transfer.source, "SKU-A") == (2, 2)
    result = run_package_command(package.id, "cancel", {"reason": "Duplicate order"}, supervisor())
    assert result.state == "cancelled"
    assert result.cancel_reason == "Duplicate order"
    assert stock_of(transfer.source, "SKU-A") == (2, 0)
    db.session.expire_all()
    assert result.transfers[0].state == "cancelled"
    assert history("transfer", transfer.id)[-1].to_state == "cancelled"
    assert result.order.status == "new"  # its units are unassigned again, nothing is planned


def test_cancel_of_a_packed_package_puts_the_goods_back_and_cancels_the_shipment(app):
    package = make_package("packed", items=[("SKU-A", 2)], spare=0)
    assert stock_of(package.location, "SKU-A") == (0, 0)
    result = run_package_command(package.id, "cancel", {}, supervisor())
    assert stock_of(package.location, "SKU-A") == (2, 0)
    assert result.shipment.status == "cancelled"
    assert ledger_sums(package.location, "SKU-A") == (2, 0)


# --- block / unblock ------------------------------------------------------------------------

@pytest.mark.parametrize("state", ["waiting_for_transfer", "waiting", "preparing"])
def test_unblock_returns_to_the_state_before_block(app, state):
    # A package waits for a transfer only while one is on its way (see the next test otherwise).
    package = make_transfer().package if state == "waiting_for_transfer" else make_package(state)
    blocked = run_package_command(package.id, "block", {"reason": "Stock count"}, staff(package.location))
    assert (blocked.state, blocked.previous_state, blocked.block_reason) == ("blocked", state, "Stock count")
    result = run_package_command(package.id, "unblock", {}, staff(package.location))
    assert result.state == state


def test_block_needs_a_reason(app):
    package = make_package("waiting")
    with pytest.raises(ValidationFailed) as exc:
        run_package_command(package.id, "block", {}, staff(package.location))
    assert "reason" in exc.value.details


# --- manual planning ------------------------------------------------------------------------

def test_manual_plan_moves_items_to_new_packages_with_fresh_reservations(app):
    package = make_package("waiting", items=[("SKU-A", 1), ("SKU-B", 2)], spare=0)
    other = factories.location(code="WH-9")
    from tests.services.builders import get_product, set_stock

    set_stock(other, get_product("SKU-B"), 2)
    db.session.commit()
    a, b = package.items
    params = {"assignments": [{"item_ids": [a.id], "location": package.location.code},
                              {"item_ids": [b.id], "location": "WH-9"}]}
    result = run_package_command(package.id, "manual_plan", params, supervisor())
    assert result.state == "cancelled"
    db.session.expire_all()
    new = [p for p in result.order.packages if p.id != package.id]
    assert [(p.location.code, p.state, [(i.sku, i.quantity) for i in p.items]) for p in new] == [
        (package.location.code, "waiting", [("SKU-A", 1)]), ("WH-9", "waiting", [("SKU-B", 2)])]
    assert stock_of(package.location, "SKU-A") == (1, 1)
    assert stock_of(package.location, "SKU-B") == (2, 0)
    assert stock_of(other, "SKU-B") == (2, 2)


def test_manual_plan_must_cover_every_item_exactly_once(app):
    package = make_package("waiting", items=[("SKU-A", 1), ("SKU-B", 1)])
    a, b = package.items
    code = package.location.code
    for assignments, field in (
        ([{"item_ids": [a.id], "location": code}], "assignments"),
        ([{"item_ids": [a.id, b.id], "location": code}, {"item_ids": [a.id], "location": code}],
         "assignments.1.item_ids"),
        ([{"item_ids": [a.id, b.id, 99999], "location": code}], "assignments.0.item_ids"),
        ([{"item_ids": [a.id, b.id], "location": "NOPE"}], "assignments.0.location"),
    ):
        with pytest.raises(ValidationFailed) as exc:
            run_package_command(package.id, "manual_plan", {"assignments": assignments}, supervisor())
        assert field in exc.value.details


def test_manual_plan_problems_are_said_in_the_readers_language(app):
    from flask_babel import force_locale

    package = make_package("waiting", items=[("SKU-A", 1), ("SKU-B", 1)])
    a, _b = package.items
    plan = {"assignments": [{"item_ids": [a.id, 99999], "location": "NOPE"}]}
    with app.test_request_context(), force_locale("tr"):
        with pytest.raises(ValidationFailed) as exc:
            run_package_command(package.id, "manual_plan", plan, supervisor())
    assert exc.value.details == {"assignments.0.location": "'NOPE' koduyla etkin bir lokasyon yok.",
                                 "assignments.0.item_ids": "99999 numaralı kalem bu paketin açık kalemlerinden biri değil."}
    plan = {"assignments": [{"item_ids": [a.id], "location": package.location.code}]}
    with app.test_request_context(), force_locale("tr"):
        with pytest.raises(ValidationFailed) as exc:
            run_package_command(package.id, "manual_plan", plan, supervisor())
    assert exc.value.details == {"assignments": "Her adedi tam bir kez atayın; atanmayanlar: SKU-B (1 adetten 0)"}


def test_manual_plan_without_stock_is_422_naming_sku_and_location_and_changes_nothing(app):
    package = make_package("waiting", items=[("SKU-A", 2)])
    empty = factories.location(code="EMPTY-1")
    db.session.commit()
    before = row_counts()
    stock_before = stock_of(package.location, "SKU-A")
    params = {"assignments": [{"item_ids": [package.items[0].id], "location": "EMPTY-1"}]}
    with pytest.raises(ValidationFailed) as exc:
        run_package_command(package.id, "manual_plan", params, supervisor())
    assert "SKU-A" in exc.value.details["assignments.0.location"]
    assert "EMPTY-1" in exc.value.details["assignments.0.location"]
    assert row_counts() == before
    assert stock_of(package.location, "SKU-A") == stock_before
    assert stock_of(empty, "SKU-A") == (0, 0)
    assert db.session.get(Package, package.id).state == "waiting"


# --- re-planning: report_missing and refuse ---------------------------------------------------

@pytest.fixture
def network(app):
    """Store A (preferred) holds the package; store B is the next choice; WH parks the rest."""
    from tests.services.builders import get_product, make_scenario, set_stock

    a = factories.location(code="A", priority=1)
    b = factories.location(code="B", priority=2)
    wh = factories.location(code="WH", priority=9)
    make_scenario(wh)
    set_stock(b, get_product("SKU-A"), 5)
    db.session.commit()
    return a, b, wh


def test_missing_units_move_the_whole_package_when_the_rule_does_not_split(network):
    a, b, _ = network
    package = make_package("preparing", items=[("SKU-A", 3)], location=a, spare=2)
    item = package.items[0]
    params = {"items": [{"item_id": item.id, "quantity": 1, "reason": "not_found"}]}
    result = run_package_command(package.id, "report_missing", params, staff(a))
    assert result.state == "cancelled"  # A cannot complete it and the order may not be split
    assert stock_of(a, "SKU-A") == (4, 0)  # 5 on hand, 1 written off; the rest released
    assert ledger_sums(a, "SKU-A") == (4, 0)
    assert live_packages(package.order_id) == [("B", "waiting", [("SKU-A", 3)])]
    assert stock_of(b, "SKU-A") == (5, 3)
    from app.models import PlanningExclusion

    exclusion = db.session.scalars(select(PlanningExclusion)).one()
    assert (exclusion.location_id, exclusion.reason) == (a.id, "missing")


def test_missing_units_are_written_off_and_split_off_when_the_rule_splits(network):
    from app.models import ScenarioRule

    rule = db.session.scalars(select(ScenarioRule)).one()
    rule.allow_split, rule.max_packages = True, 2
    db.session.commit()
    a, b, _ = network
    package = make_package("preparing", items=[("SKU-A", 3)], location=a, spare=2)
    item = package.items[0]
    params = {"items": [{"item_id": item.id, "quantity": 1, "reason": "not_found"}]}
    result = run_package_command(package.id, "report_missing", params, staff(a))
    assert result.state == "preparing"
    assert [(i.quantity, i.state) for i in result.items] == [(2, "open")]
    assert stock_of(a, "SKU-A") == (4, 2)  # 5 on hand, 1 written off; 2 still reserved
    assert live_packages(package.order_id) == [("A", "preparing", [("SKU-A", 2)]), ("B", "waiting", [("SKU-A", 1)])]
    assert stock_of(b, "SKU-A") == (5, 1)


def test_reporting_every_unit_missing_cancels_the_package(network):
    a, _, _ = network
    package = make_package("waiting", items=[("SKU-A", 2)], location=a, spare=0)
    params = {"items": [{"item_id": package.items[0].id, "quantity": 2, "reason": "defective"}]}
    result = run_package_command(package.id, "report_missing", params, staff(a))
    assert result.state == "cancelled"
    assert result.items[0].state == "missing"
    assert stock_of(a, "SKU-A") == (0, 0)
    assert live_packages(package.order_id) == [("B", "waiting", [("SKU-A", 2)])]


def test_whole_package_missing_is_cancelled_and_replanned_away_from_the_store(network):
    a, _, wh = network
    package = make_package("preparing", items=[("SKU-A", 1), ("SKU-B", 1)], location=a, spare=0)
    result = run_package_command(package.id, "report_missing", {"whole_package": True}, staff(a))
    assert result.state == "cancelled"
    assert stock_of(a, "SKU-A") == (1, 0)  # released, not written off
    # B has SKU-A but not SKU-B, and the rule does not split: everything parks out of stock at WH.
    assert live_packages(package.order_id) == [("WH", "out_of_stock", [("SKU-A", 1), ("SKU-B", 1)])]
    assert result.order.status == "out_of_stock"


def test_report_missing_with_bad_items_is_422_and_changes_nothing(network):
    a, _, _ = network
    package = make_package("preparing", items=[("SKU-A", 2)], location=a)
    item_id = package.items[0].id
    for params, field in (
        ({"items": [{"item_id": item_id, "quantity": 3, "reason": "not_found"}]}, "items.0.quantity"),
        ({"items": [{"item_id": 123456, "quantity": 1, "reason": "not_found"}]}, "items.0.item_id"),
        ({"items": [{"item_id": item_id, "quantity": 1, "reason": "lazy"}]}, "items.0.reason"),
        ({"items": []}, "__root__"),
    ):
        before, stock_before = row_counts(), stock_of(a, "SKU-A")
        with pytest.raises(ValidationFailed) as exc:
            run_package_command(package.id, "report_missing", params, staff(a))
        assert field in exc.value.details
        assert row_counts() == before
        assert stock_of(a, "SKU-A") == stock_before


def test_refused_items_are_never_planned_back_to_the_refusing_store(network):
    a, b, _ = network
    factories.denial_reason("damaged")
    package = make_package("waiting", items=[("SKU-A", 2)], location=a, spare=3)
    result = run_package_command(package.id, "refuse", {"reason": "damaged"}, staff(a))
    assert (result.state, result.refuse_reason) == ("refused", "damaged")
    assert stock_of(a, "SKU-A") == (5, 0)  # released; A still has the most stock but is excluded
    assert live_packages(package.order_id) == [("B", "waiting", [("SKU-A", 2)])]
    types = [e.type for e in events_of(package.id)]
    assert "package.refused" in types
    assert history("package", package.id)[-1].to_state == "refused"


@pytest.mark.parametrize("reason", ["nope", "retired"])
def test_refuse_needs_an_active_denial_reason(network, reason):
    a, _, _ = network
    factories.denial_reason("retired", active=False)
    package = make_package("waiting", location=a)
    before = row_counts()
    with pytest.raises(ValidationFailed) as exc:
        run_package_command(package.id, "refuse", {"reason": reason}, staff(a))
    assert "reason" in exc.value.details
    assert row_counts() == before


@pytest.mark.parametrize("state", ["waiting", "preparing"])
def test_report_missing_and_refuse_run_from_their_source_states(network, state):
    a, _, _ = network
    factories.denial_reason("damaged")
    for command, params in (("refuse", {"reason": "damaged"}),
                            ("report_missing", {"whole_package": True})):
        package = make_package(state, location=a)
        assert run_package_command(package.id, command, params, staff(a)).state in ("refused", "cancelled")


def test_a_redis_outage_after_commit_does_not_undo_the_command(app, redis_server):
    package = make_package("preparing")
    redis_server.stop()
    try:
        result = run_package_command(package.id, "complete_packing", {}, staff(package.location))
    finally:
        redis_server.start()
    db.session.expire_all()
    assert db.session.get(Package, result.id).state == "waiting_cargo_label"


def test_order_status_follows_the_package(app):
    package = make_package("waiting")
    assert package.order.status == "planned"
    result = run_package_command(package.id, "prepare", {}, staff(package.location))
    assert result.order.status == "in_progress"


def test_the_package_a_command_returns_is_described_without_reading_it_again(app):
    """A command loads the package with its items, products, barcodes, transfers, shipment and
    order up front, and keeps them loaded through its commit: the response body is built from
    memory. The session expires on commit again for whatever the request does next."""
    from sqlalchemy import event

    from app.services.representations import package_dict

    package = make_package("waiting", items=(("SKU-A", 1), ("SKU-B", 2)))
    package_id = package.id
    db.session.commit()
    db.session.expunge_all()  # nothing of the package is in the session before the command

    done = run_package_command(package_id, "prepare", {}, supervisor())
    statements: list[str] = []

    def seen(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        body = package_dict(done)
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)

    assert body["state"] == "preparing"
    assert sorted((i["sku"], i["quantity"]) for i in body["items"]) == [("SKU-A", 1), ("SKU-B", 2)]
    assert all(i["barcodes"] for i in body["items"])
    read_again = [s for s in statements if any(f" {t}" in s for t in (
        "packages", "package_items", "products", "product_barcodes", "orders", "transfers", "stock_locations"))]
    assert read_again == []
    assert db.session().expire_on_commit is True
    db.session.commit()
    assert "state" not in db.inspect(done).dict  # expired by an ordinary commit, as before
    assert done.state == "preparing"
