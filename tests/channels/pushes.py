"""Shared setup of the status-back tests: an order from a channel (through the simulator), shipped,
its channel updates pushed, and a WooCommerce update failed on the shop's HTTP 500."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import select

from app.channel_simulator.samples import shopify_order, trendyol_package, woocommerce_order
from app.extensions import db
from app.models import ChannelPush, Order, Package
from app.services.actors import Actor
from app.services.channels import intake, pull, status
from app.services.packages import run_package_command
from tests.channels.conftest import run_jobs

BOSS = Actor.system("test")


def order_from(sim, live_server, code: str) -> Order:
    """A planned order of one MUG from channel `code` (shop, woo or ty), as the channel sends it."""
    if code == "ty":
        sim.add_trendyol_packages(trendyol_package(9001, "TY-9001", [("MUG", 1)]))
        db.session.remove()
        from app.models import Channel

        pull.pull_channel(db.session.scalar(select(Channel.id).where(Channel.code == "ty")))
    elif code == "shop":
        sim.send_webhook(f"{live_server}/channels/shop/webhooks", "shopify", "orders/create",
                         shopify_order(7001, [("MUG", 1)]))
    else:
        sim.send_webhook(f"{live_server}/channels/woo/webhooks", "woocommerce", "order.created",
                         woocommerce_order(7001, [("MUG", 1)]))
    run_jobs()
    order = db.session.scalar(select(Order))
    assert order is not None and order.status == "planned", [(e.outcome, e.reason) for e in
                                                             db.session.scalars(select(intake.ChannelInboxEntry))]
    return order


def ship(order: Order) -> Package:
    package = db.session.scalar(select(Package).where(Package.order_id == order.id))
    run_package_command(package.id, "complete_packing_without_shipment", {}, BOSS)
    run_package_command(package.id, "ship_without_integration", {
        "cargo_company": "demo", "tracking_number": "TRK123456", "tracking_url": "https://track.example/TRK123456"},
        BOSS)
    return package


def push_all() -> list[ChannelPush]:
    status.scan()
    for push in db.session.scalars(select(ChannelPush).where(ChannelPush.status == "pending")):
        status.run_push(push.id)
    db.session.expire_all()
    return list(db.session.scalars(select(ChannelPush).order_by(ChannelPush.id)))


@contextmanager
def retry_intervals(app, intervals: list[float]) -> Iterator[None]:
    """CHANNEL_RETRY_INTERVALS for the block (an empty list: a failure is final at once)."""
    app.config["CHANNEL_RETRY_INTERVALS"] = intervals
    try:
        yield
    finally:
        app.config.pop("CHANNEL_RETRY_INTERVALS", None)


def failed_woo_push(sim, live_server, app) -> tuple[int, ChannelPush]:
    """(order id, push) of a shipped WooCommerce order whose update failed on one HTTP 500, no retries."""
    with retry_intervals(app, []):
        order = order_from(sim, live_server, "woo")
        ship(order)
        sim.fault("/wp-json/wc/v3/orders/", "500", count=1)
        [push] = push_all()
        return order.id, push
