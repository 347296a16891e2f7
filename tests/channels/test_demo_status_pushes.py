"""The demo brand's web shop: its seeded orders were made in Packline, not sent by the shop, so
shipping them tells the shop nothing and no failed channel update appears; an order the demo
shop (the simulator) placed is told as before, and the shop acknowledges it."""

from __future__ import annotations

import html
import time

from sqlalchemy import func, select

from app.extensions import db
from app.models import Channel, ChannelPush, Order, Package
from app.services.actors import Actor
from app.services.channels import status
from app.services.channels.demo import connect_demo_channel
from app.services.demo import seed_demo
from app.services.packages import run_package_command
from tests.channels.conftest import run_jobs, start_simulator
from tests.views.test_auth import login

BOSS = Actor.system("test")


def _push_all() -> list[ChannelPush]:
    status.scan()
    for push in db.session.scalars(select(ChannelPush).where(ChannelPush.status == "pending")):
        status.run_push(push.id)
    db.session.expire_all()
    return list(db.session.scalars(select(ChannelPush).order_by(ChannelPush.id)))


def test_shipping_the_demo_orders_gives_no_failed_channel_update(app, live_server, client):
    seed_demo()
    shipped_before = db.session.scalar(select(func.count(Package.id)).where(Package.state == "shipped"))
    assert shipped_before >= 1  # the demo seeds a shipped parcel: the scan looks at it
    proc, sim = start_simulator("--place-orders", f"{live_server}/channels/web/webhooks", "--every", "0.5",
                                "--skus", "TSHIRT-BLA-M,TSHIRT-BLA-L,HOODIE-BLA-M")
    try:
        assert connect_demo_channel("web", sim.url) is not None
        shop_order = _first_shop_order()
        # Ship a seeded demo order too, as a new user trying the store screens would, and the shop's.
        seeded = db.session.scalar(select(Package).join(Order).where(
            Order.number.like("DEMO-%"), Package.state == "packed").limit(1))
        assert seeded is not None
        for package in [seeded, *[p for p in shop_order.packages if p.state != "cancelled"]]:
            if package.state != "packed":
                run_package_command(package.id, "complete_packing_without_shipment", {}, BOSS)
            run_package_command(package.id, "ship_without_integration",
                                {"cargo_company": "demo", "tracking_number": f"TRK-{package.id}"}, BOSS)

        pushes = _push_all()  # the simulator is still the shop: it answers the update
    finally:
        proc.terminate()
        proc.wait(10)

    assert pushes and all(p.order_id == shop_order.id for p in pushes), [(p.order_id, p.status) for p in pushes]
    assert {p.status for p in pushes} == {"done"}, [(p.status, p.last_error) for p in pushes]
    assert db.session.scalar(select(func.count(ChannelPush.id)).where(ChannelPush.status == "failed")) == 0
    login(client, "admin", "packline-admin")
    page = html.unescape(client.get("/admin/integrations/web").get_data(as_text=True))
    assert "no payload" not in page and "Failed" not in page


def _first_shop_order() -> Order:
    deadline = time.time() + 30
    while time.time() < deadline:
        run_jobs()
        found = db.session.scalar(select(Order).join(Channel).where(
            Channel.code == "web", Order.status == "planned", Order.number.not_like("DEMO-%")).limit(1))
        if found is not None:
            return found
        time.sleep(0.3)
    raise AssertionError("the demo shop placed no order")
