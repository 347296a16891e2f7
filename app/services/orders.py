"""Orders: creation (idempotent on channel + number), cancellation, and the derived order status."""

from __future__ import annotations

from datetime import UTC

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.metrics import timed_command
from app.models import CargoCompany, Channel, Order, OrderItem, Package, PackageItem, Product, StockLocation
from app.models.base import utcnow
from app.schemas import parse
from app.schemas.orders import OrderCancelIn, OrderIn
from app.services import events, stock
from app.services.actors import Actor
from app.services.db import begin_write, write_with_race_retry
from app.services.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.services.lifecycle import cancel_package, holding_items, item_quantities, items_changed, log_same_state
from app.services.order_status import refresh_order_status
from app.services.package_commands.common import replan, safe_enqueue
from app.services.representations import order_dict
from app.services.transitions import ACTIVE_TRANSFER_STATES, NOT_HOLDING_ITEM_STATES, PACKED_STATES

# When some units of an item are cancelled they are taken from the least advanced work first.
CANCEL_ORDER = ("out_of_stock", "waiting_for_transfer", "blocked", "waiting", "preparing",
                "waiting_cargo_label", "packed", "ready_for_pickup")


# --- create ---------------------------------------------------------------------------------

def _by_code(model, column, value):
    return db.session.scalar(select(model).where(column == value)) if value else None


@timed_command("order", "create")
def create_order(data: dict, actor: Actor) -> tuple[Order, bool]:
    """Create an order from a channel payload (OrderIn). Idempotent on (channel, number): an
    existing order is returned as (order, False). Planning is enqueued after commit."""
    payload = parse(OrderIn, data, "The order is not valid.")
    begin_write()
    try:
        channel = _by_code(Channel, Channel.code, payload.channel)
        if channel is None:
            raise ValidationFailed(_('Unknown channel.'), {"channel": _('No channel with code %(channel)s.', channel=repr(payload.channel))})
        existing = db.session.scalar(select(Order).where(Order.channel_id == channel.id,
                                                         Order.number == payload.number))
        if existing is not None:
            released = _update_source_status(existing, payload.status, actor)
            db.session.commit()
            if released:
                safe_enqueue("planning", "app.tasks.planning.plan_order", existing.id,
                             job_id=f"plan-order-{existing.id}")
            return existing, False
        order = _new_order(payload, channel)
        events.log_transition("order", order.id, None, order.status, "create", {}, actor.label)
        events.emit("order.created", "order", order.id, order_dict(order))
        db.session.commit()
    except IntegrityError:
        # A concurrent request created the same order first.
        db.session.rollback()
        existing = db.session.scalar(select(Order).join(Channel).where(Channel.code == payload.channel,
                                                                       Order.number == payload.number))
        if existing is None:
            raise
        return existing, False
    except BaseException:
        db.session.rollback()
        raise
    safe_enqueue("planning", "app.tasks.planning.plan_order", order.id, job_id=f"plan-order-{order.id}")
    return order, True


def _update_source_status(order: Order, status: str | None, actor: Actor) -> bool:
    """A channel re-sent the order with a new source status (e.g. payment approved). Returns
    True when an on-hold order should now be planned (ORDER_FILTERING accepts the new status)."""
    if status is None or status == order.source_status:
        return False
    old = order.source_status
    order.source_status = status
    events.log_transition("order", order.id, order.status, order.status, "update_source_status",
                          {"from": old, "to": status}, actor.label)
    return order.status == "on_hold"


