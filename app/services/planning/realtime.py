"""Planning one order as it arrives (order intake, `POST /orders/{id}/plan`, channel webhooks) in
a handful of statements (SPEC §12: ≤ 12 per order on average).

The order is planned exactly as batch planning plans a chunk of one: the same engine, the same
rows built by `writer.stage`, so the per-order and batch paths write identical packages,
reservations, ledger, events and traces (tests/services/planning/test_realtime.py compares
them). What makes it cheap:

- one statement locks the order and reads its items, products and barcodes, whether it has
  packages, traces or exclusions, whether its first package numbers are free, and the
  configuration token (`config_cache`: scenarios, locations, codes and settings come from
  memory while the token stands);
- one statement reads the stock of its products; one allocates every id (`writer.IdPool`; on
  SQLite the order query reads the highest ids along, the write lock keeps them);
- `writer.flush_one` writes it: on PostgreSQL one guarded stock UPDATE plus one statement for
  every other row; on SQLite one multi-row statement per table.

Orders this path does not cover — already partly planned (packages or exclusions exist), on
hold by ORDER_FILTERING, nothing left to plan, not plannable — return None, and the caller uses
the general path (`service.plan_unassigned`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Integer, bindparam, exists, literal, literal_column, or_, select, text

from app.extensions import db
from app.models import Order, OrderItem, Package, PlanningExclusion, PlanningTrace, Product, ProductBarcode
from app.services import config_cache
from app.services.planning import engine, snapshot
from app.services.planning.writer import IdPool, Planned, flush_one, stage

PLANNABLE = ("new", "on_hold")
CHECKED_NUMBERS = 4  # package numbers <order>-P1..P4 are checked free in the order's own query


_SQL: dict[str, Any] = {}  # the order query per dialect, compiled once


def _load(order_id: int):
    """The order (locked), its items with SKU, name and barcodes (one row per barcode), and the
    flags and token described above, in one statement. Compiled once per dialect into a textual
    statement (with the columns' types for the results): building the select and its cache key
    per order cost more than running it."""
    connection = db.session.connection()
    statement = _SQL.get(connection.dialect.name)
    if statement is None:
        statement = _SQL[connection.dialect.name] = _compile(connection.dialect)
    return connection.execute(statement, {"order_id": order_id}).all()


def _compile(dialect):
    o = Order.__table__
    oi = OrderItem.__table__
    numbers = [o.c.number + literal(f"-P{n}") for n in range(1, CHECKED_NUMBERS + 1)]
    query = (
        select(
            o,
            config_cache.token_query().label("x_token"),
            exists().where(Package.order_id == o.c.id).label("x_packages"),
            exists().where(PlanningTrace.order_id == o.c.id).label("x_traced"),
            exists().where(PlanningExclusion.order_item_id == oi.c.id).label("x_excluded"),
            exists().where(or_(*[Package.number == n for n in numbers])).label("x_numbers_taken"),
            oi.c.id.label("i_id"), oi.c.product_id.label("i_product_id"), oi.c.quantity.label("i_quantity"),
            oi.c.cancelled_quantity.label("i_cancelled"), oi.c.price.label("i_price"),
            oi.c.status.label("i_status"), Product.sku.label("i_sku"), Product.name.label("i_name"),
            ProductBarcode.barcode.label("i_barcode"),
        )
        .select_from(o.outerjoin(oi, oi.c.order_id == o.c.id)
                     .outerjoin(Product, Product.id == oi.c.product_id)
                     .outerjoin(ProductBarcode, ProductBarcode.product_id == oi.c.product_id))
        .where(o.c.id == literal_column(":order_id"))
        .order_by(oi.c.id, ProductBarcode.id)
        .with_for_update(of=o)
    )
    if dialect.name == "sqlite":  # the write lock is held (BEGIN IMMEDIATE): the ids to use next
        query = query.add_columns(*[literal_column(f"(SELECT max(id) FROM {name})").label(f"x_top_{name}")
                                    for name in IdPool.TABLES])
    sql = str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    return text(sql).bindparams(bindparam("order_id", type_=Integer)).columns(*query.selected_columns)


class _Item:
    __slots__ = ("id", "product_id", "quantity", "cancelled_quantity", "price", "status", "sku", "name", "barcodes")


class _Order:
    """The order's columns as attributes (batch._Order's shape), plus its items."""

    def __init__(self, mapping):
        self.__dict__.update({k: v for k, v in mapping.items() if not k.startswith(("x_", "i_"))})
        self.items: list[_Item] = []


def plan_one(order_id: int, trigger: str, actor_label: str) -> str | None:
    """Plan the order in the current write transaction (not committed). Returns the order's
    new status, or None when the general path must plan it (nothing written then)."""
    rows = _load(order_id)
    if not rows:
        return None
    first = rows[0]._mapping
    config = config_cache.current(token=first["x_token"])
    if first["status"] not in PLANNABLE or first["x_packages"] or any(r.x_excluded for r in rows):
        return None
    order = _Order(first)
    if not snapshot.accepted_status(order.source_status):
        return None
    by_id: dict[int, _Item] = {}
    for r in rows:
        if r.i_id is None:
            continue
        item = by_id.get(r.i_id)
        if item is None:
            item = by_id[r.i_id] = _Item()
            (item.id, item.product_id, item.quantity, item.cancelled_quantity, item.price, item.status, item.sku,
             item.name, item.barcodes) = (r.i_id, r.i_product_id, r.i_quantity, r.i_cancelled, r.i_price,
                                          r.i_status, r.i_sku, r.i_name, [])
            order.items.append(item)
        if r.i_barcode is not None:
            item.barcodes.append(r.i_barcode)

    from app.services.planning import batch  # the batch's helpers: one definition of each decision
    from app.services.settings import get_setting

    demands = batch._demands(order, {})  # no package holds any unit yet
    scenarios = config.scenarios
    network = snapshot.load_network([d.product_id for d in demands], [], open_counts=snapshot.needs_open_counts(
        scenarios), sites=config.sites, counted=True)
    codes = {"channel": config.channel_code, "cargo": config.cargo_code}
    view = batch._view(order, demands, codes, get_setting("GEOLOCATION_DISCOVERY", "offline"))
    plan = engine.plan(view, scenarios, network)
    if plan.outcome == "nothing_to_plan":
        return None
    new_status = batch._status_after(order, plan, [])
    planned = Planned(order, plan, new_status, [],
                      {"channel": config.channel_code.get(order.channel_id),
                       "cargo_company": config.cargo_code.get(order.cargo_company_id),
                       "pickup_location": config.location_code.get(order.pickup_location_id)},
                      config.own_label.get(order.channel_id, False), is_replan=bool(first["x_traced"]))
    free = () if first["x_numbers_taken"] else tuple(f"{order.number}-P{n}" for n in range(1, CHECKED_NUMBERS + 1))
    tops = ({name: first[f"x_top_{name}"] for name in IdPool.TABLES} if f"x_top_{IdPool.TABLES[0]}" in first
            else None)
    staged = stage([planned], network, actor_label, trigger, pool=IdPool(IdPool.counts_for([planned]), tops),
                   free_numbers=free, require_scan=bool(get_setting("REQUIRE_SCAN_TO_PACK", False)))
    flush_one(staged)
    return new_status

