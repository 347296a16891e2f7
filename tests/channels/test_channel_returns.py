"""Returns from the channel inbox (issue 19): a Shopify `refunds/create` webhook and a pulled
Trendyol claim become Packline returns of the shipped order, once per channel return; bad ones
are marked failed and change nothing; a return that reaches refund-ready is told to the channel
(Shopify refund, WooCommerce order refund, Trendyol claim approval) through the status pushes —
all against the simulator process."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from app.channel_simulator.samples import (
    shopify_order,
    shopify_refund,
    trendyol_claim,
    trendyol_package,
    woocommerce_order,
    woocommerce_refund,
    woocommerce_refunded_action,
)
from app.extensions import db
from app.models import Channel, ChannelInboxEntry, ChannelPush, Order, OutboxEvent, Package, StockLedger
from app.models.returns import Return
from app.services import returns
from app.services.actors import Actor
from app.services.channels import intake, pull, status
from app.services.packages import run_package_command
from tests.channels.conftest import run_jobs

BOSS = Actor.system("test")


def _shipped_order(sim, live_server, code: str, lines: list[tuple[str, int]]) -> Order:
    if code == "ty":
        sim.add_trendyol_packages(trendyol_package(9001, "TY-9001", lines))
        db.session.remove()
        pull.pull_channel(_channel_id("ty"))
    elif code == "shop":
        sim.send_webhook(f"{live_server}/channels/shop/webhooks", "shopify", "orders/create",
                         shopify_order(7001, lines))
    else:
        sim.send_webhook(f"{live_server}/channels/woo/webhooks", "woocommerce", "order.created",
                         woocommerce_order(7001, lines))
    run_jobs()
    order = db.session.scalar(select(Order))
    assert order is not None and order.status == "planned"
    package = db.session.scalar(select(Package).where(Package.order_id == order.id))
    run_package_command(package.id, "complete_packing_without_shipment", {}, BOSS)
    run_package_command(package.id, "ship_without_integration", {
        "cargo_company": "demo", "tracking_number": "TRK123456", "tracking_url": "https://track.example/TRK123456"},
        BOSS)
    return order


def _channel_id(code: str) -> int:
    return db.session.scalar(select(Channel.id).where(Channel.code == code))


def _refund_webhook(sim, live_server, payload) -> dict:
    answer = sim.send_webhook(f"{live_server}/channels/shop/webhooks", "shopify", "refunds/create", payload)
    assert answer["status"] == 200, answer
    run_jobs()
    return answer


def _entries(topic: str) -> list[ChannelInboxEntry]:
    db.session.expire_all()
    return list(db.session.scalars(select(ChannelInboxEntry).where(ChannelInboxEntry.topic == topic)
                                   .order_by(ChannelInboxEntry.id)))


def _returns() -> list[Return]:
    db.session.expire_all()
    return list(db.session.scalars(select(Return).order_by(Return.id)))


def _inspect(ret: Return, resellable: int, damaged: int = 0) -> Return:
    sku = ret.items[0].product.sku
    returns.run_return_command(ret.id, "receive", {}, BOSS)
    return returns.run_return_command(ret.id, "inspect", {"items": [
        {"sku": sku, "resellable": resellable, "damaged": damaged,
         **({"reason": "Torn seam"} if damaged else {})}]}, BOSS)


def _push_all() -> list[ChannelPush]:
    status.scan()
    for push in db.session.scalars(select(ChannelPush).where(ChannelPush.status == "pending")):
        status.run_push(push.id)
    db.session.expire_all()
    return list(db.session.scalars(select(ChannelPush).where(ChannelPush.kind == "refund").order_by(ChannelPush.id)))


def test_a_shopify_refund_webhook_becomes_one_return_of_the_shipped_order(world, sim, live_server):
    order = _shipped_order(sim, live_server, "shop", [("MUG", 1), ("TSHIRT-M", 2)])
    _refund_webhook(sim, live_server, shopify_refund(9100, 7001, [("TSHIRT-M", 1)], line_ids=[700101]))
    [ret] = _returns()
    assert (ret.order_id, ret.source, ret.state, ret.location.code, ret.channel_ref) == (
        order.id, "channel", "requested", "IST-01", "9100")
    assert [(i.product.sku, i.quantity, i.reason) for i in ret.items] == [("TSHIRT-M", 1, "Too small")]
    [entry] = _entries("refunds/create")
    assert (entry.outcome, entry.return_id, entry.order_id) == ("returned", ret.id, order.id)
    assert db.session.scalar(select(func.count()).select_from(OutboxEvent).where(
        OutboxEvent.type == "return.created")) == 1

    # The same refund again (Shopify retries with a new webhook id, or sends it twice): one return.
    _refund_webhook(sim, live_server, shopify_refund(9100, 7001, [("TSHIRT-M", 1)], line_ids=[700101]))
    assert len(_returns()) == 1
    first, second = _entries("refunds/create")
    assert (second.outcome, second.return_id) == ("duplicate", ret.id)
    assert "already" in second.reason

    # The order's payload is still what status pushes read (the refund entry is not an order).
    assert status._order_entry(order.id).topic == "orders/create"


def test_bad_refunds_are_marked_failed_and_change_nothing(world, sim, live_server):
    _shipped_order(sim, live_server, "shop", [("MUG", 1), ("TSHIRT-M", 2)])
    _refund_webhook(sim, live_server, shopify_refund(9100, 7001, [("TSHIRT-M", 2)]))
    [made] = _returns()
    ledger = db.session.scalar(select(func.count()).select_from(StockLedger))
    events = db.session.scalar(select(func.count()).select_from(OutboxEvent))

    _refund_webhook(sim, live_server, shopify_refund(9201, 424242, [("MUG", 1)]))  # an order never received
    _refund_webhook(sim, live_server, shopify_refund(9202, 7001, [("TSHIRT-M", 1)]))  # already on a return
    _refund_webhook(sim, live_server, shopify_refund(9203, 7001, [("MUG", 3)]))  # more than shipped
    _refund_webhook(sim, live_server, shopify_refund(9204, 7001, [("NO-SUCH-SKU", 1)]))  # never shipped
    outcomes = {json.loads(e.body)["id"]: (e.outcome, e.reason) for e in _entries("refunds/create")}
    assert outcomes[9100][0] == "returned"
    assert outcomes[9201][0] == "failed" and "no order 424242" in outcomes[9201][1]
    assert outcomes[9202][0] == "failed" and "Only 0 unit(s) of TSHIRT-M can still be returned" in outcomes[9202][1]
    assert outcomes[9203][0] == "failed" and "Only 1 unit(s) of MUG" in outcomes[9203][1]
    assert outcomes[9204][0] == "failed" and "NO-SUCH-SKU" in outcomes[9204][1]
    assert [r.id for r in _returns()] == [made.id]
    assert db.session.scalar(select(func.count()).select_from(StockLedger)) == ledger
    assert db.session.scalar(select(func.count()).select_from(OutboxEvent)) == events

    # A refund of money only brings nothing back: ignored, not a return.
    _refund_webhook(sim, live_server, {**shopify_refund(9300, 7001, [("MUG", 1)]), "refund_line_items": []})
    assert _entries("refunds/create")[-1].outcome == "ignored"
    assert len(_returns()) == 1


def test_a_pulled_trendyol_claim_becomes_a_return_and_its_approval_goes_back(world, sim, live_server):
    order = _shipped_order(sim, live_server, "ty", [("MUG", 1), ("TSHIRT-M", 2)])
    sim.add_trendyol_claims(trendyol_claim("c-77", "TY-9001", [("TSHIRT-M", 2)], package_id=9001))
    db.session.remove()
    result = pull.pull_channel(_channel_id("ty"))
    assert result["returns_stored"] == 1, result
    run_jobs()
    [ret] = _returns()
    assert (ret.order_id, ret.source, ret.channel_ref) == (order.id, "channel", "c-77")
    assert [(i.product.sku, i.quantity, i.reason) for i in ret.items] == [("TSHIRT-M", 2, "Beden küçük geldi")]

    # Pulled again (the same claim, unchanged): nothing new stored; changed: a duplicate entry, one return.
    db.session.remove()
    assert pull.pull_channel(_channel_id("ty"))["returns_stored"] == 0
    sim.add_trendyol_claims({**trendyol_claim("c-77", "TY-9001", [("TSHIRT-M", 2)], package_id=9001),
                             "lastModifiedDate": 1})
    db.session.remove()
    pull.pull_channel(_channel_id("ty"))
    run_jobs()
    assert len(_returns()) == 1
    assert [e.outcome for e in _entries("claim")] == ["returned", "duplicate"]

    # Received, one resellable and one damaged: refund-ready; Trendyol gets both claim items approved.
    ret = _inspect(ret, resellable=1, damaged=1)
    assert ret.state == "restocked"
    [push] = _push_all()
    assert (push.status, push.return_id, push.package_id) == ("done", ret.id, None), push.log
    [approval] = sim.state()["trendyol"]["claim_approvals"]
    assert approval["claim_id"] == "c-77"
    assert sorted(approval["claimLineItemIdList"]) == ["c-77-0-0", "c-77-0-1"]
    assert len(_push_all()) == 1 and len(sim.state()["trendyol"]["claim_approvals"]) == 1  # told once


def test_a_trendyol_claim_for_an_unknown_order_is_failed(world, sim, live_server):
    sim.add_trendyol_claims(trendyol_claim("c-1", "NOPE-1", [("MUG", 1)]))
    db.session.remove()
    pull.pull_channel(_channel_id("ty"))
    run_jobs()
    [entry] = _entries("claim")
    assert entry.outcome == "failed" and "no order NOPE-1" in entry.reason
    assert _returns() == []


def test_a_counter_return_of_a_shopify_order_is_refunded_in_shopify_once_through_a_500(world, sim, live_server, app):
    app.config["CHANNEL_RETRY_INTERVALS"] = [0, 0]
    order = _shipped_order(sim, live_server, "shop", [("MUG", 1), ("TSHIRT-M", 2)])
    ret = returns.create_return({"order": order.id, "location": "IST-01",
                                 "items": [{"sku": "TSHIRT-M", "quantity": 2, "reason": "Too big"}]}, BOSS,
                                source="counter")
    assert _push_all() == []  # not refund-ready yet
    _inspect(ret, resellable=2)
    sim.fault("/admin/api/2024-01/orders/7001/refunds.json", "500", count=1)
    [push] = _push_all()
    assert (push.status, push.attempts) == ("pending", 1) and "500" in (push.last_error or "")
    status.run_push(push.id)
    db.session.expire_all()
    push = db.session.get(ChannelPush, push.id)
    assert push.status == "done", push.log
    [refund] = sim.state()["shopify"]["refunds"]
    assert refund["order_id"] == 7001 and ret.number in refund["note"]
    assert refund["refund_line_items"] == [{"line_item_id": 700101, "quantity": 2, "restock_type": "no_restock"}]
    assert refund["transactions"][0]["kind"] == "refund"


def test_a_refund_that_came_from_shopify_is_not_refunded_again(world, sim, live_server):
    _shipped_order(sim, live_server, "shop", [("TSHIRT-M", 1)])
    _refund_webhook(sim, live_server, shopify_refund(9100, 7001, [("TSHIRT-M", 1)]))
    [ret] = _returns()
    _inspect(ret, resellable=1)
    [push] = _push_all()
    assert push.status == "done" and "made in Shopify" in push.log[-1]["note"]
    assert sim.state()["shopify"]["refunds"] == []


def test_a_return_of_a_woocommerce_order_becomes_an_order_refund(world, sim, live_server):
    order = _shipped_order(sim, live_server, "woo", [("MUG", 1)])
    ret = returns.create_return({"order": order.id, "location": "IST-01", "items": [{"sku": "MUG", "quantity": 1}]},
                                BOSS)
    ret = _inspect(ret, resellable=0, damaged=1)
    assert ret.state == "written_off"
    [push] = _push_all()
    assert push.status == "done", push.log
    [refund] = sim.state()["woocommerce"]["refunds"]
    assert refund["order_id"] == 7001 and ret.number in refund["reason"]
    assert refund["line_items"] == [{"id": 700100, "quantity": 1, "refund_total": "149.50"}]
    assert refund["amount"] == "149.50"


def test_woocommerce_refunds_named_by_the_refunded_action_become_returns_once(world, sim, live_server):
    order = _shipped_order(sim, live_server, "woo", [("MUG", 1), ("TSHIRT-M", 2)])
    sim.add_woocommerce_refunds(7001, woocommerce_refund(55, 7001, [("TSHIRT-M", 1)]),
                                woocommerce_refund(56, 7001, [("MUG", 1)]))
    url = f"{live_server}/channels/woo/webhooks"
    for _time in range(2):  # WooCommerce fires the action again for the next refund: nothing twice
        answer = sim.send_webhook(url, "woocommerce", "action.woocommerce_order_refunded",
                                  woocommerce_refunded_action(7001))
        assert answer["status"] == 200, answer
        run_jobs()
    made = _returns()
    assert [(r.channel_ref, [(i.product.sku, i.quantity, i.reason) for i in r.items]) for r in made] == [
        ("refund:55", [("TSHIRT-M", 1, "Wrong colour")]), ("refund:56", [("MUG", 1, "Wrong colour")])]
    assert all(r.order_id == order.id and r.source == "channel" for r in made)
    assert [e.outcome for e in _entries("action.woocommerce_order_refunded")] == ["returned", "duplicate"]
    # Refund-ready: WooCommerce made the refund itself, so nothing is refunded twice.
    _inspect(made[0], resellable=1)
    [push] = _push_all()
    assert push.status == "done" and "made in WooCommerce" in push.log[-1]["note"]
    assert [r["id"] for r in sim.state()["woocommerce"]["refunds"]] == [55, 56]


WORKERS = 4


@pytest.fixture
def race_app(app):
    from app import create_app
    from app.config import TestConfig

    class RaceConfig(TestConfig):
        SQLALCHEMY_DATABASE_URI = app.config["SQLALCHEMY_DATABASE_URI"]
        REDIS_URL = app.config["REDIS_URL"]
        SQLALCHEMY_ENGINE_OPTIONS = {"pool_size": WORKERS, "max_overflow": 0, "pool_timeout": 60}

    other = create_app(RaceConfig)
    yield other
    with other.app_context():
        db.engine.dispose()


def test_workers_processing_deliveries_of_one_refund_at_once_make_one_return(world, sim, live_server, race_app):
    """Shopify delivers the same refund several times (new webhook ids) and several workers take
    them at the same instant: one return, the rest duplicates (the point on PostgreSQL)."""
    _shipped_order(sim, live_server, "shop", [("TSHIRT-M", 2)])
    for _time in range(WORKERS):
        answer = sim.send_webhook(f"{live_server}/channels/shop/webhooks", "shopify", "refunds/create",
                                  shopify_refund(9100, 7001, [("TSHIRT-M", 1)]))
        assert answer["status"] == 200
    entry_ids = [e.id for e in _entries("refunds/create")]
    assert len(entry_ids) == WORKERS
    barrier = threading.Barrier(WORKERS)

    def work(entry_id: int) -> str:
        with race_app.app_context():
            try:
                barrier.wait(timeout=30)
                return intake.process_entry(entry_id)
            finally:
                db.session.remove()

    with ThreadPoolExecutor(WORKERS) as pool:
        outcomes = sorted(pool.map(work, entry_ids))
    db.session.rollback()  # end this test's read snapshot (SQLite keeps it) to see what the workers did
    assert outcomes == ["duplicate"] * (WORKERS - 1) + ["returned"], outcomes
    [ret] = _returns()
    assert [(i.product.sku, i.quantity) for i in ret.items] == [("TSHIRT-M", 1)]
    assert {e.return_id for e in _entries("refunds/create")} == {ret.id}
