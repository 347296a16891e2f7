"""Orders: creation from channel payloads, cancellation, and the derived status."""

from __future__ import annotations

import copy

import pytest
from rq import Queue
from sqlalchemy import func, select

from app.extensions import db
from app.models import Order, OutboxEvent, Package, Reservation
from app.queues import redis_connection
from app.services.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.services.order_status import refresh_order_status
from app.services.orders import cancel_order, create_order
from tests import factories
from tests.services.builders import (
    get_product,
    ledger_sums,
    make_order,
    make_package,
    make_transfer,
    row_counts,
    staff,
    stock_of,
    supervisor,
)

PAYLOAD = {
    "number": "WEB-1001", "channel": "web", "placed_at": "2026-11-20T10:00:00Z", "status": "approved",
    "delivery_type": "cargo", "pickup_location": None, "payment_type": "card", "cargo_company": "demo",
    "customer": {"name": "Ayse Yilmaz", "email": "ayse@example.com", "phone": "+905551112233"},
    "shipping_address": {"line": "Moda Cd. 1", "city": "Istanbul", "district": "Kadikoy", "postcode": "34710",
                         "country": "TR", "latitude": 40.98, "longitude": 29.02},
    "items": [{"sku": "TSHIRT-M", "quantity": 2, "price": "199.90"}],
}


@pytest.fixture
def catalog(app):
    factories.channel("web")
    factories.cargo_company("demo")
    factories.product(sku="TSHIRT-M")
    factories.location(code="IST-01", is_pickup_location=True)
    db.session.commit()


def payload(**changes) -> dict:
    data = copy.deepcopy(PAYLOAD)
    data.update(changes)
    return data


# --- create ---------------------------------------------------------------------------------

def test_create_order_stores_the_payload_emits_and_queues_planning(catalog):
    order, created = create_order(payload(), supervisor())
    assert created
    assert (order.number, order.channel.code, order.status, order.source_status) == ("WEB-1001", "web", "new",
                                                                                      "approved")
    assert (order.ship_city, order.ship_latitude, order.customer_phone) == ("Istanbul", 40.98, "+905551112233")
    assert order.placed_at.isoformat() == "2026-11-20T10:00:00"
    assert [(i.sku, i.quantity, str(i.price)) for i in order.items] == [("TSHIRT-M", 2, "199.90")]
    events = db.session.scalars(select(OutboxEvent.type).where(OutboxEvent.aggregate_id == order.id)).all()
    assert events == ["order.created"]
    assert Queue("planning", connection=redis_connection()).job_ids == [f"plan-order-{order.id}"]


def test_create_order_is_idempotent_on_channel_and_number(catalog):
    first, _ = create_order(payload(), supervisor())
    before = row_counts()
    again, created = create_order(payload(items=[{"sku": "TSHIRT-M", "quantity": 5}]), supervisor())
    assert (again.id, created) == (first.id, False)
    assert row_counts() == before


def test_the_same_number_on_another_channel_is_another_order(catalog):
    factories.channel("mp")
    db.session.commit()
    first, _ = create_order(payload(), supervisor())
    second, created = create_order(payload(channel="mp"), supervisor())
    assert created and second.id != first.id


def test_duplicate_skus_become_separate_lines(catalog):
    order, _ = create_order(payload(items=[{"sku": "TSHIRT-M", "quantity": 1}, {"sku": "TSHIRT-M", "quantity": 2}]),
                            supervisor())
    assert [i.quantity for i in order.items] == [1, 2]


def test_click_and_collect_needs_no_shipping_address(catalog):
    order, _ = create_order(payload(delivery_type="click_and_collect", pickup_location="IST-01",
                                    shipping_address=None), supervisor())
    assert order.pickup_location.code == "IST-01"


