"""Planning one order as it arrives (services/planning/realtime.py): it writes exactly what batch
planning writes, sees configuration changes made by other processes at once, and stays within
a statement budget (SPEC §12)."""

from __future__ import annotations

import itertools
import multiprocessing
from contextlib import contextmanager

from sqlalchemy import event, select

from app.extensions import db
from app.models import (
    Order,
    OutboxEvent,
    Package,
    PackageItem,
    PlanningTrace,
    Reservation,
    Scenario,
    Stock,
    StockLedger,
    Transfer,
    TransferItem,
    TransitionLog,
)
from app.services import config_cache
from app.services.planning import plan_order_status
from app.services.planning.batch import plan_batch
from app.services.settings import put_setting
from tests import factories
from tests.conftest import _empty_all_tables
from tests.services.planning import network
from tests.services.planning.network import order, placement, scenario, site

TIMES = ("created_at", "updated_at", "occurred_at", "state_changed_at", "published_at")


def _clean(data):
    if isinstance(data, dict):
        return {k: _clean(v) for k, v in data.items() if k not in TIMES}
    if isinstance(data, list):
        return [_clean(v) for v in data]
    return data


def _network() -> dict:
    """Orders that take every path: one store, a split, a transfer, out of stock, on hold
    (ORDER_FILTERING), no scenario (another channel), and a click & collect order. Order
    numbers start at WEB-1 each time, so two builds are identical."""
    network._numbers = itertools.count(1)
    kdk = site("KDK", 40.99, 29.03, is_transfer_source=False, name="Kadikoy")
    bsk = site("BSK", 41.04, 29.00, is_transfer_source=False, name="Besiktas")
    wh = site("WH", 40.81, 29.30, type="warehouse", is_packaging_center=False, name="Warehouse")
    shirt, jeans, hat, scarf, none = (factories.product(sku, barcode=f"869{n:010d}", name=sku.title())
                                      for n, sku in enumerate(("SHIRT", "JEANS", "HAT", "SCARF", "NONE")))
    factories.stock(kdk, shirt, 5)
    factories.stock(bsk, jeans, 2)
    factories.stock(wh, hat, 9)
    factories.stock(kdk, scarf, 1)
    factories.stock(bsk, scarf, 1)
    scenario(wh, [{"location_type": "store"},
                  {"location_type": "store", "allow_split": True, "max_packages": 2},
                  {"location_type": "store", "transferable": True, "transfer_sources": ["WH"]}],
             conditions={"channels": ["web"]})
    put_setting("ORDER_FILTERING", {"accepted_statuses": ["approved"]})
    put_setting("REQUIRE_SCAN_TO_PACK", True)
    ids = [
        order([(shirt, 2)]).id,
        order([(shirt, 1), (jeans, 1)]).id,  # split over KDK and BSK
        order([(shirt, 1), (hat, 2)]).id,  # KDK, the hats transferred from WH
        order([(none, 1)]).id,  # out of stock at WH
        order([(shirt, 1)], status="awaiting_payment").id,  # on hold
        order([(jeans, 1)], channel_code="mkt").id,  # no scenario matches
        order([(scarf, 2)]).id,  # one scarf in each store: split
        order([(shirt, 1)], delivery_type="click_and_collect", pickup=bsk).id,  # packed at BSK via transfer
    ]
    db.session.commit()
    return {"ids": ids, "jeans": jeans, "wh": wh}


def _second_round(net: dict) -> None:
    """A scenario for the other channel now exists: the order no scenario matched is planned
    again (a re-plan: its trace says so)."""
    scenario(net["wh"], [{"location_type": "store"}], name="Marketplace", priority=20,
             conditions={"channels": ["mkt"]})
    db.session.commit()


