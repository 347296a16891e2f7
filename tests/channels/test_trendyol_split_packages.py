"""One Trendyol customer order (orderNumber) may come as several shipment packages, each with its
own package id and lines: each package becomes its own Packline order (the first keeps the
orderNumber, a later one is `<orderNumber>-<packageId>`), and pulling them again adds nothing."""

from __future__ import annotations

import time

from sqlalchemy import func, select

from app.channel_simulator.samples import trendyol_package
from app.extensions import db
from app.models import Channel, ChannelInboxEntry, ChannelPush, Order, Package
from app.services.actors import Actor
from app.services.channels import intake, mappings, pull, status
from app.services.db import committed
from app.services.packages import run_package_command
from tests.channels.conftest import run_jobs

BOSS = Actor.system("test")


def _pull() -> None:
    db.session.remove()
    pull.pull_channel(db.session.scalar(select(Channel.id).where(Channel.code == "ty")))
    run_jobs()


def _orders() -> dict[str, tuple[str, list[tuple[str, int]]]]:
    db.session.remove()
    return {o.number: (o.status, sorted((i.product.sku, i.quantity) for i in o.items))
            for o in db.session.scalars(select(Order))}


def test_two_packages_of_one_order_number_become_two_orders_and_a_repull_adds_none(world, sim):
    now = int(time.time() * 1000)
    sim.add_trendyol_packages(trendyol_package(3101, "TY-SPLIT", [("MUG", 1)], modified_ms=now - 2000),
                              trendyol_package(3102, "TY-SPLIT", [("TSHIRT-M", 2), ("MUG", 1)],
                                               modified_ms=now - 1000))
    _pull()
    assert _orders() == {"TY-SPLIT": ("planned", [("MUG", 1)]),
                         "TY-SPLIT-3102": ("planned", [("MUG", 1), ("TSHIRT-M", 2)])}
    assert set(db.session.scalars(select(ChannelInboxEntry.outcome))) == {"imported"}

    # both packages changed in Trendyol (a new lastModifiedDate): new inbox entries, no new order
    sim.add_trendyol_packages(trendyol_package(3101, "TY-SPLIT", [("MUG", 1)], modified_ms=now + 10),
                              trendyol_package(3102, "TY-SPLIT", [("TSHIRT-M", 2), ("MUG", 1)],
                                               modified_ms=now + 20))
    _pull()
    db.session.remove()
    assert db.session.scalar(select(func.count()).select_from(ChannelInboxEntry)) == 4
    assert db.session.scalar(select(func.count()).select_from(Order)) == 2
    later = list(db.session.scalars(select(ChannelInboxEntry).order_by(ChannelInboxEntry.id)))[2:]
    assert {e.outcome for e in later} <= {"duplicate", "updated"}, [(e.outcome, e.reason) for e in later]
    by_package = {e.channel_order_id: e.order_id for e in later}
    numbers = {pid: db.session.get(Order, oid).number for pid, oid in by_package.items()}
    assert numbers == {"3101": "TY-SPLIT", "3102": "TY-SPLIT-3102"}


def test_each_package_is_cancelled_and_reported_on_its_own(world, sim):
    now = int(time.time() * 1000)
    sim.add_trendyol_packages(trendyol_package(3201, "TY-TWO", [("MUG", 1)], modified_ms=now - 2000),
                              trendyol_package(3202, "TY-TWO", [("TSHIRT-M", 1)], modified_ms=now - 1000))
    _pull()
    # Trendyol cancels the second package only: only its order is cancelled
    sim.add_trendyol_packages(trendyol_package(3202, "TY-TWO", [("TSHIRT-M", 1)], status="Cancelled",
                                               modified_ms=now + 10))
    _pull()
    assert {n: s for n, (s, _) in _orders().items()} == {"TY-TWO": "planned", "TY-TWO-3202": "cancelled"}
    # shipping the first order tells Trendyol about the first package id, with its own line
    order = db.session.scalar(select(Order).where(Order.number == "TY-TWO"))
    package = db.session.scalar(select(Package).where(Package.order_id == order.id))
    run_package_command(package.id, "complete_packing_without_shipment", {}, BOSS)
    run_package_command(package.id, "ship_without_integration", {"cargo_company": "demo", "tracking_number": "TRK9"},
                        BOSS)
    status.scan()
    for push in db.session.scalars(select(ChannelPush).where(ChannelPush.status == "pending",
                                                             ChannelPush.order_id == order.id)):
        status.run_push(push.id)
    updates = sim.state()["trendyol"]["package_updates"]
    invoiced = [u for u in updates if u.get("status") == "Invoiced"]
    assert [(u["package_id"], u["lines"]) for u in invoiced] == [(3201, [{"lineId": 32010, "quantity": 1}])]