def _new_order(payload: OrderIn, channel: Channel) -> Order:
    errors: dict[str, str] = {}
    pickup = _by_code(StockLocation, StockLocation.code, payload.pickup_location)
    if payload.pickup_location and (pickup is None or not pickup.active or not pickup.is_pickup_location):
        errors["pickup_location"] = _("No active pickup location with code '%(code)s'.", code=payload.pickup_location)
    if payload.delivery_type == "click_and_collect" and not payload.pickup_location:
        errors["pickup_location"] = _("Click & collect orders need a pickup location.")
    address = payload.shipping_address
    if payload.delivery_type == "cargo" and not (address and address.city):
        errors["shipping_address.city"] = _("Cargo orders need a shipping address with a city.")
    cargo = _by_code(CargoCompany, CargoCompany.code, payload.cargo_company)
    if payload.cargo_company and cargo is None:
        errors["cargo_company"] = _("No cargo company with code '%(code)s'.", code=payload.cargo_company)
    skus = {line.sku for line in payload.items}
    products = {p.sku: p for p in db.session.scalars(select(Product).where(Product.sku.in_(skus)))}
    for n, line in enumerate(payload.items):
        if line.sku not in products:
            errors[f"items.{n}.sku"] = _("No product with SKU '%(sku)s'.", sku=line.sku)
    if errors:
        raise ValidationFailed(_('The order is not valid.'), errors)

    placed = payload.placed_at
    if placed.tzinfo is not None:
        placed = placed.astimezone(UTC).replace(tzinfo=None)
    order = Order(
        number=payload.number, channel=channel, placed_at=placed, received_at=utcnow(),
        source_status=payload.status, status="new", delivery_type=payload.delivery_type, pickup_location=pickup,
        payment_type=payload.payment_type, cargo_company=cargo, customer_name=payload.customer.name,
        customer_email=payload.customer.email, customer_phone=payload.customer.phone,
    )
    if address is not None:
        order.ship_line, order.ship_city, order.ship_district = address.line, address.city, address.district
        order.ship_postcode, order.ship_country = address.postcode, address.country
        order.ship_latitude, order.ship_longitude = address.latitude, address.longitude
    for line in payload.items:
        order.items.append(OrderItem(product=products[line.sku], quantity=line.quantity, price=line.price))
    db.session.add(order)
    db.session.flush()
    return order


# --- read ---------------------------------------------------------------------------------------

def get_order(order_id: int, actor: Actor) -> Order:
    """The order, when `actor` may see it: a viewer limited to some locations sees an order only
    when one of its packages is at one of them (otherwise 404, as if it did not exist)."""
    order = db.session.get(Order, order_id)
    if order is None or (actor.location_ids is not None and not any(actor.can_see(p.location_id)
                                                                     for p in order.packages)):
        raise NotFound(_('There is no order %(order_id)s.', order_id=order_id))
    return order


# --- cancel ---------------------------------------------------------------------------------

def _lock_order(order_id: int, actor: Actor) -> Order:
    order = db.session.scalar(select(Order).where(Order.id == order_id).with_for_update()
                              .execution_options(populate_existing=True))
    if order is None:
        raise NotFound(_('Order not found.'))
    if actor.location_ids is not None and not any(actor.can_see(p.location_id) for p in order.packages):
        raise NotFound(_('Order not found.'))
    return order


def _holding_by_order_item(order: Order) -> dict[int, list[PackageItem]]:
    result: dict[int, list[PackageItem]] = {}
    for package in order.packages:
        for item in holding_items(package):
            result.setdefault(item.order_item_id, []).append(item)
    return result


@timed_command("order", "cancel")
def cancel_order(order_id: int, data: dict, actor: Actor) -> Order:
    """Cancel the whole order (no `items`) or some units of some items: the affected package items
    shrink, packages left empty are cancelled (reservations released, transfers cancelled), and
    units already shipped cannot be cancelled (409). Supervisors and admins only."""
    payload = parse(OrderCancelIn, data, "The cancellation is not valid.")
    def work() -> Order:
        order = _lock_order(order_id, actor)
        if not actor.is_manager:
            raise Forbidden(_('Only supervisors and admins may cancel orders.'))
        if payload.items is None and order.status == "cancelled":
            return order  # a repeated whole-order cancel changes nothing
        before = _item_quantities(order)
        _cancel_units(order, _requested_units(order, payload), actor.label)
        if payload.reason:
            order.cancel_reason = payload.reason
        refresh_order_status(order, actor.label, command="cancel")
        if payload.items is not None:
            events.emit("order.items_changed", "order", order.id, order_dict(order), previous={"items": before})
        return order

    return write_with_race_retry(work)


def _item_quantities(order: Order) -> list[dict]:
    return [{"id": i.id, "quantity": i.quantity, "cancelled_quantity": i.cancelled_quantity, "status": i.status}
            for i in order.items]