def _written() -> dict:
    """Everything planning wrote, without ids that only differ by allocation order, and
    without times."""
    db.session.rollback()
    s = db.session
    number = {p.id: p.number for p in s.scalars(select(Package))}
    item_key = {i.id: (number[i.package_id], i.order_item_id) for i in s.scalars(select(PackageItem))}
    transfer_number = {t.id: t.number for t in s.scalars(select(Transfer))}
    ti_key = {t.id: (transfer_number[t.transfer_id], t.product_id) for t in s.scalars(select(TransferItem))}
    return {
        "orders": sorted((o.id, o.status) for o in s.scalars(select(Order))),
        "packages": sorted((p.number, p.order_id, p.location_id, p.state, p.version, p.planning_trace_id is not None)
                           for p in s.scalars(select(Package))),
        "items": sorted((*item_key[i.id], i.product_id, i.quantity, i.state) for i in s.scalars(select(PackageItem))),
        "transfers": sorted((t.number, number[t.package_id], t.source_id, t.destination_id, t.state)
                            for t in s.scalars(select(Transfer))),
        "transfer_items": sorted((*ti_key[t.id], t.quantity) for t in s.scalars(select(TransferItem))),
        "reservations": sorted((r.location_id, r.product_id, r.quantity, item_key.get(r.package_item_id),
                                ti_key.get(r.transfer_item_id)) for r in s.scalars(select(Reservation))),
        "stock": sorted((r.location_id, r.product_id, r.on_hand, r.reserved) for r in s.scalars(select(Stock))),
        "ledger": sorted((r.location_id, r.product_id, r.on_hand_delta, r.reserved_delta, r.on_hand_after,
                          r.reserved_after, r.reason, r.actor, r.reference) for r in s.scalars(select(StockLedger))),
        "log": sorted((r.entity_type, r.from_state or "", r.to_state, r.command, r.actor, repr(r.params),
                       number.get(r.entity_id) if r.entity_type == "package" else
                       transfer_number.get(r.entity_id) if r.entity_type == "transfer" else r.entity_id)
                      for r in s.scalars(select(TransitionLog)) if r.command in ("plan", "replan")),
        "events": sorted(repr((e.type, e.aggregate_type, _clean(e.data), e.previous))
                         for e in s.scalars(select(OutboxEvent)) if e.type != "order.created"),
        "traces": sorted(repr((t.order_id, t.outcome, t.is_replan, t.trace)) for t in s.scalars(select(PlanningTrace))),
    }


def test_one_order_at_a_time_writes_what_the_batch_writes(app):
    net = _network()
    for order_id in net["ids"]:
        plan_order_status(order_id, trigger="batch")
    _second_round(net)
    again = [net["ids"][5]]  # the order no scenario matched
    for order_id in again:
        plan_order_status(order_id, trigger="batch")
    one_by_one = _written()

    _empty_all_tables()
    net = _network()
    plan_batch(net["ids"], chunk_size=3)
    _second_round(net)
    plan_batch(again, chunk_size=3)
    batched = _written()

    assert one_by_one["orders"] == batched["orders"]
    for key in one_by_one:
        assert one_by_one[key] == batched[key], key
    # The data set took every path, so the comparison covers them.
    statuses = {status for _, status in batched["orders"]}
    assert statuses == {"planned", "out_of_stock", "on_hold"}
    outcomes = {eval(t)[1] for t in batched["traces"]}  # noqa: S307 - our own repr
    assert {"planned", "split", "transfer", "out_of_stock", "no_scenario", "on_hold"} <= outcomes
    assert any(eval(t)[2] for t in batched["traces"])  # noqa: S307 - the re-plan is marked in both
    assert batched["transfers"]


@contextmanager
def _statements():
    seen: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def test_planning_one_order_stays_within_its_statement_budget(app):
    kdk = site("KDK", 40.99, 29.03)
    bsk = site("BSK", 41.04, 29.00)
    wh = site("WH", 40.81, 29.30, type="warehouse")
    shirt, jeans, hat = factories.product("SHIRT"), factories.product("JEANS"), factories.product("HAT")
    factories.stock(kdk, shirt, 50)
    factories.stock(bsk, jeans, 50)
    factories.stock(kdk, hat, 50)
    scenario(wh, [{"location_type": "store"}, {"location_type": "store", "allow_split": True, "max_packages": 2}])
    warm = order([(shirt, 1)]).id
    one, split = order([(shirt, 1), (hat, 1)]).id, order([(shirt, 1), (jeans, 1)]).id
    db.session.remove()
    plan_order_status(warm)  # loads the configuration snapshot
    db.session.remove()

    postgres = db.engine.dialect.name == "postgresql"
    with _statements() as seen:
        assert plan_order_status(one) == "planned"
    # PostgreSQL: order+items+token, stock, ids, the stock UPDATE, one statement for every row.
    # SQLite also sends BEGIN IMMEDIATE and one INSERT per table (its order query reads the next ids).
    assert len(seen) <= (5 if postgres else 12), seen
    with _statements() as seen:
        assert plan_order_status(split) == "planned"
    assert len(seen) <= (5 if postgres else 12), seen
    assert placement(split) == {"KDK": {"SHIRT": 1}, "BSK": {"JEANS": 1}}


