"""Trendyol has no order webhooks: a periodic job walks its shipment package list page by page
from a stored cursor; polls running at once on two workers import every package once."""

from __future__ import annotations

import time

from sqlalchemy import func, select

from app.channel_simulator.samples import trendyol_package
from app.extensions import db
from app.models import Channel, ChannelCursor, ChannelInboxEntry, Order
from app.services.channels import pull
from tests.channels.conftest import run_jobs
from tests.threads import at_once


def _ty() -> int:
    return db.session.scalar(select(Channel.id).where(Channel.code == "ty"))


def _count(model) -> int:
    db.session.remove()
    return db.session.scalar(select(func.count()).select_from(model))


def test_pull_walks_every_page_and_moves_the_cursor(world, sim):
    now = int(time.time() * 1000)
    sim.add_trendyol_packages(*[trendyol_package(100 + n, f"TY-{n}", [("MUG", 1)], modified_ms=now - 5000 + n)
                                for n in range(450)])
    report = pull.pull_channel(_ty())
    assert report["fetched"] == 450 and report["stored"] == 450
    pages = [r["query"]["page"] for r in sim.requests("/integration/order/sellers/12345/orders")
             if r["query"]["status"] == ["Created"]]
    assert pages == [["0"], ["1"], ["2"]]  # 200 per page
    cursor = db.session.get(ChannelCursor, pull.cursor_key(_ty()))
    assert int(cursor.value) == now - 5000 + 449
    # the next poll asks from the cursor on, and stores nothing it already has
    again = pull.pull_channel(_ty())
    assert again["stored"] == 0
    last = sim.requests("/integration/order/sellers/12345/orders")[-1]
    assert last["query"]["startDate"] == [str(now - 5000 + 449)]
    sim.add_trendyol_packages(trendyol_package(999, "TY-NEW", [("MUG", 1)], modified_ms=now + 10))
    assert pull.pull_channel(_ty())["stored"] == 1


def test_a_pulled_package_becomes_a_planned_order_and_its_cancellation_cancels_it(world, sim):
    now = int(time.time() * 1000)
    sim.add_trendyol_packages(trendyol_package(501, "TY-501", [("TSHIRT-M", 2)], modified_ms=now - 1000))
    pull.pull_channel(_ty())
    run_jobs()
    order = db.session.scalar(select(Order))
    assert (order.number, order.status) == ("TY-501", "planned")
    sim.add_trendyol_packages(trendyol_package(501, "TY-501", [("TSHIRT-M", 2)], status="Cancelled",
                                               modified_ms=now + 1))
    pull.pull_channel(_ty())
    run_jobs()
    assert db.session.scalar(select(Order.status)) == "cancelled"


def test_two_workers_polling_at_once_import_each_package_once(world, sim, app):
    now = int(time.time() * 1000)
    sim.add_trendyol_packages(*[trendyol_package(700 + n, f"TY-C{n}", [("MUG", 1)], modified_ms=now - 100 + n)
                                for n in range(30)])
    channel_id = _ty()
    db.session.remove()
    def poll() -> None:
        pull.pull_channel(channel_id, lock=False)  # no Redis lock: the database alone must hold

    _, errors = at_once(app, [poll, poll])
    assert not errors, errors
    assert _count(ChannelInboxEntry) == 30
    # both workers also process: every entry twice at once
    entry_ids = list(db.session.scalars(select(ChannelInboxEntry.id)))
    db.session.remove()
    from app.services.channels import intake

    def process(ids: list[int]) -> None:
        for entry_id in ids:
            intake.process_entry(entry_id)

    _, errors = at_once(app, [lambda: process(entry_ids), lambda: process(entry_ids[::-1])], timeout=120)
    assert not errors, errors
    assert _count(Order) == 30
    assert set(db.session.scalars(select(ChannelInboxEntry.outcome))) == {"imported"}


def test_a_channel_answering_500_or_garbage_stores_nothing_and_keeps_the_cursor(world, sim):
    sim.add_trendyol_packages(trendyol_package(801, "TY-801", [("MUG", 1)]))
    for mode in ("500", "garbage"):
        sim.fault("/integration/order/", mode, count=1)
        try:
            pull.pull_channel(_ty())
        except Exception as exc:  # noqa: BLE001
            assert "Trendyol" in str(exc)
        else:
            raise AssertionError("the failure was not reported")
        assert _count(ChannelInboxEntry) == 0 and _count(ChannelCursor) == 0
    assert pull.pull_channel(_ty())["stored"] == 1
