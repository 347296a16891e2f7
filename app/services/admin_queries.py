"""Read-only queries for the supervisor and admin screens, always within the actor's locations.

Nothing here writes to the database; `retry_failed_job` only moves an RQ job back to its queue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from flask_babel import gettext as _
from rq.registry import FailedJobRegistry
from sqlalchemy import and_, false, or_, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import (
    DenialReason,
    Order,
    Package,
    PackageItem,
    PlanningTrace,
    Stock,
    StockLocation,
    Transfer,
    TransitionLog,
)
from app.models.base import utcnow
from app.models.packages import OPEN_PACKAGE_STATES
from app.queues import QUEUE_NAMES, get_queue
from app.services.actors import Actor
from app.services.errors import NotFound
from app.services.pagination import Page, PageArgs, paginate
from app.services.planning import render_trace
from app.services.said import said as said_message
from app.services.said import text as said_text
from app.services.transitions import ACTIVE_TRANSFER_STATES

PER_PAGE = 50
FIRST_PAGE = PageArgs(size=PER_PAGE)


def visible_locations(actor: Actor, active_only: bool = True) -> list[StockLocation]:
    query = select(StockLocation).order_by(StockLocation.code)
    if active_only:
        query = query.where(StockLocation.active.is_(True))
    if actor.location_ids is not None:
        query = query.where(StockLocation.id.in_(actor.location_ids or {-1}))
    return list(db.session.scalars(query))


def location_by_code(actor: Actor, code: str | None) -> StockLocation | None:
    """The location `code` if the actor may see it; None for no code; NotFound otherwise."""
    if not code:
        return None
    # NUL: PostgreSQL refuses it in a parameter, and no code holds one.
    loc = db.session.scalar(select(StockLocation).where(StockLocation.code == code)) if "\x00" not in code else None
    if loc is None or not actor.can_see(loc.id):
        raise NotFound(_('No location %(code)s.', code=code))
    return loc


def _package_query(actor: Actor):
    query = select(Package).options(selectinload(Package.items).selectinload(PackageItem.product),
                                    selectinload(Package.location), selectinload(Package.order))
    if actor.location_ids is not None:
        query = query.where(Package.location_id.in_(actor.location_ids or {-1}))
    return query


def packages_in_states(actor: Actor, states: tuple[str, ...], location: StockLocation | None = None,
                       page: PageArgs = FIRST_PAGE) -> Page[Package]:
    """Packages in `states`, oldest first, one page."""
    query = _package_query(actor).where(Package.state.in_(states))
    if location is not None:
        query = query.where(Package.location_id == location.id)
    query = query.order_by(Package.created_at, Package.id)
    return paginate(query, page)


def ageing_packages(actor: Actor, location: StockLocation | None = None,
                    page: PageArgs = FIRST_PAGE) -> Page[Package]:
    """Open packages older than their location's `target_packaging_minutes`, oldest first."""
    now = utcnow()
    locations = [location] if location is not None else visible_locations(actor)
    overdue = [
        and_(Package.location_id == loc.id, Package.created_at < now - timedelta(minutes=loc.target_packaging_minutes))
        for loc in locations if loc.target_packaging_minutes
    ]
    query = (_package_query(actor).where(Package.state.in_(OPEN_PACKAGE_STATES))
             .where(or_(*overdue) if overdue else false())
             .order_by(Package.created_at, Package.id))
    return paginate(query, page)