# --- configuration changed by another process ---------------------------------------------------

def _planner_process(url: str, redis_url: str, requests, answers) -> None:
    """Another process (like an RQ worker): plans the orders it is sent, answers with the new
    status and how many configuration snapshots it has loaded so far."""
    from app import create_app
    from app.config import TestConfig
    from app.services import config_cache as cache

    class Config(TestConfig):
        SQLALCHEMY_DATABASE_URI = url
        REDIS_URL = redis_url

    app = create_app(Config)
    with app.app_context():
        while (order_id := requests.get()) is not None:
            try:
                status = plan_order_status(order_id)
                answers.put((status, cache.loads))
            except BaseException as exc:  # noqa: BLE001 - reported to the test
                answers.put((repr(exc), cache.loads))
            finally:
                db.session.remove()


def test_another_process_sees_a_configuration_change_at_its_very_next_planning_call(app):
    kdk = site("KDK", 40.99, 29.03)
    bsk = site("BSK", 41.10, 28.90)
    wh = site("WH", 40.81, 29.30, type="warehouse")
    shirt = factories.product("SHIRT")
    factories.stock(kdk, shirt, 10)
    factories.stock(bsk, shirt, 10)
    sc = scenario(wh, [{"location_type": "store"}])
    ids = [order([(shirt, 1)]).id for _ in range(5)]
    db.session.commit()

    ctx = multiprocessing.get_context("spawn")
    requests, answers = ctx.Queue(), ctx.Queue()
    worker = ctx.Process(target=_planner_process, args=(app.config["SQLALCHEMY_DATABASE_URI"],
                                                        app.config["REDIS_URL"], requests, answers))
    worker.start()
    try:
        def plan(order_id):
            requests.put(order_id)
            answer = answers.get(timeout=60)
            db.session.rollback()  # end this session's read snapshot before looking
            return answer

        status, loads = plan(ids[0])
        assert status == "planned" and placement(ids[0]) == {"KDK": {"SHIRT": 1}}  # the nearest
        status, loads_again = plan(ids[1])
        assert placement(ids[1]) == {"KDK": {"SHIRT": 1}}
        assert loads_again == loads  # nothing changed: the snapshot was kept

        # A scenario change (the rule now sends everything to BSK), committed here...
        db.session.rollback()
        rule = db.session.get(Scenario, sc.id).rules[0]
        rule.locations = ["BSK"]
        db.session.commit()
        status, loads_after = plan(ids[2])
        # ...is seen by the other process's very next call.
        assert status == "planned" and placement(ids[2]) == {"BSK": {"SHIRT": 1}}
        assert loads_after == loads + 1

        # A setting, written by its own statement (put_setting's upsert), likewise.
        put_setting("ORDER_FILTERING", {"accepted_statuses": ["approved-by-hand"]})
        status, _ = plan(ids[3])
        assert status == "on_hold"
    finally:
        requests.put(None)
        worker.join(timeout=30)
        if worker.is_alive():
            worker.kill()


def test_a_change_in_this_transaction_is_seen_by_the_next_read_in_it(app):
    put_setting("REQUIRE_SCAN_TO_PACK", False)
    from app.models import Setting
    from app.services.settings import get_setting

    assert get_setting("REQUIRE_SCAN_TO_PACK") is False
    row = db.session.get(Setting, "REQUIRE_SCAN_TO_PACK")
    row.value = True
    db.session.flush()
    assert get_setting("REQUIRE_SCAN_TO_PACK") is True  # same transaction, after its own flush
    db.session.rollback()
    assert get_setting("REQUIRE_SCAN_TO_PACK") is False  # the change was rolled back
    # JSON values are handed out as copies: a caller changing one does not change the snapshot.
    put_setting("ORDER_FILTERING", {"accepted_statuses": ["approved"]})
    get_setting("ORDER_FILTERING")["accepted_statuses"].append("oops")
    assert get_setting("ORDER_FILTERING") == {"accepted_statuses": ["approved"]}
    assert config_cache.current().setting("ORDER_FILTERING") == {"accepted_statuses": ["approved"]}
