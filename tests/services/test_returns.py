"""Customer returns: creation rules, receiving, inspection, failed deliveries, scope."""

from __future__ import annotations

import pytest
from rq import Queue, SimpleWorker
from sqlalchemy import select

from app.extensions import db
from app.models import OutboxEvent, Package, Return, StockLedger, TransitionLog
from app.models.returns import RETURN_STATES
from app.queues import redis_connection
from app.services.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.services.packages import run_package_command
from app.services.planning.replan import waiting_for_stock
from app.services.returns import (
    RETURN_TRANSITIONS,
    FinishedLine,
    count_return_scan,
    create_return,
    finish_receiving,
    run_return_command,
)
from tests import factories
from tests.services.builders import get_product, make_package, make_scenario, staff, stock_of, supervisor


def shipped(items=(("SKU-A", 2),), state="delivered", **kw):
    return make_package(state, items=items, spare=0, **kw)


def a_return(package, location=None, items=None, actor=None):
    location = location or package.location
    body = {"order": package.order_id, "location": location.code,
            "items": items or [{"sku": i.product.sku, "quantity": i.quantity, "reason": "too small"}
                               for i in package.items]}
    return create_return(body, actor or staff(location))


def test_return_at_a_store_restocks_there(app):
    package = shipped()
    store = factories.location()
    db.session.commit()
    ret = a_return(package, store, items=[{"sku": "SKU-A", "quantity": 2, "reason": "too small"}])
    assert (ret.number, ret.state, ret.source) == (f"{package.order.number}-R1", "requested", "api")
    ret = run_return_command(ret.id, "receive", {}, staff(store))
    assert ret.state == "received" and [i.received for i in ret.items] == [2]
    assert stock_of(store, "SKU-A") == (0, 0)  # nothing enters before inspection
    ret = run_return_command(ret.id, "inspect", {"items": [{"sku": "SKU-A", "resellable": 2, "damaged": 0}]},
                             staff(store))
    assert ret.state == "restocked"
    assert stock_of(store, "SKU-A") == (2, 0)
    assert stock_of(package.location, "SKU-A") == (0, 0)
    ledger = db.session.scalars(select(StockLedger).where(StockLedger.reference == ret.number)).all()
    assert [(row.reason, row.on_hand_delta, row.location_id) for row in ledger] == [("return_restock", 2, store.id)]
    log = db.session.scalars(select(TransitionLog.to_state).where(TransitionLog.entity_type == "return")
                             .order_by(TransitionLog.id)).all()
    assert log == ["requested", "received", "inspected", "restocked"]
    types = db.session.scalars(select(OutboxEvent.type).order_by(OutboxEvent.id)
                               .where(OutboxEvent.type.like("return.%"))).all()
    assert types == ["return.created", "return.state_changed", "return.state_changed", "return.state_changed",
                     "return.refund_ready"]


def test_damaged_return_writes_off_with_the_reason(app):
    package = shipped(items=(("SKU-A", 3),))
    ret = a_return(package)
    location = package.location
    run_return_command(ret.id, "receive", {}, staff(location))
    with pytest.raises(ValidationFailed) as refused:
        run_return_command(ret.id, "inspect", {"items": [{"sku": "SKU-A", "resellable": 1, "damaged": 2}]},
                           staff(location))
    assert "items.0.reason" in refused.value.details  # damaged needs a reason
    with pytest.raises(ValidationFailed):  # 1 + 1 is not the 3 received
        run_return_command(ret.id, "inspect", {"items": [{"sku": "SKU-A", "resellable": 1, "damaged": 1,
                                                          "reason": "torn"}]}, staff(location))
    ret = run_return_command(ret.id, "inspect", {"items": [{"sku": "SKU-A", "resellable": 0, "damaged": 3,
                                                            "reason": "torn seam"}]}, staff(location))
    assert ret.state == "written_off"
    assert stock_of(location, "SKU-A") == (0, 0)
    row = db.session.scalars(select(StockLedger).where(StockLedger.reference == ret.number)).one()
    assert (row.reason, row.on_hand_delta) == ("write_off", 0)
    assert "3 unit(s): torn seam" == row.note
    assert ret.items[0].damaged == 3 and "torn seam" in ret.items[0].note
    refund = db.session.scalars(select(OutboxEvent).where(OutboxEvent.type == "return.refund_ready")).one()
    assert refund.data["items"][0]["damaged"] == 3


