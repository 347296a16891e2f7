"""Shopify and WooCommerce push their signed order webhooks; Packline checks the signature,
stores the delivery in the inbox, and a job turns it into a planned order."""

from __future__ import annotations

import json
import urllib.request

import pytest
from sqlalchemy import func, select

from app.channel_simulator.samples import shopify_order, woocommerce_order
from app.extensions import db
from app.models import ChannelInboxEntry, Order, Package
from app.services.actors import Actor
from app.services.channels import intake, mappings
from app.services.db import committed
from tests.channels.conftest import run_jobs

CONNECTORS = [
    ("shop", "shopify", "orders/create", "orders/cancelled", shopify_order),
    ("woo", "woocommerce", "order.created", "order.updated", woocommerce_order),
]


def _entries() -> list[ChannelInboxEntry]:
    db.session.expire_all()
    return list(db.session.scalars(select(ChannelInboxEntry).order_by(ChannelInboxEntry.id)))


def _orders() -> list[Order]:
    db.session.expire_all()
    return list(db.session.scalars(select(Order).order_by(Order.id)))


@pytest.mark.parametrize(("code", "kind", "create_topic", "_cancel", "sample"), CONNECTORS)
def test_a_signed_order_webhook_becomes_a_planned_order(world, sim, live_server, code, kind, create_topic, _cancel,
                                                        sample):
    answer = sim.send_webhook(f"{live_server}/channels/{code}/webhooks", kind, create_topic,
                              sample(5001, [("TSHIRT-M", 2)]))
    assert answer["status"] == 200, answer
    [entry] = _entries()
    assert (entry.outcome, entry.source, entry.channel_order_id) == ("pending", "push", "5001")
    assert json.loads(entry.body)["id"] == 5001
    run_jobs()
    [entry] = _entries()
    [order] = _orders()
    assert (entry.outcome, entry.order_id) == ("imported", order.id)
    assert order.number == "5001" and order.channel.code == code and order.ship_city == "Istanbul"
    assert order.status == "planned"
    [package] = db.session.scalars(select(Package).where(Package.order_id == order.id))
    assert package.state == "waiting" and package.location.code == "IST-01"


@pytest.mark.parametrize(("code", "kind", "create_topic", "_cancel", "sample"), CONNECTORS)
def test_a_bad_or_missing_signature_is_refused_and_nothing_is_stored(world, sim, live_server, code, kind,
                                                                     create_topic, _cancel, sample):
    url = f"{live_server}/channels/{code}/webhooks"
    wrong = sim.send_webhook(url, kind, create_topic, sample(5002, [("MUG", 1)]), secret="not-the-secret")
    assert wrong["status"] == 401 and "signature" in wrong["body"]
    empty = sim.send_webhook(url, kind, create_topic, sample(5002, [("MUG", 1)]), signature="")
    assert empty["status"] == 401
    assert _entries() == [] and _orders() == []


@pytest.mark.parametrize(("code", "kind", "create_topic", "_cancel", "sample"), CONNECTORS)
def test_a_replayed_delivery_and_a_second_webhook_for_the_same_order_make_one_order(
        world, sim, live_server, code, kind, create_topic, _cancel, sample):
    url = f"{live_server}/channels/{code}/webhooks"
    body = sample(5003, [("MUG", 1)])
    first = sim.send_webhook(url, kind, create_topic, body, delivery_id="d-1")
    replay = sim.send_webhook(url, kind, create_topic, body, delivery_id="d-1")
    assert first["status"] == replay["status"] == 200
    assert json.loads(replay["body"])["duplicate"] is True
    sim.send_webhook(url, kind, create_topic, body, delivery_id="d-2")  # the channel re-sent it under a new id
    run_jobs()
    assert [e.outcome for e in _entries()] == ["imported", "duplicate"]
    assert len(_orders()) == 1


@pytest.mark.parametrize(("code", "kind", "create_topic", "_cancel", "sample"), CONNECTORS)
def test_an_unknown_sku_waits_in_the_inbox_until_mapped_and_reprocessed(world, sim, live_server, code, kind,
                                                                        create_topic, _cancel, sample):
    answer = sim.send_webhook(f"{live_server}/channels/{code}/webhooks", kind, create_topic,
                              sample(5004, [("TS-M-RED", 1)]))
    assert answer["status"] == 200  # accepted, so the channel stops retrying
    run_jobs()
    [entry] = _entries()
    assert entry.outcome == "needs_attention" and "TS-M-RED" in entry.reason and _orders() == []
    admin = Actor.system("test-admin")
    committed(mappings.set_mapping, code, {"kind": "sku", "channel_value": "TS-M-RED", "our_value": "TSHIRT-M"},
              admin)
    assert intake.reprocess(entry.id, admin) == "imported"
    [order] = _orders()
    assert [(i.product.sku, i.quantity) for i in order.items] == [("TSHIRT-M", 1)]