@pytest.mark.parametrize(("changes", "field"), [
    ({"channel": "nope"}, "channel"),
    ({"items": [{"sku": "GHOST", "quantity": 1}]}, "items.0.sku"),
    ({"items": [{"sku": "TSHIRT-M", "quantity": 0}]}, "items.0.quantity"),
    ({"items": []}, "items"),
    ({"cargo_company": "nope"}, "cargo_company"),
    ({"delivery_type": "click_and_collect", "pickup_location": "NOPE"}, "pickup_location"),
    ({"delivery_type": "click_and_collect"}, "pickup_location"),
    ({"shipping_address": None}, "shipping_address.city"),
    ({"shipping_address": {"line": "Moda Cd. 1"}}, "shipping_address.city"),
    ({"placed_at": "yesterday"}, "placed_at"),
    ({"delivery_type": "drone"}, "delivery_type"),
    ({"number": ""}, "number"),
])
def test_bad_orders_are_422_and_change_nothing(catalog, changes, field):
    before = row_counts()
    with pytest.raises(ValidationFailed) as exc:
        create_order(payload(**changes), supervisor())
    assert field in exc.value.details
    assert row_counts() == before


# --- cancel ---------------------------------------------------------------------------------

def test_cancelling_the_whole_order_releases_everything(app):
    package = make_package("preparing", items=[("SKU-A", 2), ("SKU-B", 1)], spare=0)
    order_id, location = package.order_id, package.location
    order = cancel_order(order_id, {"reason": "Customer changed mind"}, supervisor())
    assert order.status == "cancelled"
    assert order.cancel_reason == "Customer changed mind"
    assert all(i.status == "cancelled" and i.cancelled_quantity == i.quantity for i in order.items)
    db.session.expire_all()
    assert db.session.get(Package, package.id).state == "cancelled"
    assert stock_of(location, "SKU-A") == (2, 0)
    assert ledger_sums(location, "SKU-A") == (2, 0)
    assert db.session.scalar(select(func.count(Reservation.id))) == 0
    types = db.session.scalars(select(OutboxEvent.type).where(OutboxEvent.aggregate_type == "order")).all()
    assert "order.cancelled" in types
    before = row_counts()
    cancel_order(order_id, {}, supervisor())  # repeated: nothing happens
    assert row_counts() == before


def test_cancelling_an_order_cascades_to_its_transfers(app):
    transfer = make_transfer(items=[("SKU-A", 1)], spare=0)
    cancel_order(transfer.package.order_id, {}, supervisor())
    db.session.expire_all()
    assert transfer.state == "cancelled"
    assert stock_of(transfer.source, "SKU-A") == (1, 0)


def test_partial_cancel_shrinks_the_package_item(app):
    package = make_package("waiting", items=[("SKU-A", 3), ("SKU-B", 1)], spare=0)
    a_item = package.order.items[0]
    order = cancel_order(package.order_id, {"items": [{"item_id": a_item.id, "quantity": 2}]}, supervisor())
    assert (order.items[0].cancelled_quantity, order.items[0].status) == (2, "open")
    assert order.status == "planned"
    db.session.expire_all()
    package = db.session.get(Package, package.id)
    assert package.state == "waiting"
    assert [(i.sku, i.quantity, i.state) for i in package.items] == [("SKU-A", 1, "open"), ("SKU-B", 1, "open")]
    assert stock_of(package.location, "SKU-A") == (3, 1)


def test_cancelling_every_unit_of_a_package_cancels_the_package(app):
    package = make_package("waiting", items=[("SKU-A", 1)])
    other = make_package("waiting", items=[("SKU-B", 1)])
    # Two packages of one order: move the second package's item under the first order.
    order = package.order
    b_line = make_order([("SKU-B", 1)]).items[0]
    b_line.order = order
    other.items[0].order_item = b_line
    other.order = order
    db.session.commit()
    cancel_order(order.id, {"items": [{"item_id": order.items[0].id, "quantity": 1}]}, supervisor())
    db.session.expire_all()
    assert db.session.get(Package, package.id).state == "cancelled"
    assert db.session.get(Package, other.id).state == "waiting"
    assert db.session.get(Order, order.id).status == "planned"


def test_partial_cancel_of_a_packed_package_returns_goods_to_stock(app):
    package = make_package("packed", items=[("SKU-A", 2)], spare=0)
    cancel_order(package.order_id, {"items": [{"item_id": package.order.items[0].id, "quantity": 1}]},
                 supervisor())
    assert stock_of(package.location, "SKU-A") == (1, 0)
    assert ledger_sums(package.location, "SKU-A") == (1, 0)


