"""Inventory out: every stock change ends with the channel holding available-to-promise
(Σ available at its locations − safety stock, never below 0) within the sync window."""

from __future__ import annotations

import time

from sqlalchemy import select

from app.extensions import db
from app.models import Channel, ChannelStockSync, Order, Product, StockLocation
from app.services.actors import Actor
from app.services.channels import inventory
from app.services.db import committed
from app.services.planning import plan_order
from app.services.stock_levels import set_stock_levels
from app.tasks.channels import sync_stock
from tests import factories
from tests.services.builders import make_order

ADMIN = Actor.system("test")


def _set(location: str, sku: str, quantity: int) -> None:
    committed(set_stock_levels, [{"location": location, "sku": sku, "quantity": quantity}], ADMIN)


def _configure(code: str, **changes) -> None:
    channel = db.session.scalar(select(Channel).where(Channel.code == code))
    channel.config = {**channel.config, **changes}
    db.session.commit()


def test_a_stock_change_reaches_every_channel_as_available_to_promise_within_the_window(world, sim):
    factories.location("ANK-01", city="Ankara")
    db.session.commit()
    _configure("shop", locations=["IST-01", "ANK-01"], safety_stock=2)
    _configure("woo", locations=["IST-01"])
    inventory.sync_changes()  # the first run only sets the cursor
    changed_at = time.monotonic()
    _set("IST-01", "TSHIRT-M", 7)
    _set("ANK-01", "TSHIRT-M", 4)
    _set("IST-01", "MUG", 1)
    sync_stock()  # what the periodic job runs every CHANNEL_SYNC_SECONDS / 2
    assert time.monotonic() - changed_at < 10
    state = sim.state()
    assert state["shopify"]["stock"] == {"TSHIRT-M": 7 + 4 - 2, "MUG": 0}  # 1 - 2 is never below 0
    assert state["woocommerce"]["stock"] == {"TSHIRT-M": 7, "MUG": 1}
    assert state["trendyol"]["stock"] == {"TSHIRT-M": 11, "MUG": 1}
    # many changes of one SKU coalesce into one call per SKU
    assert len(sim.requests("/admin/api/2024-01/inventory_levels/set.json")) == 2
    db.session.expire_all()
    rows = db.session.scalars(select(ChannelStockSync)).all()
    assert len(rows) == 6 and all(r.pushed_at and r.delay_ms is not None and r.error is None for r in rows)


def test_nothing_is_pushed_again_when_the_quantity_did_not_change(world, sim):
    inventory.sync_changes()
    _set("IST-01", "MUG", 3)
    sync_stock()
    before = len(sim.requests("/integration/inventory/"))
    _set("IST-01", "MUG", 4)
    _set("IST-01", "MUG", 3)  # back to what the channels hold
    sync_stock()
    assert len(sim.requests("/integration/inventory/")) == before


def test_a_channel_that_fails_keeps_the_skus_for_the_next_run(world, sim):
    inventory.sync_changes()
    sim.fault("/integration/inventory/", "500", count=1)
    _set("IST-01", "MUG", 2)
    sync_stock()
    db.session.expire_all()
    ty = db.session.scalar(select(Channel.id).where(Channel.code == "ty"))
    failed = db.session.scalar(select(ChannelStockSync).where(ChannelStockSync.channel_id == ty))
    assert failed.error and "500" in failed.error
    failed_id = failed.id
    assert sim.state()["trendyol"]["stock"]["MUG"] == 0
    sync_stock()  # no new change: the failed SKU is pushed again
    assert sim.state()["trendyol"]["stock"]["MUG"] == 2
    db.session.expire_all()
    assert db.session.get(ChannelStockSync, failed_id).error is None


def test_reservations_from_orders_count_and_the_nightly_resync_pushes_everything(world, sim):
    inventory.sync_changes()
    make_order([("TSHIRT-M", 3)], channel="shop")
    plan_order(db.session.scalar(select(Order.id)))
    sync_stock()
    assert sim.state()["woocommerce"]["stock"]["TSHIRT-M"] == 7
    report = inventory.full_resync()
    assert report["woo"]["pushed"] == 2 and sim.state()["woocommerce"]["stock"] == {"TSHIRT-M": 7, "MUG": 5}
    assert db.session.scalar(select(Product.id).where(Product.sku == "MUG"))
    assert db.session.scalar(select(StockLocation.code)) == "IST-01"


def test_a_channel_that_times_out_gets_the_skus_again_on_the_next_run(world, sim):
    _configure("woo", timeout_seconds=1)
    inventory.sync_changes()
    sim.fault("/wp-json/wc/v3/products", "timeout", count=1, delay=3)
    _set("IST-01", "MUG", 4)
    sync_stock()
    db.session.expire_all()
    woo = db.session.scalar(select(Channel.id).where(Channel.code == "woo"))
    row = db.session.scalar(select(ChannelStockSync).where(ChannelStockSync.channel_id == woo))
    assert row.error and "WooCommerce" in row.error
    sync_stock()
    assert sim.state()["woocommerce"]["stock"]["MUG"] == 4


def test_connecting_a_shop_sends_it_every_sku(app, sim, client):
    from tests.api.test_master_data_api import auth
    from tests.channels.conftest import run_jobs, woo_config

    store = factories.location("IST-01")
    factories.stock(store, factories.product(sku="MUG"), 6)
    db.session.commit()
    sim.catalog("MUG")
    admin = auth("admin")
    made = client.post("/api/v1/channels", headers=admin, json={
        "code": "woo", "name": "Woo", "adapter": "woocommerce", "config": woo_config(sim)})
    assert made.status_code == 201, made.get_json()
    run_jobs("channels")
    assert sim.state()["woocommerce"]["stock"] == {"MUG": 6}