def test_a_package_that_waited_for_a_mapping_gets_its_own_number_when_reprocessed(world, sim):
    """The package imported first keeps the orderNumber, whichever Trendyol numbered first."""
    now = int(time.time() * 1000)
    sim.add_trendyol_packages(trendyol_package(3301, "TY-WAIT", [("NEW-SKU", 1)], modified_ms=now - 2000),
                              trendyol_package(3302, "TY-WAIT", [("MUG", 1)], modified_ms=now - 1000))
    _pull()
    waiting = db.session.scalar(select(ChannelInboxEntry).where(ChannelInboxEntry.channel_order_id == "3301"))
    assert waiting.outcome == "needs_attention" and "NEW-SKU" in waiting.reason
    assert list(_orders()) == ["TY-WAIT"]
    admin = Actor.system("test-admin")
    committed(mappings.set_mapping, "ty", {"kind": "sku", "channel_value": "NEW-SKU", "our_value": "TSHIRT-M"}, admin)
    entry_id = db.session.scalar(select(ChannelInboxEntry.id).where(ChannelInboxEntry.channel_order_id == "3301"))
    assert intake.reprocess(entry_id, admin) == "imported"
    run_jobs()
    assert _orders() == {"TY-WAIT": ("planned", [("MUG", 1)]), "TY-WAIT-3301": ("planned", [("TSHIRT-M", 1)])}


def test_two_packages_of_one_number_processed_at_the_same_instant_become_two_orders(world, sim, app):
    """Two workers, each taking one package of the same orderNumber at the very same moment: the
    second must not find the first's new order (not yet linked to its package) and take it."""
    import threading

    now = int(time.time() * 1000)
    pairs = 6
    sim.add_trendyol_packages(*[pkg for n in range(pairs) for pkg in (
        trendyol_package(4000 + 2 * n, f"TY-RACE{n}", [("MUG", 1)], modified_ms=now - 500 + n),
        trendyol_package(4001 + 2 * n, f"TY-RACE{n}", [("TSHIRT-M", 1)], modified_ms=now - 400 + n))])
    db.session.remove()
    pull.pull_channel(db.session.scalar(select(Channel.id).where(Channel.code == "ty")))
    entries = {e.channel_order_id: e.id for e in db.session.scalars(select(ChannelInboxEntry))}
    db.session.remove()
    errors: list[BaseException] = []

    def process(entry_id: int, barrier: threading.Barrier) -> None:
        with app.app_context():
            try:
                barrier.wait()
                intake.process_entry(entry_id)
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    for n in range(pairs):
        barrier = threading.Barrier(2)
        threads = [threading.Thread(target=process, args=(entries[str(4000 + 2 * n + k)], barrier)) for k in (0, 1)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    assert not errors, errors
    db.session.remove()
    linked = {e.channel_order_id: (e.outcome, e.order_id) for e in db.session.scalars(select(ChannelInboxEntry))}
    assert {outcome for outcome, _ in linked.values()} == {"imported"}, linked
    for n in range(pairs):
        first, second = linked[str(4000 + 2 * n)][1], linked[str(4001 + 2 * n)][1]
        assert first != second, f"both packages of TY-RACE{n} were linked to one order"
        numbers = {db.session.get(Order, first).number, db.session.get(Order, second).number}
        assert numbers in ({f"TY-RACE{n}", f"TY-RACE{n}-{4001 + 2 * n}"}, {f"TY-RACE{n}", f"TY-RACE{n}-{4000 + 2 * n}"})
    assert db.session.scalar(select(func.count()).select_from(Order)) == 2 * pairs