def test_shipped_units_cannot_be_cancelled(app):
    package = make_package("shipped", items=[("SKU-A", 1)])
    before = row_counts()
    with pytest.raises(Conflict):
        cancel_order(package.order_id, {}, supervisor())
    assert row_counts() == before
    db.session.expire_all()
    assert db.session.get(Order, package.order_id).status == "shipped"


def test_cancelling_more_than_is_left_is_422(app):
    package = make_package("waiting", items=[("SKU-A", 2)])
    item_id = package.order.items[0].id
    for items, field in (([{"item_id": item_id, "quantity": 3}], "items.0.quantity"),
                         ([{"item_id": 999999, "quantity": 1}], "items.0.item_id"),
                         ([{"item_id": item_id, "quantity": 0}], "items.0.quantity")):
        before = row_counts()
        with pytest.raises(ValidationFailed) as exc:
            cancel_order(package.order_id, {"items": items}, supervisor())
        assert field in exc.value.details
        assert row_counts() == before


def test_staff_cannot_cancel_orders_and_other_stores_do_not_see_them(app):
    package = make_package("waiting")
    with pytest.raises(Forbidden):
        cancel_order(package.order_id, {}, staff(package.location))
    with pytest.raises(NotFound):
        cancel_order(package.order_id, {}, staff(factories.location()))
    with pytest.raises(NotFound):
        cancel_order(999999, {}, supervisor())


# --- derived status -------------------------------------------------------------------------

@pytest.mark.parametrize(("states", "expected"), [
    ([], "new"),
    (["cancelled"], "new"),
    (["waiting"], "planned"),
    (["waiting_for_transfer", "blocked"], "planned"),
    (["waiting", "preparing"], "in_progress"),
    (["packed", "out_of_stock"], "out_of_stock"),
    (["refused", "waiting_cargo_label"], "in_progress"),
    (["shipped", "waiting"], "partially_shipped"),
    (["shipped", "delivered"], "shipped"),
    (["delivered", "delivered", "cancelled"], "delivered"),
    (["ready_for_pickup"], "in_progress"),
    (["packed_for_refund"], "cancelled"),
])
def test_order_status_is_derived_from_its_packages(app, states, expected):
    order = make_order([("SKU-A", 1)])
    db.session.commit()
    for state in states:
        make_package(state, order=order)
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    refresh_order_status(order, "system:test")
    assert order.status == expected


def test_order_status_keeps_on_hold_until_something_is_planned(app):
    order = make_order([("SKU-A", 1)])
    order.status = "on_hold"
    refresh_order_status(order, "system:test")
    assert order.status == "on_hold"
    make_package("waiting", order=order)
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    refresh_order_status(order, "system:test")
    assert order.status == "planned"


def test_fully_cancelled_items_make_the_order_cancelled_and_emit(app):
    order = make_order([("SKU-A", 2)])
    order.items[0].cancelled_quantity = 2
    refresh_order_status(order, "system:test")
    assert order.status == "cancelled"
    events = db.session.scalars(select(OutboxEvent).where(OutboxEvent.aggregate_id == order.id,
                                                          OutboxEvent.aggregate_type == "order")).all()
    assert {e.type for e in events} == {"order.status_changed", "order.cancelled"}
    assert events[0].previous == {"status": "new"}
    assert get_product("SKU-A")  # the catalog is untouched


def test_partial_cancel_of_a_package_waiting_for_a_transfer_replans_the_rest(app):
    from tests.services.builders import make_scenario

    wh = factories.location(code="WH", priority=9)
    make_scenario(wh)
    transfer = make_transfer(items=[("SKU-A", 3)], spare=0)
    order_id, item_id = transfer.package.order_id, transfer.package.order.items[0].id
    cancel_order(order_id, {"items": [{"item_id": item_id, "quantity": 1}]}, supervisor())
    db.session.expire_all()
    order = db.session.get(Order, order_id)
    assert order.items[0].cancelled_quantity == 1
    assert db.session.get(Package, transfer.package_id).state == "cancelled"
    live = [(p.location.code, p.state, sum(i.quantity for i in p.items)) for p in order.packages
            if p.state != "cancelled"]
    # The two remaining units are planned again: the source itself now has them available.
    assert live == [(transfer.source.code, "waiting", 2)]
    assert stock_of(transfer.source, "SKU-A") == (3, 2)
