"""A refund Packline asks a channel for (a return's refund-ready push) is told back by the channel
— Shopify sends `refunds/create` for every refund, WooCommerce lists it among the order's refunds
— and must not become a second return of units that are on the first one already; and a refund
is recognised as a return's own only by its exact note, not by a return whose number merely
starts the same ("…-R1" is not "…-R10")."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.channel_simulator.samples import shopify_refund, woocommerce_refund, woocommerce_refunded_action
from app.extensions import db
from app.models import ChannelPush
from app.models.base import iso, utcnow
from app.services import returns
from app.services.channels import status
from app.services.channels.base import made_by_packline, names_packline_return
from tests.channels.test_channel_returns import (
    BOSS,
    _entries,
    _inspect,
    _push_all,
    _refund_webhook,
    _returns,
    _shipped_order,
    run_jobs,
)


def test_shopify_telling_back_the_refund_packline_asked_for_makes_no_second_return(world, sim, live_server):
    order = _shipped_order(sim, live_server, "shop", [("TSHIRT-M", 2)])
    ret = returns.create_return({"order": order.id, "location": "IST-01",
                                 "items": [{"sku": "TSHIRT-M", "quantity": 1, "reason": "Too big"}]}, BOSS,
                                source="counter")
    ret_id = ret.id
    _inspect(ret, resellable=1)
    [push] = _push_all()
    assert push.status == "done", push.log
    [made] = sim.state()["shopify"]["refunds"]
    # Shopify's refunds/create for that refund: the Refund resource with Packline's note.
    _refund_webhook(sim, live_server, shopify_refund(made["id"], 7001, [("TSHIRT-M", 1)], note=made["note"],
                                                     line_ids=[700100]))
    assert [r.id for r in _returns()] == [ret_id]  # the customer kept the other unit: nothing is expected
    [entry] = _entries("refunds/create")
    assert entry.outcome == "ignored" and entry.return_id is None


def test_woocommerce_refunds_packline_made_are_not_returns_again(world, sim, live_server):
    order = _shipped_order(sim, live_server, "woo", [("MUG", 2)])
    ret = returns.create_return({"order": order.id, "location": "IST-01", "items": [{"sku": "MUG", "quantity": 1}]},
                                BOSS, source="counter")
    # The refund Packline's push created, as WooCommerce lists it (its line items carry the SKU).
    number = ret.number
    sim.add_woocommerce_refunds(7001, woocommerce_refund(60, 7001, [("MUG", 1)],
                                                         reason=f"Packline return {number}: Broken"),
                                woocommerce_refund(61, 7001, [("MUG", 1)], reason="Customer sent it back"))
    answer = sim.send_webhook(f"{live_server}/channels/woo/webhooks", "woocommerce",
                              "action.woocommerce_order_refunded", woocommerce_refunded_action(7001))
    assert answer["status"] == 200, answer
    run_jobs()
    made = _returns()
    assert [(r.channel_ref, r.source) for r in made] == [(None, "counter"), ("refund:61", "channel")]
    [entry] = _entries("action.woocommerce_order_refunded")
    assert entry.outcome == "returned"


def test_a_refund_of_return_r10_is_not_taken_for_return_r1s(world, sim, live_server):
    order = _shipped_order(sim, live_server, "woo", [("MUG", 2)])
    ret = returns.create_return({"order": order.id, "location": "IST-01", "items": [{"sku": "MUG", "quantity": 1}]},
                                BOSS, source="counter")
    number = ret.number
    sim.add_woocommerce_refunds(7001, woocommerce_refund(70, 7001, [("MUG", 1)],
                                                         reason=f"Packline return {number}0: Broken"))
    _inspect(ret, resellable=1)
    [push] = _push_all()
    assert push.status == "done", push.log
    assert "created in WooCommerce" in push.log[-1]["note"], push.log
    refunds = sim.state()["woocommerce"]["refunds"]
    assert [r["reason"] for r in refunds][1:] == [f"Packline return {number}"]


def test_packline_refund_names():
    assert names_packline_return("Packline return 1001-R1", "1001-R1")
    assert names_packline_return("Packline return 1001-R1: Broken", "1001-R1")
    assert not names_packline_return("Packline return 1001-R10", "1001-R1")
    assert not names_packline_return("Packline return 1001-R10: Broken", "1001-R1")
    assert not names_packline_return(None, "1001-R1")
    assert made_by_packline("Packline return 1001-R1") and not made_by_packline("Wrong colour")


def test_a_refund_push_attempted_elsewhere_is_not_sent_a_second_time_at_once(world, sim, live_server, app):
    """Two jobs of one push (the sweep's and a scheduled retry) at the same moment: the one that
    finds the push busy asks the channel nothing — both could look at the refunds before either
    made one, and the customer would be paid twice."""
    from app.queues import redis_connection

    order = _shipped_order(sim, live_server, "shop", [("TSHIRT-M", 1)])
    ret = returns.create_return({"order": order.id, "location": "IST-01", "items": [{"sku": "TSHIRT-M", "quantity": 1}]},
                                BOSS, source="counter")
    _inspect(ret, resellable=1)
    status.scan()
    [push_id] = db.session.scalars(select(ChannelPush.id).where(ChannelPush.kind == "refund")).all()
    other = redis_connection().lock(f"packline:channel-push:{push_id}", timeout=60, blocking=False)
    assert other.acquire()  # another worker is attempting it right now
    try:
        assert status.run_push(push_id)["status"] == "busy"
        assert sim.requests("/admin/api/2024-01/orders/7001/refunds", "POST") == []
    finally:
        other.release()
    assert status.run_push(push_id)["status"] == "done"
    assert len(sim.state()["shopify"]["refunds"]) == 1
    assert status.run_push(push_id)["status"] == "done"  # a late duplicate job: nothing more
    assert len(sim.state()["shopify"]["refunds"]) == 1


def test_the_sweep_leaves_a_push_waiting_for_its_scheduled_retry(world, sim, live_server, app):
    """A transient failure schedules the next attempt after the backoff (10 minutes, or the
    channel's Retry-After); the sweep for lost jobs must not send it again two minutes later."""
    app.config["CHANNEL_RETRY_INTERVALS"] = [600, 600]
    order = _shipped_order(sim, live_server, "shop", [("TSHIRT-M", 1)])
    ret = returns.create_return({"order": order.id, "location": "IST-01", "items": [{"sku": "TSHIRT-M", "quantity": 1}]},
                                BOSS, source="counter")
    _inspect(ret, resellable=1)
    sim.fault("/admin/api/2024-01/orders/7001/refunds.json", "500", count=1)
    status.scan()
    [push_id] = db.session.scalars(select(ChannelPush.id).where(ChannelPush.kind == "refund")).all()
    assert status.run_push(push_id)["retry_in"] == 600
    three_minutes_ago = utcnow() - timedelta(minutes=3)
    db.session.execute(update(ChannelPush).where(ChannelPush.id == push_id).values(updated_at=three_minutes_ago))
    db.session.commit()
    assert status.stale_pending() == []  # its retry is due in ~7 minutes
    log = db.session.get(ChannelPush, push_id).log
    db.session.execute(update(ChannelPush).where(ChannelPush.id == push_id).values(
        log=[{**log[-1], "retry_at": iso(utcnow() - timedelta(minutes=5))}], updated_at=three_minutes_ago))
    db.session.commit()
    assert status.stale_pending() == [push_id]  # that job was lost: the sweep sends it


@pytest.mark.parametrize("arg", ["²", "9" * 5000])
def test_a_refunded_action_naming_no_usable_order_id_is_failed_not_stuck(world, sim, live_server, arg):
    answer = sim.send_webhook(f"{live_server}/channels/woo/webhooks", "woocommerce",
                              "action.woocommerce_order_refunded", {"action": "woocommerce_order_refunded", "arg": arg})
    assert answer["status"] == 200, answer
    run_jobs()
    [entry] = _entries("action.woocommerce_order_refunded")
    assert entry.outcome == "failed" and "no numeric arg" in entry.reason
    assert _returns() == []
