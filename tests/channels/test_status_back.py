"""Status back: a shipped, delivered or cancelled package of a connected channel's order is told
to the channel in its own terms, idempotently, retried through 429s and 500s, logged per attempt."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import ChannelPush, Package
from app.services.channels import status
from app.services.orders import cancel_order
from app.services.packages import run_package_command
from tests.channels.conftest import run_jobs
from tests.channels.pushes import BOSS, failed_woo_push, retry_intervals
from tests.channels.pushes import order_from as _order_from
from tests.channels.pushes import push_all as _push_all
from tests.channels.pushes import ship as _ship


def test_shopify_receives_the_fulfillment_with_the_tracking_number_once(world, sim, live_server):
    order = _order_from(sim, live_server, "shop")
    _ship(order)
    [push] = _push_all()
    assert (push.kind, push.status, push.attempts) == ("shipped", "done", 1)
    [fulfillment] = sim.state()["shopify"]["fulfillments"]
    assert fulfillment["order_id"] == 7001 and fulfillment["tracking_number"] == "TRK123456"
    assert fulfillment["tracking_url"] == "https://track.example/TRK123456"
    assert len(_push_all()) == 1  # scanning again creates nothing
    assert len(sim.state()["shopify"]["fulfillments"]) == 1


def test_woocommerce_order_is_completed_with_tracking_meta(world, sim, live_server):
    order = _order_from(sim, live_server, "woo")
    _ship(order)
    [push] = _push_all()
    assert push.status == "done"
    [update] = sim.state()["woocommerce"]["order_updates"]
    assert update["id"] == 7001 and update["status"] == "completed"
    assert {"key": "_tracking_number", "value": "TRK123456"} in update["meta_data"]


def test_trendyol_package_is_invoiced_with_its_line_ids(world, sim, live_server):
    order = _order_from(sim, live_server, "ty")
    _ship(order)
    [push] = _push_all()
    assert push.status == "done", push.log
    [update] = sim.state()["trendyol"]["package_updates"]
    assert update["package_id"] == 9001 and update["status"] == "Invoiced"
    assert update["lines"] == [{"lineId": 90010, "quantity": 1}]


def test_a_429_is_retried_after_retry_after_and_then_succeeds(world, sim, live_server, app):
    with retry_intervals(app, [0, 0]):
        order = _order_from(sim, live_server, "shop")
        _ship(order)
        sim.fault("/admin/api/2024-01/orders/", "429", count=1, retry_after=1)
        status.scan()
        push = db.session.scalar(select(ChannelPush))
        first = status.run_push(push.id)
        assert first == {"status": "pending", "retry_in": 1.0}
        time.sleep(first["retry_in"])
        assert status.run_push(push.id)["status"] == "done"
    db.session.expire_all()
    push = db.session.get(ChannelPush, push.id)
    assert [entry["status_code"] for entry in push.log] == [429, None]
    assert push.log[0]["retry_after"] == 1.0 and push.attempts == 2
    assert len(sim.state()["shopify"]["fulfillments"]) == 1


@pytest.mark.parametrize("mode", ["500", "garbage"])
def test_failures_that_outlast_the_retries_are_listed_and_can_be_retried(world, sim, live_server, app, mode):
    with retry_intervals(app, [0]):
        order = _order_from(sim, live_server, "woo")
        _ship(order)
        sim.fault("/wp-json/wc/v3/orders/", mode, count=2)
        status.scan()
        push = db.session.scalar(select(ChannelPush))
        assert status.run_push(push.id)["status"] == "pending"
        assert status.run_push(push.id)["status"] == "failed"
        db.session.expire_all()
        push = db.session.get(ChannelPush, push.id)
        assert push.last_error and push.attempts == 2
        status.retry(push.id, BOSS)
        assert status.run_push(push.id)["status"] == "done"


def test_a_cancelled_order_is_cancelled_in_shopify(world, sim, live_server):
    order = _order_from(sim, live_server, "shop")
    cancel_order(order.id, {}, BOSS)
    [push] = _push_all()
    assert (push.kind, push.status) == ("cancelled", "done")
    assert sim.state()["shopify"]["cancelled"] == [7001]


def test_trendyol_common_label_is_fetched_for_a_tracking_number(world, sim):
    from app.services.channels import ChannelError
    from app.services.channels.labels import fetch_channel_label

    fmt, label = fetch_channel_label("ty", "7330000009001")
    assert fmt == "ZPL" and "7330000009001" in label and label.startswith("^XA")
    try:
        fetch_channel_label("shop", "X")
    except ChannelError as exc:
        assert not exc.transient
    else:
        raise AssertionError("Shopify prints no labels")


def test_the_supervisor_order_page_lists_every_attempt_and_retries_a_failed_one(world, sim, live_server, app, client):
    from tests.channels.test_admin_screens import sign_in

    order_id, push = failed_woo_push(sim, live_server, app)
    assert push.status == "failed"
    push_id = push.id
    sign_in(client, "supervisor")
    page = client.get(f"/supervisor/orders/{order_id}/").get_data(as_text=True)
    assert "Told to the sales channel" in page and "Try again" in page and "500" in page
    answer = client.post(f"/admin/integrations/pushes/{push_id}/retry",
                         data={"next": f"/supervisor/orders/{order_id}/"})
    assert answer.status_code == 303
    run_jobs("channels")
    assert db.session.get(ChannelPush, push_id).status == "done"


def test_packing_a_trendyol_package_without_a_scan_fetches_trendyols_label(world, sim, live_server):
    from app.models import Shipment

    order = _order_from(sim, live_server, "ty")
    package = db.session.scalar(select(Package).where(Package.order_id == order.id))
    run_package_command(package.id, "complete_packing_channel", {}, BOSS)
    run_jobs("carriers")
    shipment = db.session.scalar(select(Shipment))
    assert shipment.status == "label_ready" and shipment.tracking_number == str(7330000000000 + 9001)
    assert shipment.label_zpl.startswith("^XA") and shipment.tracking_number in shipment.label_zpl


def test_a_package_shipped_after_an_earlier_scan_is_found_by_the_next_one(world, sim, live_server):
    order = _order_from(sim, live_server, "shop")
    assert status.scan() == []  # nothing shipped yet; the scan remembers when it looked
    _ship(order)
    [push] = _push_all()
    assert (push.kind, push.status) == ("shipped", "done")