def test_failed_delivery_becomes_a_return_to_the_packing_location(app):
    package = shipped(items=(("SKU-A", 2),), state="shipped")
    location = package.location
    run_package_command(package.id, "update_shipment_status", {"status": "delivery_failed"}, supervisor())
    ret = db.session.scalars(select(Return)).one()
    assert (ret.source, ret.state, ret.location_id, ret.package_id) == ("delivery_failed", "in_transit",
                                                                        location.id, package.id)
    assert [(i.product.sku, i.quantity) for i in ret.items] == [("SKU-A", 2)]
    # The same news twice does not open a second return.
    run_package_command(package.id, "update_shipment_status", {"status": "delivery_failed"}, supervisor())
    assert len(db.session.scalars(select(Return)).all()) == 1
    ret = finish_receiving(ret.id, [FinishedLine("SKU-A", 2)], staff(location))
    assert ret.state == "restocked"
    assert stock_of(location, "SKU-A") == (2, 0)


def test_a_failed_delivery_delivered_after_all_cancels_its_return(app):
    package = shipped(state="shipped")
    run_package_command(package.id, "update_shipment_status", {"status": "delivery_failed"}, supervisor())
    run_package_command(package.id, "update_shipment_status", {"status": "delivered"}, supervisor())
    assert db.session.scalars(select(Return.state)).one() == "cancelled"


def test_staff_of_another_location_cannot_see_or_receive_it(app):
    package = shipped()
    ret = a_return(package)
    elsewhere = factories.location()
    db.session.commit()
    for call in (lambda: run_return_command(ret.id, "receive", {}, staff(elsewhere)),
                 lambda: count_return_scan(ret.id, package.items[0].product.barcode_values[0], staff(elsewhere)),
                 lambda: finish_receiving(ret.id, [FinishedLine("SKU-A", 2)], staff(elsewhere))):
        with pytest.raises(NotFound):
            call()
    with pytest.raises(ValidationFailed) as refused:  # nor create one for a location it cannot work at
        a_return(package, package.location, actor=staff(elsewhere), items=[{"sku": "SKU-A", "quantity": 1}])
    assert "location" in refused.value.details
    assert db.session.get(Return, ret.id).state == "requested"


def test_items_never_shipped_or_already_returned_are_refused(app):
    package = shipped(items=(("SKU-A", 2),))
    get_product("SKU-B")
    waiting = make_package("waiting", items=(("SKU-C", 1),))
    db.session.commit()
    with pytest.raises(ValidationFailed) as refused:
        a_return(package, items=[{"sku": "SKU-B", "quantity": 1}])
    assert "never shipped" in refused.value.details["items.0.sku"]
    with pytest.raises(ValidationFailed):  # nothing of a waiting package has left
        a_return(waiting, items=[{"sku": "SKU-C", "quantity": 1}])
    a_return(package, items=[{"sku": "SKU-A", "quantity": 2}])
    with pytest.raises(ValidationFailed) as refused:
        a_return(package, items=[{"sku": "SKU-A", "quantity": 1}])
    assert "0 unit(s) of SKU-A can still be returned" in refused.value.details["items.0.quantity"]
    with pytest.raises(ValidationFailed):
        a_return(package, items=[{"sku": "SKU-GHOST", "quantity": 1}])
    assert len(db.session.scalars(select(Return)).all()) == 1


@pytest.mark.parametrize("quantity", [0, -1])
def test_zero_or_negative_counts_are_refused(app, quantity):
    package = shipped()
    with pytest.raises(ValidationFailed):
        a_return(package, items=[{"sku": "SKU-A", "quantity": quantity}])
    ret = a_return(package)
    with pytest.raises(ValidationFailed):
        run_return_command(ret.id, "receive", {"items": [{"sku": "SKU-A", "quantity": quantity}]},
                           staff(package.location))
    with pytest.raises(ValidationFailed):
        finish_receiving(ret.id, [FinishedLine("SKU-A", quantity, note="lost")], staff(package.location))
    assert db.session.get(Return, ret.id).state == "requested"
    assert stock_of(package.location, "SKU-A") == (0, 0)


def test_an_unknown_barcode_is_refused_and_scans_count(app):
    package = shipped(items=(("SKU-A", 2),))
    ret = a_return(package)
    with pytest.raises(ValidationFailed):
        count_return_scan(ret.id, "0000000000000", staff(package.location))
    barcode = package.items[0].product.barcode_values[0]
    for _ in range(2):
        ret, item = count_return_scan(ret.id, barcode, staff(package.location))
    with pytest.raises(ValidationFailed) as beyond:  # a third unit was never shipped: refused at the scan
        count_return_scan(ret.id, barcode, staff(package.location))
    assert beyond.value.code == "too_many" and "barcode" in beyond.value.details
    db.session.rollback()
    assert db.session.get(Return, ret.id).items[0].scanned == 2
    with pytest.raises(ValidationFailed) as refused:  # over needs a reason, and cannot exceed what was shipped
        finish_receiving(ret.id, [FinishedLine("SKU-A", 3)], staff(package.location))
    assert "SKU-A.note" in refused.value.details
    with pytest.raises(ValidationFailed):
        finish_receiving(ret.id, [FinishedLine("SKU-A", 3, note="customer sent an extra")], staff(package.location))


