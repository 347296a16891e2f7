"""Units a package loses are brought back into that package by the rules before anything else,
and every change of a package's quantities reaches webhook followers as an event."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import Order, OutboxEvent, Package, Transfer
from app.services.orders import cancel_order
from app.services.packages import run_package_command
from app.services.planning import plan_order, replan_out_of_stock
from app.services.representations import package_dict
from app.services.transfers import run_transfer_command
from tests import factories
from tests.services.builders import staff, supervisor
from tests.services.planning.network import order, packages_of, scenario, site

NO_SPLIT_THEN_TRANSFER = [
    {"location_type": "store"},
    {"location_type": "store", "transferable": True, "transfer_sources": ["WH1", "WH2"]},
]


def _network():
    kdk = site("KDK", 40.99, 29.03, is_transfer_source=False)
    bsk = site("BSK", 41.04, 29.00, is_transfer_source=False)  # another store, empty
    wh1 = site("WH1", 40.95, 29.10, type="warehouse", is_packaging_center=False)
    wh2 = site("WH2", 40.80, 29.40, type="warehouse", is_packaging_center=False)
    return kdk, bsk, wh1, wh2


def _live(order_id: int) -> list[Package]:
    return [p for p in packages_of(order_id) if p.state not in ("cancelled", "refused")]


def _planned_shirts(default, quantity: int, *stock):
    """SHIRT stocked as the (site, units) pairs say, the rules NO_SPLIT_THEN_TRANSFER with `default`
    the scenario's default site, and an order for `quantity` shirts planned into one live package."""
    shirt = factories.product("SHIRT")
    for where, units in stock:
        factories.stock(where, shirt, units)
    scenario(default, NO_SPLIT_THEN_TRANSFER)
    o = order([(shirt, quantity)])
    plan_order(o.id)
    (package,) = _live(o.id)
    return shirt, o, package


def _events(kind: str, aggregate_id: int) -> list[OutboxEvent]:
    return list(db.session.scalars(select(OutboxEvent).where(OutboxEvent.type == kind,
                                                             OutboxEvent.aggregate_id == aggregate_id)
                                   .order_by(OutboxEvent.id)))


def test_a_transfer_source_out_of_stock_is_replaced_by_another_transfer_into_the_same_package(app):
    kdk, _bsk, wh1, wh2 = _network()
    _shirt, o, package = _planned_shirts(wh1, 1, (wh1, 1), (wh2, 1))
    (first,) = package.transfers
    assert (package.location_id, package.state, first.source_id) == (kdk.id, "waiting_for_transfer", wh1.id)

    run_transfer_command(first.id, "out_of_stock", {}, staff(wh1))

    db.session.expire_all()
    (still,) = _live(o.id)
    assert still.id == package.id and still.state == "waiting_for_transfer"
    transfers = db.session.scalars(select(Transfer).where(Transfer.package_id == package.id)
                                   .order_by(Transfer.id)).all()
    assert [(t.source_id, t.destination_id, t.state) for t in transfers] == [
        (wh1.id, kdk.id, "out_of_stock"), (wh2.id, kdk.id, "waiting")]
    assert [i.quantity for i in still.items if i.state == "open"] == [1]
    assert db.session.get(Order, o.id).status == "planned"


def test_missing_items_come_by_transfer_into_the_package_that_reported_them(app):
    kdk, bsk, wh1, _wh2 = _network()
    shirt, jeans = factories.product("SHIRT"), factories.product("JEANS")
    factories.stock(kdk, shirt, 1)
    factories.stock(kdk, jeans, 1)
    factories.stock(wh1, shirt, 3)
    scenario(wh1, NO_SPLIT_THEN_TRANSFER)
    o = order([(shirt, 1), (jeans, 1)])
    plan_order(o.id)
    (package,) = _live(o.id)
    assert package.location_id == kdk.id
    run_package_command(package.id, "prepare", {}, staff(kdk))
    shirt_item = next(i for i in package.items if i.product_id == shirt.id)

    run_package_command(package.id, "report_missing",
                        {"items": [{"item_id": shirt_item.id, "quantity": 1, "reason": "not_found"}]}, staff(kdk))

    db.session.expire_all()
    (still,) = _live(o.id)  # not a second package at the empty store BSK
    assert still.id == package.id and still.location_id == kdk.id
    assert still.state == "waiting_for_transfer"
    (transfer,) = still.transfers
    assert (transfer.source_id, transfer.destination_id) == (wh1.id, kdk.id)
    assert sorted((i.product.sku, i.quantity, i.state) for i in still.items) == [
        ("JEANS", 1, "open"), ("SHIRT", 1, "missing"), ("SHIRT", 1, "open")]
    assert not any(p.location_id == bsk.id for p in packages_of(o.id))
    changed = _events("package.items_changed", package.id)
    assert changed and changed[-1].data == package_dict(still) | {"updated_at": changed[-1].data["updated_at"]}


