"""Batch planning writes exactly what planning one order at a time writes."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models import (
    Order,
    OutboxEvent,
    Package,
    PlanningTrace,
    Reservation,
    Stock,
    StockLedger,
    Transfer,
    TransitionLog,
)
from app.services.planning.batch import plan_batch
from app.services.representations import order_dict, package_dict, transfer_dict
from app.services.settings import put_setting
from tests import factories
from tests.services.planning.network import order, scenario, shirts_at_a_store, site


def _without_times(data: dict) -> dict:
    return {k: v for k, v in data.items() if k not in ("created_at", "updated_at")}


def test_batch_rows_and_events_match_the_objects_they_describe(app):
    store = site("KDK", 40.99, 29.03, is_transfer_source=False)
    warehouse = site("WH", 40.81, 29.30, type="warehouse", is_packaging_center=False)
    shirt, jeans = factories.product("SHIRT"), factories.product("JEANS")
    factories.stock(store, shirt, 5)
    factories.stock(warehouse, jeans, 5)
    scenario(warehouse, [{"location_type": "store"},
                         {"location_type": "store", "transferable": True, "transfer_sources": ["WH"]}])
    simple = order([(shirt, 2)]).id
    transfer = order([(shirt, 1), (jeans, 1)]).id
    parked = order([(factories.product("NONE"), 1)]).id

    counts = plan_batch(chunk_size=2)

    assert counts == {"planned": 1, "transfer": 1, "out_of_stock": 1}
    db.session.rollback()
    assert [db.session.get(Order, i).status for i in (simple, transfer, parked)] == [
        "planned", "planned", "out_of_stock"]
    for package in db.session.scalars(select(Package)):
        event = db.session.scalar(select(OutboxEvent).where(OutboxEvent.type == "package.created",
                                                            OutboxEvent.aggregate_id == package.id))
        assert _without_times(event.data) == _without_times(package_dict(package))
        log = db.session.scalar(select(TransitionLog).where(TransitionLog.entity_type == "package",
                                                            TransitionLog.entity_id == package.id))
        assert (log.from_state, log.to_state, log.actor) == (None, package.state, "system:planner")
        assert db.session.get(PlanningTrace, package.planning_trace_id).order_id == package.order_id
    (t,) = db.session.scalars(select(Transfer)).all()
    event = db.session.scalar(select(OutboxEvent).where(OutboxEvent.type == "transfer.created"))
    assert _without_times(event.data) == _without_times(transfer_dict(t))
    for o in db.session.scalars(select(Order)):
        event = db.session.scalar(select(OutboxEvent).where(OutboxEvent.type == "order.status_changed",
                                                            OutboxEvent.aggregate_id == o.id))
        assert _without_times(event.data) == _without_times(order_dict(o))
    # Stock, reservations and ledger agree.
    for row in db.session.scalars(select(Stock)):
        held = db.session.scalar(select(func.coalesce(func.sum(Reservation.quantity), 0)).where(
            Reservation.location_id == row.location_id, Reservation.product_id == row.product_id))
        assert row.reserved == held
        last = db.session.scalar(select(StockLedger).where(StockLedger.location_id == row.location_id,
                                                           StockLedger.product_id == row.product_id)
                                 .order_by(StockLedger.id.desc()))
        if held:
            assert (last.on_hand_after, last.reserved_after) == (row.on_hand, row.reserved)
    assert {(r.location_id, r.quantity) for r in db.session.scalars(select(Reservation))} == {
        (store.id, 2), (store.id, 1), (warehouse.id, 1)}


def test_batch_holds_unaccepted_orders(app):
    store, shirt = shirts_at_a_store(5, default=None)
    put_setting("ORDER_FILTERING", {"accepted_statuses": ["approved"]})
    held = order([(shirt, 1)], status="pending").id
    planned = order([(shirt, 1)]).id

    assert plan_batch() == {"planned": 1, "on_hold": 1}

    db.session.rollback()
    assert db.session.get(Order, held).status == "on_hold"
    assert db.session.get(Order, planned).status == "planned"


def test_flask_plan_and_replan_commands_print_a_summary(app):
    store, shirt = shirts_at_a_store(1, default=None)
    order([(shirt, 1)])
    order([(shirt, 1)])
    runner = app.test_cli_runner()

    result = runner.invoke(args=["plan"])

    assert result.exit_code == 0, result.output
    assert "Planned 2 order(s)" in result.output and "1 out of stock" in result.output and "1 planned" in result.output
    result = runner.invoke(args=["replan-out-of-stock"])
    assert result.exit_code == 0 and "1 still out of stock" in result.output


def test_same_order_number_in_three_channels_gets_distinct_package_numbers_in_a_batch(app):
    store, shirt = shirts_at_a_store(10)
    first = order([(shirt, 1)], channel_code="web")
    plan_batch([first.id])  # already has SAME-P1 in the database before the next chunk
    others = []
    for code in ("trendyol", "amazon"):
        o = order([(shirt, 1)], channel_code=code, commit=False)
        o.number = first.number
        db.session.commit()
        others.append(o.id)

    counts = plan_batch(others)  # both in one chunk, both colliding with the first order's package

    assert counts.get("planned") == 2, counts
    numbers = db.session.scalars(select(Package.number).order_by(Package.id)).all()
    assert numbers == [f"{first.number}-P1", f"{first.number}-P2", f"{first.number}-P3"]


def _event_for(kind: str, aggregate_id: int) -> OutboxEvent:
    return db.session.scalar(select(OutboxEvent).where(OutboxEvent.type == kind, OutboxEvent.aggregate_id == aggregate_id)
                             .order_by(OutboxEvent.id.desc()))


def test_batch_order_event_lists_the_packages_the_order_had_before(app):
    from app.services.packages import run_package_command
    from app.services.planning import plan_order
    from tests.services.builders import supervisor

    store, shirt = shirts_at_a_store(5, default=None)
    o = order([(shirt, 1)])
    plan_order(o.id, trigger="job")
    (first,) = db.session.scalars(select(Package).where(Package.order_id == o.id)).all()
    run_package_command(first.id, "cancel", {"reason": "wrong address"}, supervisor())
    assert db.session.get(Order, o.id).status == "new"

    assert plan_batch([o.id]) == {"planned": 1}

    db.session.rollback()
    fresh = db.session.get(Order, o.id)
    event = _event_for("order.status_changed", o.id)
    assert [p["number"] for p in event.data["packages"]] == [first.number, f"{fresh.number}-P2"]
    assert [p["state"] for p in event.data["packages"]] == ["cancelled", "waiting"]
    assert _without_times(event.data) == _without_times(order_dict(fresh))


def test_batch_package_events_offer_the_commands_the_settings_allow_now(app):
    store, shirt = shirts_at_a_store(5, default=None)
    before = order([(shirt, 1)]).id
    plan_batch([before])  # with scanning optional: packing straight away is offered
    put_setting("REQUIRE_SCAN_TO_PACK", True)
    after = order([(shirt, 1)]).id

    plan_batch([after])

    db.session.rollback()
    offered = {}
    for order_id in (before, after):
        package = db.session.scalar(select(Package).where(Package.order_id == order_id))
        offered[order_id] = _event_for("package.created", package.id).data["allowed_commands"]
        if order_id == after:
            assert offered[order_id] == package_dict(package)["allowed_commands"]
    assert "complete_packing" in offered[before]
    assert "complete_packing" not in offered[after] and "prepare" in offered[after]