def test_short_and_damaged_lines_on_the_screen(app):
    package = shipped(items=(("SKU-A", 3), ("SKU-B", 1)))
    ret = a_return(package)
    location = package.location
    with pytest.raises(ValidationFailed):  # short without a reason
        finish_receiving(ret.id, [FinishedLine("SKU-A", 2), FinishedLine("SKU-B", 1)], staff(location))
    ret = finish_receiving(ret.id, [FinishedLine("SKU-A", 2, damaged=1, note="one missing, one stained"),
                                    FinishedLine("SKU-B", 1)], staff(location))
    assert ret.state == "restocked"
    assert [(i.received, i.resellable, i.damaged) for i in ret.items] == [(2, 1, 1), (1, 1, 0)]
    assert stock_of(location, "SKU-A") == (1, 0) and stock_of(location, "SKU-B") == (1, 0)
    with pytest.raises(Conflict) as twice:  # finishing twice never counts twice
        finish_receiving(ret.id, [FinishedLine("SKU-A", 2, damaged=1, note="again"), FinishedLine("SKU-B", 1)],
                         staff(location))
    assert twice.value.code == "command_not_allowed"
    assert stock_of(location, "SKU-A") == (1, 0)


def test_cancel_is_for_managers_and_the_transition_table_is_complete(app):
    package = shipped()
    ret = a_return(package)
    with pytest.raises(Forbidden):
        run_return_command(ret.id, "cancel", {}, staff(package.location))
    assert run_return_command(ret.id, "ship", {}, staff(package.location)).state == "in_transit"
    assert run_return_command(ret.id, "cancel", {"reason": "kept it"}, supervisor()).state == "cancelled"
    with pytest.raises(Conflict):
        run_return_command(ret.id, "receive", {}, staff(package.location))
    # A cancelled return gives its units back to what may be returned.
    assert a_return(package).number.endswith("-R2")
    assert {s for t in RETURN_TRANSITIONS.values() for s in t.sources} <= set(RETURN_STATES)


def test_receiving_requeues_out_of_stock_packages_that_want_the_sku(app):
    package = shipped(items=(("SKU-A", 1),))
    parked = make_package("out_of_stock", items=(("SKU-A", 1),), location=package.location, spare=0)
    make_scenario(package.location)
    parked_id, order_id = parked.id, parked.order_id
    assert waiting_for_stock([parked.items[0].product_id]) == [parked_id]
    ret = a_return(package)
    finish_receiving(ret.id, [FinishedLine("SKU-A", 1)], staff(package.location))
    connection = redis_connection()
    queue = Queue("planning", connection=connection)
    assert [job.func_name for job in queue.jobs] == ["app.tasks.planning.replan_out_of_stock"]
    db.session.rollback()
    SimpleWorker([queue], connection=connection).work(burst=True)
    db.session.rollback()
    assert db.session.get(Package, parked_id).state == "cancelled"  # its unit found the restocked stock
    assert [p.state for p in db.session.scalars(select(Package).where(Package.order_id == order_id))
            if p.id != parked_id] == ["waiting"]


def test_a_failed_delivery_of_units_already_on_a_return_does_not_bring_them_back_twice(app):
    # The customer refused the parcel and the channel opened a return before the carrier's news.
    package = shipped(items=(("SKU-A", 2),), state="shipped")
    location = package.location
    announced = a_return(package)
    run_package_command(package.id, "update_shipment_status", {"status": "delivery_failed"}, supervisor())
    open_returns = db.session.scalars(select(Return).where(Return.state != "cancelled")).all()
    assert sum(i.quantity for r in open_returns for i in r.items) == 2
    finish_receiving(announced.id, [FinishedLine("SKU-A", 2)], staff(location))
    for ret in db.session.scalars(select(Return).where(Return.state == "in_transit")).all():
        finish_receiving(ret.id, [FinishedLine("SKU-A", 2, note="came back")], staff(location))
    assert stock_of(location, "SKU-A") == (2, 0)