def test_units_no_rule_can_bring_back_are_parked_and_later_refill_the_same_package(app):
    kdk, _bsk, wh1, _wh2 = _network()
    shirt, o, package = _planned_shirts(wh1, 2, (kdk, 2))
    run_package_command(package.id, "prepare", {}, staff(kdk))
    item = package.items[0]

    run_package_command(package.id, "report_missing",
                        {"items": [{"item_id": item.id, "quantity": 1, "reason": "not_found"}]}, staff(kdk))

    db.session.expire_all()
    states = sorted((p.state, p.location_id) for p in _live(o.id))
    assert states == [("out_of_stock", wh1.id), ("preparing", kdk.id)]
    (changed,) = _events("package.items_changed", package.id)
    assert changed.previous["items"][0]["quantity"] == 2
    assert changed.data["items"][0]["quantity"] == 1

    factories.stock(wh1, shirt, 1)  # the warehouse gets the missing unit
    db.session.commit()
    assert replan_out_of_stock() == {"transfer": 1}

    db.session.expire_all()
    (still,) = _live(o.id)
    assert still.id == package.id and still.state == "waiting_for_transfer"
    assert [(t.source_id, t.destination_id) for t in still.transfers] == [(wh1.id, kdk.id)]
    last = _events("package.items_changed", package.id)[-1]
    assert [i["quantity"] for i in last.data["items"]] == [2]


def test_a_partial_cancel_tells_followers_the_new_quantities(app):
    kdk, _bsk, wh1, _wh2 = _network()
    _shirt, o, package = _planned_shirts(wh1, 3, (kdk, 5))
    order_item = db.session.get(Order, o.id).items[0]

    cancel_order(o.id, {"items": [{"item_id": order_item.id, "quantity": 1}], "reason": "customer"}, supervisor())

    db.session.expire_all()
    (changed,) = _events("package.items_changed", package.id)
    assert changed.previous["items"][0]["quantity"] == 3
    assert changed.data["items"][0]["quantity"] == 2
    assert changed.data == package_dict(db.session.get(Package, package.id)) | {"updated_at": changed.data["updated_at"]}
    (order_event,) = _events("order.items_changed", o.id)
    assert order_event.previous["items"][0]["cancelled_quantity"] == 0
    assert order_event.data["items"][0]["cancelled_quantity"] == 1


def test_a_blocked_package_keeps_its_lost_units_and_unblocks_into_waiting_for_them(app):
    kdk, bsk, wh1, wh2 = _network()
    shirt, o, package = _planned_shirts(wh1, 1, (wh1, 1), (wh2, 1))
    assert package.location_id == kdk.id
    run_package_command(package.id, "block", {"reason": "address check"}, supervisor())
    factories.stock(bsk, shirt, 5)  # the first rule could now pack the lost unit at BSK: it must not
    db.session.commit()
    (first,) = db.session.get(Package, package.id).transfers
    version = db.session.get(Package, package.id).version

    run_transfer_command(first.id, "out_of_stock", {}, staff(wh1))

    db.session.expire_all()
    (still,) = _live(o.id)
    assert still.id == package.id and still.state == "blocked" and still.previous_state == "waiting_for_transfer"
    assert still.version > version
    assert [t.source_id for t in still.transfers if t.state == "waiting"] == [wh2.id]


def test_unblocking_after_the_transfers_arrived_makes_the_package_ready(app):
    kdk, _bsk, wh1, _wh2 = _network()
    _shirt, o, package = _planned_shirts(wh1, 1, (wh1, 1))
    (transfer,) = package.transfers
    run_package_command(package.id, "block", {"reason": "check"}, supervisor())
    run_transfer_command(transfer.id, "dispatch", {}, staff(wh1))
    run_transfer_command(transfer.id, "receive", {}, staff(kdk))

    result = run_package_command(package.id, "unblock", {}, supervisor())

    assert result.state == "waiting"  # not stuck waiting for a transfer that already arrived


def test_a_cancelled_transfer_is_not_planned_again_from_the_same_source(app):
    kdk, _bsk, wh1, wh2 = _network()
    _shirt, o, package = _planned_shirts(wh1, 1, (wh1, 3), (wh2, 3))
    (first,) = package.transfers
    assert first.source_id == wh1.id

    run_transfer_command(first.id, "cancel", {"reason": "truck broke down"}, supervisor())

    db.session.expire_all()
    waiting = [t for t in db.session.get(Package, package.id).transfers if t.state == "waiting"]
    assert [t.source_id for t in waiting] == [wh2.id]


def test_the_package_created_event_lists_its_transfers_like_the_api(app):
    kdk, _bsk, wh1, _wh2 = _network()
    _shirt, o, package = _planned_shirts(wh1, 1, (wh1, 1))
    (created,) = _events("package.created", package.id)
    assert [t["number"] for t in created.data["transfers"]] == [t.number for t in package.transfers]
    assert created.data == package_dict(package) | {"updated_at": created.data["updated_at"]}


def test_a_released_hold_is_logged_from_on_hold(app):
    from app.models import TransitionLog
    from app.services.settings import put_setting

    kdk, _bsk, wh1, _wh2 = _network()
    shirt = factories.product("SHIRT")
    factories.stock(kdk, shirt, 1)
    scenario(wh1, NO_SPLIT_THEN_TRANSFER)
    put_setting("ORDER_FILTERING", {"accepted_statuses": ["approved"]})
    o = order([(shirt, 1)], status="pending")
    plan_order(o.id)
    assert db.session.get(Order, o.id).status == "on_hold"
    fresh = db.session.get(Order, o.id)
    fresh.source_status = "approved"
    db.session.commit()

    plan_order(o.id)

    changes = db.session.scalars(select(TransitionLog).where(TransitionLog.entity_type == "order",
                                                             TransitionLog.entity_id == o.id)
                                 .order_by(TransitionLog.id)).all()
    assert [(c.from_state, c.to_state) for c in changes][-1] == ("on_hold", "planned")
    event = db.session.scalars(select(OutboxEvent).where(OutboxEvent.type == "order.status_changed",
                                                         OutboxEvent.aggregate_id == o.id)
                               .order_by(OutboxEvent.id.desc())).first()
    assert event.previous == {"status": "on_hold"}