def _requested_units(order: Order, payload: OrderCancelIn) -> list[tuple[OrderItem, int]]:
    if payload.items is None:
        return [(i, i.quantity - i.cancelled_quantity) for i in order.items if i.quantity > i.cancelled_quantity]
    by_id = {i.id: i for i in order.items}
    errors: dict[str, str] = {}
    wanted: list[tuple[OrderItem, int]] = []
    for n, line in enumerate(payload.items):
        item = by_id.get(line.item_id)
        if item is None:
            errors[f"items.{n}.item_id"] = _("This item is not in this order: choose one of the order's items.")
            continue
        left = item.quantity - item.cancelled_quantity - sum(q for i, q in wanted if i is item)
        if line.quantity > left:
            errors[f"items.{n}.quantity"] = units_left_to_cancel(item.sku, left)
        wanted.append((item, line.quantity))
    if errors:
        raise ValidationFailed(_('The cancellation is not valid.'), errors)
    return wanted


def units_left_to_cancel(sku: str, left: int) -> str:
    """Why more units of `sku` cannot be cancelled, and what to ask for instead (the service's
    detail and the order page's field say the same)."""
    if left:
        return _("Only %(count)s unit(s) of %(sku)s can still be cancelled: cancel %(count)s or fewer.",
                 count=left, sku=sku)
    return _("No unit of %(sku)s can be cancelled any more: leave it at 0.", sku=sku)


def _cancel_units(order: Order, wanted: list[tuple[OrderItem, int]], actor_label: str) -> None:
    holding = _holding_by_order_item(order)
    touched: dict[int, Package] = {}
    before: dict[int, list[dict]] = {}
    needs_replan = False
    for order_item, quantity in wanted:
        items = holding.get(order_item.id, [])
        held = sum(i.quantity for i in items if i.state not in NOT_HOLDING_ITEM_STATES)
        unassigned = order_item.quantity - order_item.cancelled_quantity - held
        left = quantity - min(quantity, max(unassigned, 0))
        refunded = [i for i in items if i.package.state == "packed_for_refund"]
        for item in refunded:  # already handed back: cancelling them needs no work
            left -= min(left, item.quantity)
        for state in CANCEL_ORDER:
            for item in [i for i in items if i.package.state == state and i.state not in NOT_HOLDING_ITEM_STATES]:
                if not left:
                    break
                take = min(left, item.quantity)
                before.setdefault(item.package.id, item_quantities(item.package))
                needs_replan |= _shrink(item, take, actor_label)
                touched[item.package.id] = item.package
                left -= take
        if left:
            raise Conflict(_('%(left)s unit(s) of %(sku)s have already shipped and cannot be cancelled: cancel fewer, '
                             'or take them back with a return.', left=left, sku=order_item.sku),
                           code="already_shipped", details={"item_id": order_item.id, "quantity": left})
        order_item.cancelled_quantity += quantity
        if order_item.cancelled_quantity >= order_item.quantity:
            order_item.status = "cancelled"
    db.session.flush()
    for package in touched.values():
        if package.state == "cancelled":
            continue
        if not holding_items(package) or needs_replan and _has_active_transfers(package):
            cancel_package(package, actor_label, "cancel_order")
        else:
            log_same_state(package, "cancel_order", {}, actor_label)
            items_changed(package, before[package.id])
        package.version += 1
    if needs_replan:
        replan(order, "cancel_order", actor_label)


def _has_active_transfers(package: Package) -> bool:
    return any(t.state in ACTIVE_TRANSFER_STATES for t in package.transfers)


def _shrink(item: PackageItem, quantity: int, actor_label: str) -> bool:
    """Take `quantity` units out of a package item. Returns True when the package must be
    re-planned instead (some of its units are still travelling by transfer)."""
    package = item.package
    if quantity < item.quantity and _has_active_transfers(package):
        # Shrinking an item half-way through a transfer is error-prone; the package is cancelled
        # and its remaining units re-planned from scratch.
        item.quantity -= quantity
        item.picked_quantity = min(item.picked_quantity, item.quantity)
        return True
    if package.state in PACKED_STATES and item.state == "packed":
        stock.receive(package.location_id, item.product_id, quantity, actor_label, package.number,
                      reason="return_to_stock")
    else:
        stock.release(actor_label, package.number, package_item_ids=[item.id],
                      quantity_by_package_item={item.id: quantity}, reason="cancel")
    if quantity >= item.quantity:
        item.state = "cancelled"
    else:
        item.quantity -= quantity
        item.picked_quantity = min(item.picked_quantity, item.quantity)
    return False
