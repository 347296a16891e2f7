"""Planning one order: turn an engine `Plan` into packages, transfers and reservations."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app import metrics
from app.extensions import db
from app.models import Order, OrderItem, Package, PackageItem, PlanningTrace, Transfer
from app.services import config_cache, events, stock, workorders
from app.services.actors import Actor
from app.services.db import begin_write
from app.services.errors import Conflict, Forbidden, NotFound
from app.services.lifecycle import cancel_package, holding_items, log_same_state, move_package
from app.services.order_status import refresh_order_status
from app.services.planning import engine, realtime, snapshot
from app.services.planning.model import OpenPackage, Plan, PlannedPackage
from app.services.planning.trace import NONE
from app.services.planning.writer import RACE_ERRORS, StockRaceLost
from app.services.representations import order_dict
from app.services.said import N_, said
from app.services.transitions import ACTIVE_TRANSFER_STATES

log = logging.getLogger("packline.planning")

PLANNER = "system:planner"
MAX_ATTEMPTS = 5
PLANNABLE_ORDER_STATUSES = ("new", "on_hold")
# Open packages that re-sourced units may join (not yet packed; a blocked one keeps them for later).
RESOURCEABLE_STATES = ("waiting_for_transfer", "waiting", "preparing", "blocked")


@dataclass
class PlanResult:
    outcome: str
    trace: PlanningTrace | None
    packages: list[Package] = field(default_factory=list)
    transfers: list[Transfer] = field(default_factory=list)


def plan_unassigned(order: Order, trigger: str, actor_label: str, into: Package | None = None) -> PlanResult:
    """Plan every unassigned unit of the order's open items (flush only).

    Respects PlanningExclusion rows, creates packages/transfers through workorders (reserving
    stock), parks what cannot be planned in an out_of_stock package at the scenario's default
    location, writes a PlanningTrace and refreshes the order status. Raises
    stock.InsufficientStock when another planner took the stock first (the caller retries).

    `into`: the open package that lost these units (a transfer that will not come, items
    reported missing). The rules bring them back into it first — its own stock, then transfers
    into its location — and only a rule that splits orders may start another package.
    """
    if order.status in PLANNABLE_ORDER_STATUSES and not snapshot.accepted_status(order.source_status):
        return hold(order, trigger, actor_label)
    held = snapshot.held_quantities(i.id for i in order.items)
    demands = snapshot.demands_of(order, held)
    config = config_cache.current()
    scenarios = config.scenarios
    network = snapshot.load_network([d.product_id for d in demands], [d.order_item_id for d in demands],
                                    open_counts=snapshot.needs_open_counts(scenarios), sites=config.sites)
    target = None
    if into is not None and into.state in RESOURCEABLE_STATES:
        target = OpenPackage(into.id, into.location_id)
    view = snapshot.order_view(order, demands)
    plan = engine.plan(view, scenarios, network, into=target)
    if target is not None and plan.outcome == "out_of_stock":
        whole = _plan_whole_package(order, into, view, scenarios, held)
        if whole is not None:  # the package moves as a whole rather than split or park its units
            plan, into = whole, None
    if plan.outcome == "nothing_to_plan" and trigger not in ("api", "manual", "dry_run"):
        return PlanResult(plan.outcome, None)
    trace = _store_trace(order, plan, trigger)
    packages, transfers = _materialise(order, plan, trace, actor_label, into)
    refresh_order_status(order, actor_label, command="plan", released=plan.outcome != "no_scenario")
    return PlanResult(plan.outcome, trace, packages, transfers)


def _plan_whole_package(order: Order, package: Package, view, scenarios, held: dict[int, int]) -> Plan | None:
    """The units `package` lost cannot come back into it and no rule may split the order: plan
    the package's units and the lost ones together as if new (its location stays excluded for
    what it reported missing). When that finds a place for all of them, `package` is cancelled
    (its reservations released) and the returned plan replaces it; otherwise None and the lost
    units are parked out of stock. Only for a package whose units are all at its location (no
    transfer still under way)."""
    if any(t.state in ACTIVE_TRANSFER_STATES for t in package.transfers):
        return None
    moving = {}
    for item in holding_items(package):
        moving[item.order_item_id] = moving.get(item.order_item_id, 0) + item.quantity
    rest = {oid: units - moving.get(oid, 0) for oid, units in held.items()}
    demands = snapshot.demands_of(order, rest)
    network = snapshot.load_network([d.product_id for d in demands], [d.order_item_id for d in demands],
                                    open_counts=snapshot.needs_open_counts(scenarios),
                                    sites=config_cache.current().sites)
    for item in holding_items(package):  # what the package holds becomes available again there
        per_location = network.available.setdefault(item.product_id, {})
        per_location[package.location_id] = (per_location.get(package.location_id, 0)
                                              + stock.reserved_quantity(item.id))
    network.open_packages[package.location_id] = max(0, network.open_packages.get(package.location_id, 0) - 1)
    view.demands = demands
    plan = engine.plan(view, scenarios, network)
    if plan.outcome in ("out_of_stock", "no_scenario", "nothing_to_plan"):
        return None
    plan.trace["moved_package"] = package.number
    cancel_package(package, PLANNER, command="replan",
                   reason="Re-planned as a whole: the missing units could not be brought to this location.")
    package.version += 1
    return plan


def hold(order: Order, trigger: str, actor_label: str) -> PlanResult:
    """Put an order whose source status ORDER_FILTERING does not accept on hold (flush only)."""
    trace_data = {"version": engine.TRACE_VERSION, "order": {"number": order.number, "channel": order.channel.code,
                                          "delivery_type": order.delivery_type, "coordinates": None,
                                          "coordinates_source": "not needed"},
                  "on_hold": said(N_("Source status %(status)s is not accepted by ORDER_FILTERING."),
                                  status=order.source_status or said(NONE)),
                  "rules": [], "decision": {"outcome": "on_hold", "packages": []}}
    trace = PlanningTrace(order_id=order.id, trigger=trigger, outcome="on_hold", trace=trace_data,
                          is_replan=False)
    db.session.add(trace)
    if order.status != "on_hold":
        old, order.status = order.status, "on_hold"
        events.log_transition("order", order.id, old, "on_hold", "plan", {"trigger": trigger}, actor_label)
        db.session.flush()
        events.emit("order.status_changed", "order", order.id, order_dict(order), previous={"status": old})
    db.session.flush()
    return PlanResult("on_hold", trace)


def _store_trace(order: Order, plan: Plan, trigger: str) -> PlanningTrace:
    is_replan = db.session.scalar(select(PlanningTrace.id).where(PlanningTrace.order_id == order.id).limit(1))
    trace = PlanningTrace(order_id=order.id, trigger=trigger, outcome=plan.outcome, trace=plan.trace,
                          is_replan=is_replan is not None)
    db.session.add(trace)
    db.session.flush()
    return trace


def _materialise(order: Order, plan: Plan, trace: PlanningTrace, actor_label: str,
                 into: Package | None) -> tuple[list, list]:
    items = {i.id: i for i in order.items}
    packages, transfers = [], []
    for planned in plan.packages:
        if planned.into is not None:
            assert into is not None and into.id == planned.into
            transfers.extend(_add_to_package(into, planned, trace, actor_label))
            continue
        lines = [workorders.Line(items[d.order_item_id], q) for d, q in planned.lines]
        simple = planned.state in ("waiting", "out_of_stock") and not planned.transfers
        package = workorders.create_package(order, planned.location_id, lines, planned.state, actor_label,
                                            reserve=simple and planned.state == "waiting",
                                            planning_trace_id=trace.id, announce=simple)
        packages.append(package)
        if simple:
            continue
        by_item = {pi.order_item_id: pi for pi in package.items}
        stock.reserve([stock.Need(planned.location_id, d.product_id, q, package_item_id=by_item[d.order_item_id].id)
                       for d, q in planned.reserve_here], actor=actor_label, reference=package.number)
        for pt in planned.transfers:
            transfers.append(workorders.create_transfer(
                package, pt.source_id, [(by_item[d.order_item_id], q) for d, q in pt.lines], actor_label))
        workorders.announce_package(package)  # with its transfers, as the batch writer and the API show it
    return packages, transfers


def _add_to_package(package: Package, planned: PlannedPackage, trace: PlanningTrace,
                    actor_label: str) -> list[Transfer]:
    """Re-sourced units join `package`: its items grow (or get a new item), what its location has
    is reserved there, the rest comes by new transfers, and a package that now waits for a
    transfer says so. The caller reports the package's new quantities (`items_changed`)."""
    holding = {i.order_item_id: i for i in holding_items(package)}
    by_item: dict[int, PackageItem] = {}
    for d, q in planned.lines:
        item = holding.get(d.order_item_id)
        if item is None:
            item = PackageItem(order_item_id=d.order_item_id, product_id=d.product_id, quantity=q)
            package.items.append(item)
        else:
            item.quantity += q
            if item.state == "picked":
                item.state = "open"  # more units to pick now
        by_item[d.order_item_id] = item
    db.session.flush()
    stock.reserve([stock.Need(planned.location_id, d.product_id, q, package_item_id=by_item[d.order_item_id].id)
                   for d, q in planned.reserve_here], actor=actor_label, reference=package.number)
    transfers = [workorders.create_transfer(package, pt.source_id, [(by_item[d.order_item_id], q) for d, q in pt.lines],
                                            actor_label) for pt in planned.transfers]
    package.planning_trace_id = trace.id
    package.version += 1
    if transfers and package.state == "blocked":
        package.previous_state = "waiting_for_transfer"  # unblocking waits for the new transfer
        log_same_state(package, "replan", {"trigger": trace.trigger}, actor_label)
    elif transfers and package.state != "waiting_for_transfer":
        move_package(package, "waiting_for_transfer", "replan", {"trigger": trace.trigger}, actor_label)
    else:
        log_same_state(package, "replan", {"trigger": trace.trigger}, actor_label)
    return transfers


