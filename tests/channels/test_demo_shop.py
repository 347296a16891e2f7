"""The demo shop: the simulator started with --place-orders sends signed Shopify orders to the
demo channel, which `connect_demo_channel` pointed at it; they become planned orders."""

from __future__ import annotations

import time

from sqlalchemy import func, select

from app.extensions import db
from app.models import Channel, Order
from app.services.channels.demo import connect_demo_channel
from tests import factories
from tests.channels.conftest import run_jobs, start_simulator
from tests.services.builders import make_scenario


def a_store_and_a_shop_placing_orders(live_server: str, every: str):
    """IST-01 with 100 of TSHIRT-M and MUG, planned there, and a simulated shop placing an
    order of them every `every` seconds on the `web` channel."""
    store = factories.location("IST-01")
    factories.cargo_company("demo")
    factories.channel("web")
    for sku in ("TSHIRT-M", "MUG"):
        factories.stock(store, factories.product(sku=sku), 100)
    db.session.commit()
    make_scenario(store)
    return start_simulator("--place-orders", f"{live_server}/channels/web/webhooks", "--every", every,
                           "--skus", "TSHIRT-M,MUG")


def test_the_demo_shop_places_orders_that_arrive_planned(app, live_server):
    proc, sim = a_store_and_a_shop_placing_orders(live_server, every="0.3")
    try:
        assert connect_demo_channel("web", sim.url) is not None
        deadline = time.time() + 20
        while time.time() < deadline:
            run_jobs()
            if db.session.scalar(select(func.count()).select_from(Order).where(Order.status == "planned")) >= 2:
                break
            time.sleep(0.3)
        else:
            raise AssertionError("no demo orders arrived")
    finally:
        proc.terminate()
        proc.wait(10)


def test_make_run_connects_only_the_demo_brand_to_the_demo_shop(app):
    """`flask demo-shop` (make run): a brand's own `web` channel is never turned into the demo
    shop; the demo brand's is, and one connected to a real shop is left alone."""
    from app.services.channels.demo import connect_demo_shop

    own = factories.location("IST-01")
    factories.channel("web")
    factories.stock(own, factories.product(sku="MUG"), 10)
    db.session.commit()
    assert connect_demo_shop("web", "http://127.0.0.1:9") == []
    channel = db.session.scalar(select(Channel).where(Channel.code == "web"))
    assert channel.adapter in (None, "api") and not channel.config

    demo = factories.location("IST-KDK")
    demo.tags = ["demo"]
    factories.stock(demo, factories.product(sku="TSHIRT-M"), 5)
    db.session.commit()
    assert connect_demo_shop("web", "http://127.0.0.1:9") == ["TSHIRT-M"]  # only the demo's stock
    db.session.refresh(channel)
    assert channel.adapter == "shopify" and channel.config["base_url"] == "http://127.0.0.1:9"

    channel.config = {**channel.config, "base_url": "https://brand.myshopify.com"}
    db.session.commit()
    assert connect_demo_shop("web", "http://127.0.0.1:10") == []
    db.session.refresh(channel)
    assert channel.config["base_url"] == "https://brand.myshopify.com"


def _wait_for(condition, seconds: float = 20):
    deadline = time.time() + seconds
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("the demo shop did not get there in time")


def test_the_demo_shop_never_orders_what_it_was_told_is_out_of_stock(app, live_server):
    """Packline pushes MUG 0 to the demo shop: from then on its orders hold only TSHIRT-M, and once
    both are 0 it places none until a SKU is back, and then no more of it than it was told."""
    from app.services.actors import Actor
    from app.services.channels import inventory
    from app.services.db import committed
    from app.services.stock_levels import set_stock_levels
    from app.tasks.channels import sync_stock

    def set_level(sku: str, quantity: int) -> None:
        committed(set_stock_levels, [{"location": "IST-01", "sku": sku, "quantity": quantity}], Actor.system("test"))

    proc, sim = a_store_and_a_shop_placing_orders(live_server, every="0.1")
    try:
        connect_demo_channel("web", sim.url)
        inventory.sync_changes()  # the first run only sets the cursor
        set_level("MUG", 0)
        set_level("TSHIRT-M", 50)
        sync_stock()
        assert sim.state()["shopify"]["stock"]["MUG"] == 0  # (TSHIRT-M's already sells)
        told = len(sim.state()["shopify"]["demo_orders"])
        _wait_for(lambda: len(sim.state()["shopify"]["demo_orders"]) >= told + 8)
        after = sim.state()["shopify"]["demo_orders"][told:]
        assert all(sku == "TSHIRT-M" for lines in after for sku, _ in lines), after

        set_level("TSHIRT-M", 0)
        sync_stock()
        told = len(sim.state()["shopify"]["demo_orders"])
        time.sleep(1.5)  # some fifteen rounds
        assert sim.state()["shopify"]["demo_orders"][told:] == []

        set_level("MUG", 3)
        sync_stock()
        _wait_for(lambda: sim.state()["shopify"]["stock"]["MUG"] == 0)  # it sold what it was told it had
        time.sleep(0.5)
        after = sim.state()["shopify"]["demo_orders"][told:]
        assert after and all(sku == "MUG" for lines in after for sku, _ in lines)
        assert sum(quantity for lines in after for _, quantity in lines) == 3
    finally:
        proc.terminate()
        proc.wait(10)
