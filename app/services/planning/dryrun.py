"""Dry-run: plan a pasted order body or an existing order and return the plan and its trace,
reserving and writing nothing."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from app.extensions import db
from app.models import (
    CargoCompany,
    Channel,
    Order,
    Package,
    PackageItem,
    Product,
    Reservation,
    StockLocation,
    TransferItem,
)
from app.models.packages import OPEN_PACKAGE_STATES
from app.schemas import parse
from app.schemas.orders import OrderIn
from app.services.actors import Actor
from app.services.errors import Forbidden, NotFound, ValidationFailed
from app.services.planning import engine, snapshot
from app.services.planning.model import Demand, Network, OrderView, Plan
from app.services.planning.trace import expand, render


def dry_run(body: dict[str, Any], actor: Actor | None = None, *, explain_in: str | None = "en") -> dict[str, Any]:
    """`{"order_id": n}` or an order body shaped like POST /orders → {"outcome", "packages",
    "trace", "explanation"}. Nothing is reserved or stored. The explanation is in English (the
    API's) unless `explain_in` names another language, or is None for the current one (a screen)."""
    if actor is not None and not actor.is_manager:
        raise Forbidden(_('Only supervisors and admins can dry-run planning.'))
    if not isinstance(body, dict):
        raise ValidationFailed(_('Send a JSON object.'), {"__root__": _('Send an order or {"order_id": n}.')})
    try:
        own: Order | None = None  # an order planned afresh: what it holds is its own to use
        if "order_id" in body:
            view, own = _existing(body, actor)
        else:
            view = _pasted(body)
        scenarios = snapshot.load_scenarios()
        network = snapshot.load_network([d.product_id for d in view.demands],
                                        [d.order_item_id for d in view.demands if d.order_item_id > 0],
                                        open_counts=snapshot.needs_open_counts(scenarios))
        if own is not None:
            _give_back_own(network, own)
        plan = engine.plan(view, scenarios, network)
        return _result(plan, explain_in)
    finally:
        db.session.rollback()  # belt and braces: a dry-run never leaves anything pending


def _existing(body: dict[str, Any], actor: Actor | None) -> tuple[OrderView, Order | None]:
    """The order's units still to plan; or, when every unit is held already, all of them from
    scratch — then the order comes back too, so its own reservations count as free for it."""
    order_id = body.get("order_id")
    if not isinstance(order_id, int) or isinstance(order_id, bool):
        raise ValidationFailed(_('order_id must be a number.'), {"order_id": _('Must be an order id.')})
    order = db.session.get(Order, order_id)
    if order is None or (actor is not None and actor.location_ids is not None
                         and not any(actor.can_see(p.location_id) for p in order.packages)):
        raise NotFound(_('Order not found.'))
    held = snapshot.held_quantities(i.id for i in order.items)
    demands = snapshot.demands_of(order, held)
    if demands:
        return snapshot.order_view(order, demands), None
    # Already planned (in progress, even): show how it would be planned from scratch.
    return snapshot.order_view(order, snapshot.demands_of(order, {})), order


def _give_back_own(network: Network, order: Order) -> None:
    """Planned from scratch, the order may use the stock it reserves now (its packages' items and
    its transfers' lines) and its own open packages do not count against a store's quota: the
    dry run answers "how would this order be planned if it were new?", and new, it would hold
    nothing. Without this its own units looked taken, and an order in progress was said not to
    fit where it does."""
    own_items = select(PackageItem.id).join(Package, Package.id == PackageItem.package_id) \
        .where(Package.order_id == order.id)
    held = db.session.execute(
        select(Reservation.location_id, Reservation.product_id, func.sum(Reservation.quantity))
        .where(or_(Reservation.package_item_id.in_(own_items),
                   Reservation.transfer_item_id.in_(select(TransferItem.id)
                                                    .where(TransferItem.package_item_id.in_(own_items)))))
        .group_by(Reservation.location_id, Reservation.product_id))
    for location_id, product_id, quantity in held:
        network.take(location_id, product_id, -int(quantity or 0))
    if network.open_packages:
        for package in order.packages:
            if package.state in OPEN_PACKAGE_STATES and network.open_packages.get(package.location_id):
                network.open_packages[package.location_id] -= 1


def _pasted(body: dict[str, Any]) -> OrderView:
    data = parse(OrderIn, body, "The order is not valid.")
    errors: dict[str, str] = {}
    channel = db.session.scalar(select(Channel).where(Channel.code == data.channel))
    if channel is None:
        errors["channel"] = _("No channel with code '%(code)s'.", code=data.channel)
    skus = {i.sku for i in data.items}
    products = {p.sku: p for p in db.session.scalars(select(Product).where(Product.sku.in_(skus)))}
    for n, item in enumerate(data.items):
        if item.sku not in products:
            errors[f"items.{n}.sku"] = _("No product with SKU '%(sku)s'.", sku=item.sku)
    pickup_id = None
    if data.delivery_type == "click_and_collect":
        pickup_id = db.session.scalar(select(StockLocation.id).where(StockLocation.code == data.pickup_location))
        if pickup_id is None:
            errors["pickup_location"] = "Click & collect needs a known pickup location."
    if data.cargo_company and db.session.scalar(
            select(CargoCompany.id).where(CargoCompany.code == data.cargo_company)) is None:
        errors["cargo_company"] = _("No cargo company with code '%(code)s'.", code=data.cargo_company)
    if errors:
        raise ValidationFailed(_('The order is not valid.'), errors)
    address = data.shipping_address
    coords, source = snapshot.coordinates(address.latitude if address else None,
                                          address.longitude if address else None,
                                          address.city if address else None, address.district if address else None)
    # Pasted items have no ids yet: negative placeholders keep them apart (and never excluded).
    demands = [Demand(-(n + 1), products[i.sku].id, i.sku, i.quantity) for n, i in enumerate(data.items)]
    return OrderView(id=None, number=data.number, channel=data.channel, delivery_type=data.delivery_type,
                     payment_type=data.payment_type, cargo_company=data.cargo_company, pickup_location_id=pickup_id,
                     city=address.city if address else None, district=address.district if address else None,
                     coords=coords, coords_source=source, demands=demands)


def _result(plan: Plan, explain_in: str | None) -> dict[str, Any]:
    trace = expand(plan.trace)  # the readable shape, as GET /orders/{id}/planning shows it
    return {
        "outcome": plan.outcome,
        "scenario": plan.scenario.name if plan.scenario else None,
        "packages": trace["decision"]["packages"],
        "trace": trace,
        "explanation": render(plan.trace, explain_in),
    }