def _load_order(order_id: int, lock: bool) -> Order:
    query = select(Order).where(Order.id == order_id).options(
        selectinload(Order.items).selectinload(OrderItem.product))
    if lock:
        query = query.with_for_update(of=Order)
    order = db.session.scalar(query)
    if order is None:
        raise NotFound(_('Order not found.'))
    return order


def plan_order(order_id: int, trigger: str = "api", actor: Actor | None = None) -> Order:
    """Plan what is unassigned of one order now and commit; returns the order (as committed).
    A lost reservation race rolls back and plans again with fresh stock (a few times) instead
    of failing."""
    plan_order_status(order_id, trigger, actor)
    return db.session.get(Order, order_id)


def plan_order_status(order_id: int, trigger: str = "api", actor: Actor | None = None) -> str:
    """`plan_order` for callers that need only the order's new status (the order-intake job,
    batch fallbacks): an order nothing planned before takes the real-time path (`realtime`:
    a handful of statements), anything else the general one."""
    label = actor.label if actor else PLANNER
    if actor is not None and not actor.is_manager:
        raise Forbidden(_('Only supervisors and admins can plan orders.'))
    for attempt in range(1, MAX_ATTEMPTS + 1):
        begin_write()
        try:
            status = realtime.plan_one(order_id, trigger, label)
            if status is not None:
                db.session.commit()
                metrics.orders_planned("order")
                if db.session.identity_key(Order, order_id) in db.session.identity_map:
                    db.session.get(Order, order_id)  # the caller holds the order: load it as committed
                return status
        except RACE_ERRORS as exc:  # a stock row or a package number taken meanwhile
            db.session.rollback()
            if attempt == MAX_ATTEMPTS and not isinstance(exc, StockRaceLost):
                raise
            log.info("order %s lost a race (attempt %s): %s", order_id, attempt, exc)
            continue
        except BaseException:
            db.session.rollback()
            raise
        order = _load_order(order_id, lock=True)
        try:
            if order.status != "cancelled":
                plan_unassigned(order, trigger, label)
            db.session.commit()
            metrics.orders_planned("order")
            return order.status
        except stock.InsufficientStock as exc:
            db.session.rollback()
            log.info("order %s lost a reservation race (attempt %s): %s", order_id, attempt, exc)
    raise Conflict(_('The stock changed too often while planning; try again.'), code="planning_busy")


def release_on_hold(order: Order, actor_label: str = PLANNER) -> PlanResult | None:
    """An on-hold order whose source status is now accepted gets planned (flush only)."""
    if order.status != "on_hold" or not snapshot.accepted_status(order.source_status):
        return None
    return plan_unassigned(order, "released", actor_label)