def minutes_late(package: Package) -> int:
    target = package.location.target_packaging_minutes or 0
    return max(0, int((utcnow() - package.created_at).total_seconds() // 60) - target)


def package_for(actor: Actor, package_id: int) -> Package:
    package = db.session.get(Package, package_id)
    if package is None or not actor.can_see(package.location_id):
        raise NotFound(_('No such package.'))
    return package


@dataclass
class Availability:
    location: StockLocation
    by_product: dict[int, int]

    def covers(self, needs: dict[int, int]) -> bool:
        return all(self.by_product.get(pid, 0) >= qty for pid, qty in needs.items())


def availability_for(product_ids: set[int]) -> list[Availability]:
    """Every active location with its available units of those products; best-stocked first."""
    locations = list(db.session.scalars(
        select(StockLocation).where(StockLocation.active.is_(True)).order_by(StockLocation.priority, StockLocation.code)))
    by_location: dict[int, dict[int, int]] = {loc.id: {} for loc in locations}
    if product_ids:
        for row in db.session.scalars(select(Stock).where(Stock.product_id.in_(product_ids))):
            if row.location_id in by_location:
                by_location[row.location_id][row.product_id] = row.on_hand - row.reserved
    rows = [Availability(loc, by_location[loc.id]) for loc in locations]
    rows.sort(key=lambda a: -sum(1 for pid in product_ids if a.by_product.get(pid, 0) > 0))
    return rows


@dataclass
class HistoryRow:
    at: Any
    entity: str
    from_state: str | None
    to_state: str
    command: str
    actor: str
    params: dict


def order_view(actor: Actor, order_id: int) -> dict[str, Any]:
    """An order with its items, packages, transfers, history and planning traces.
    Supervisors with a location subset see it only when one of its packages is theirs."""
    order = db.session.get(Order, order_id)
    if order is None:
        raise NotFound(_('No such order.'))
    packages = list(order.packages)
    if actor.location_ids is not None and not any(actor.can_see(p.location_id) for p in packages):
        raise NotFound(_('No such order.'))
    transfers = [t for p in packages for t in p.transfers]
    shipments = [p.shipment for p in packages if p.shipment is not None]
    names = {("order", order.id): _("Order %(number)s", number=order.number)}
    names.update({("package", p.id): _("Package %(number)s", number=p.number) for p in packages})
    names.update({("transfer", t.id): _("Transfer %(number)s", number=t.number) for t in transfers})
    names.update({("shipment", s.id): _("Shipment of %(number)s", number=s.package.number) for s in shipments})
    conditions = [
        and_(TransitionLog.entity_type == kind, TransitionLog.entity_id.in_([i for k, i in names if k == kind]))
        for kind in {k for k, _unused in names}
    ]
    logs = db.session.scalars(select(TransitionLog).where(or_(*conditions))
                              .order_by(TransitionLog.created_at, TransitionLog.id))
    items: dict[tuple[str, int], Any] = {("package", i.id): i for p in packages for i in p.items}
    items.update({("transfer", i.id): i for t in transfers for i in t.items})
    logs = list(logs)
    refused = {str(log.params["reason"]) for log in logs
               if log.command == "refuse" and isinstance(log.params, dict) and log.params.get("reason")}
    titles = dict(db.session.execute(select(DenialReason.code, DenialReason.title)
                                     .where(DenialReason.code.in_(refused))).all()) if refused else {}
    history = [HistoryRow(log.created_at, names[(log.entity_type, log.entity_id)], log.from_state, log.to_state,
                          log.command, log.actor, shown_params(log.params, log.entity_type, log.command, items, titles))
               for log in logs]
    traces = list(db.session.scalars(select(PlanningTrace).where(PlanningTrace.order_id == order.id)
                                     .order_by(PlanningTrace.id)))
    return {"order": order, "packages": packages, "transfers": transfers, "history": history,
            "traces": [(t, trace_text(t)) for t in traces]}


def shown_params(params: dict[str, Any] | None, kind: str | None = None, command: str | None = None,
                 items: dict[tuple[str, int], Any] | None = None,
                 titles: dict[str, str] | None = None) -> dict[str, Any]:
    """A history row's parameters for a person: an error kept with its catalogue message (a
    carrier's cancellation or label failure, `error_message`) is said in the reader's language;
    item ids read as their SKU (`sku` and `quantity` in each line, an assignment's whole items
    with the units they held) and a refusal's denial reason as its title (`titles`: code → title,
    read once for the whole history)."""
    params = dict(params or {})
    message = params.pop("error_message", None)
    if message is not None and "error" in params:
        params["error"] = said_text(message)
    items = items or {}

    def line(item_id: Any, quantity: Any = None, **rest: Any) -> dict[str, Any]:
        item = items.get((kind or "", item_id)) if isinstance(item_id, int) else None
        sku = item.product.sku if item is not None else f"#{item_id}"
        if quantity is None and item is not None:
            quantity = item.quantity
        return {**rest, "sku": sku, "quantity": quantity}

    if isinstance(params.get("assignments"), list):
        params["assignments"] = [
            {"location": a.get("location"),
             "units": [line(i) for i in a.get("item_ids") or []]
             + [line(**u) for u in a.get("items") or [] if isinstance(u, dict) and "item_id" in u]}
            for a in params["assignments"] if isinstance(a, dict)]
    if isinstance(params.get("items"), list):
        params["items"] = [line(**i) if isinstance(i, dict) and "item_id" in i else i for i in params["items"]]
    if command == "refuse" and params.get("reason"):
        title = (titles or {}).get(str(params["reason"]))
        if title:  # the demo's titles are catalogue sentences; a brand's own is shown as typed
            params["reason"] = said_text(said_message(title))
    return params


def trace_text(trace: PlanningTrace) -> str:
    """The planning trace as the text a supervisor reads ("why this location?")."""
    return render_trace(trace.trace or {})


def find_order(actor: Actor, number: str) -> list[Order]:
    """Orders whose number matches, for the supervisor's search box."""
    query = select(Order).where(Order.number == number.strip()).order_by(Order.id).limit(20)
    return [o for o in db.session.scalars(query)
            if actor.location_ids is None or any(actor.can_see(p.location_id) for p in o.packages)]


def transfers_for(location: StockLocation) -> dict[str, list[Transfer]]:
    base = select(Transfer).where(Transfer.state.in_(ACTIVE_TRANSFER_STATES)).order_by(Transfer.created_at).limit(100)
    return {"outgoing": list(db.session.scalars(base.where(Transfer.source_id == location.id))),
            "incoming": list(db.session.scalars(base.where(Transfer.destination_id == location.id)))}


# ------------------------------------------------------------------------------------ failed jobs

@dataclass
class FailedJob:
    id: str
    queue: str
    func: str
    args: str
    error: str
    ended_at: Any
    error_message: Any = None  # the error as a catalogue message, kept by the job (job.meta)


def failed_jobs(limit: int = 200) -> list[FailedJob]:
    """Jobs in every queue's RQ failed registry, newest first."""
    found: list[FailedJob] = []
    for name in QUEUE_NAMES:
        queue = get_queue(name)
        registry = FailedJobRegistry(queue=queue)
        for job in registry.get_job_ids(0, limit):
            fetched = queue.fetch_job(job)
            if fetched is None:
                continue
            result = fetched.latest_result()
            error = ((result.exc_string if result is not None else None) or "").strip().splitlines()
            found.append(FailedJob(fetched.id, name, fetched.func_name or "?", repr(fetched.args)[:200],
                                   error[-1][:500] if error else "", fetched.ended_at,
                                   (fetched.meta or {}).get("error_message")))
    found.sort(key=lambda j: j.ended_at or utcnow(), reverse=True)
    return found[:limit]


def retry_failed_job(queue_name: str, job_id: str) -> bool:
    """Put a failed job back on its queue. Returns False when it is no longer in the registry."""
    if queue_name not in QUEUE_NAMES:
        raise NotFound(_('No such queue.'))
    registry = FailedJobRegistry(queue=get_queue(queue_name))
    if job_id not in registry.get_job_ids():
        return False
    registry.requeue(job_id)
    return True

