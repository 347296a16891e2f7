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


def test_the_demo_shop_places_orders_that_arrive_planned(app, live_server):
    store = factories.location("IST-01")
    factories.cargo_company("demo")
    factories.channel("web")
    for sku in ("TSHIRT-M", "MUG"):
        factories.stock(store, factories.product(sku=sku), 100)
    db.session.commit()
    make_scenario(store)
    proc, sim = start_simulator("--place-orders", f"{live_server}/channels/web/webhooks", "--every", "0.3",
                                "--skus", "TSHIRT-M,MUG")
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