@pytest.mark.parametrize(("code", "kind", "create_topic", "_cancel", "sample"), CONNECTORS)
def test_an_order_without_an_address_needs_attention(world, sim, live_server, code, kind, create_topic, _cancel,
                                                      sample):
    sim.send_webhook(f"{live_server}/channels/{code}/webhooks", kind, create_topic,
                     sample(5005, [("MUG", 1)], address=False))
    run_jobs()
    [entry] = _entries()
    assert entry.outcome == "needs_attention" and "address" in entry.reason
    assert _orders() == []


@pytest.mark.parametrize(("code", "kind", "create_topic", "cancel_topic", "sample"), CONNECTORS)
def test_a_cancellation_from_the_channel_cancels_the_unpacked_order(world, sim, live_server, code, kind,
                                                                    create_topic, cancel_topic, sample):
    url = f"{live_server}/channels/{code}/webhooks"
    sim.send_webhook(url, kind, create_topic, sample(5006, [("TSHIRT-M", 3)]))
    run_jobs()
    [order] = _orders()
    assert order.status == "planned"
    cancelled = sample(5006, [("TSHIRT-M", 3)], cancelled=True) if kind == "shopify" else \
        sample(5006, [("TSHIRT-M", 3)], status="cancelled")
    sim.send_webhook(url, kind, cancel_topic, cancelled)
    run_jobs()
    [order] = _orders()
    assert order.status == "cancelled", [(e.topic, e.outcome, e.reason) for e in _entries()]
    assert _entries()[-1].outcome == "updated"
    assert db.session.scalar(select(func.count()).select_from(Package).where(
        Package.order_id == order.id, Package.state != "cancelled")) == 0


def test_an_address_change_before_packing_updates_the_order(world, sim, live_server):
    url = f"{live_server}/channels/shop/webhooks"
    sim.send_webhook(url, "shopify", "orders/create", shopify_order(5007, [("MUG", 1)]))
    run_jobs()
    sim.send_webhook(url, "shopify", "orders/updated", shopify_order(5007, [("MUG", 1)], city="Ankara"))
    run_jobs()
    [order] = _orders()
    assert order.ship_city == "Ankara"
    assert _entries()[-1].outcome == "updated"


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_a_correctly_signed_body_that_is_not_json_is_kept_for_attention(world, sim, live_server):
    answer = sim.send_webhook(f"{live_server}/channels/shop/webhooks", "shopify", "orders/create", None,
                              raw_body="{not json")
    assert answer["status"] == 200
    [entry] = _entries()
    assert entry.outcome == "needs_attention" and "JSON" in entry.reason and entry.body == "{not json"


def test_a_ten_megabyte_body_is_refused_with_413_and_nothing_stored(world, live_server):
    status, body = _post(f"{live_server}/channels/shop/webhooks", b"x" * (10 * 1024 * 1024),
                         {"Content-Type": "application/json", "X-Shopify-Hmac-Sha256": "AAAA"})
    assert status == 413 and "larger" in body
    assert _entries() == []


def test_channels_that_take_no_webhooks_and_unknown_channels_answer_404(world, sim, live_server):
    for code in ("ty", "nope"):
        answer = sim.send_webhook(f"{live_server}/channels/{code}/webhooks", "shopify", "orders/create",
                                  shopify_order(1, [("MUG", 1)]))
        assert answer["status"] == 404, answer
    assert _entries() == []


def test_topics_packline_does_not_use_are_stored_as_ignored(world, sim, live_server):
    sim.send_webhook(f"{live_server}/channels/shop/webhooks", "shopify", "products/update", {"id": 1})
    [entry] = _entries()
    assert entry.outcome == "ignored"


def test_negative_or_missing_quantities_wait_for_attention_and_create_nothing(world, sim, live_server):
    body = shopify_order(5008, [("MUG", 1), ("TSHIRT-M", 1)])
    body["line_items"][1]["quantity"] = -2
    sim.send_webhook(f"{live_server}/channels/shop/webhooks", "shopify", "orders/create", body)
    run_jobs()
    [entry] = _entries()
    assert entry.outcome == "needs_attention" and "-2" in entry.reason
    assert _orders() == []


def test_too_many_webhooks_at_once_get_429_with_retry_after(world, sim, live_server, app):
    app.config["CHANNEL_WEBHOOK_RATE"] = 2
    try:
        answers = [sim.send_webhook(f"{live_server}/channels/shop/webhooks", "shopify", "orders/create",
                                    shopify_order(5100 + n, [("MUG", 1)]))["status"] for n in range(6)]
    finally:
        app.config.pop("CHANNEL_WEBHOOK_RATE")
    assert 429 in answers and answers.count(200) == len(_entries())
