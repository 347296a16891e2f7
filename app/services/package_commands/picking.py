"""Package commands at the store before packing: prepare, pick, report missing, refuse, deallocate,
refund, block/unblock, cancel and manual planning. Flush only."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.models import DenialReason, StockLocation
from app.services import stock, workorders
from app.services.errors import ValidationFailed
from app.services.lifecycle import (
    cancel_package,
    exclude_location,
    holding_items,
    item_quantities,
    items_changed,
    log_same_state,
    move_package,
    release_package,
)
from app.services.package_commands.common import Ctx, replan
from app.services.transitions import ACTIVE_TRANSFER_STATES, NOT_HOLDING_ITEM_STATES, NOT_HOLDING_PACKAGE_STATES


def prepare(ctx: Ctx) -> None:
    move_package(ctx.package, "preparing", ctx.command, ctx.log_params, ctx.actor.label)


def pick(ctx: Ctx) -> None:
    package, params = ctx.package, ctx.params
    # The package's products come with their barcodes (lock_package): a barcode that is none of
    # theirs is not in this package, whatever product it belongs to.
    product_id = next((i.product_id for i in package.items for b in i.product.barcodes
                       if b.barcode == params.barcode), None)
    items = [i for i in holding_items(package) if i.product_id == product_id] if product_id else []
    if not items:
        raise ValidationFailed(_('This barcode is not in this package.'),
                               {"barcode": _('This barcode is not in this package.')})
    short = [i for i in items if i.picked_quantity < i.quantity]
    remaining = sum(i.quantity - i.picked_quantity for i in short)
    if params.quantity > remaining:
        sku = items[0].product.sku
        message = (_('Every unit of %(sku)s is already picked.', sku=sku) if remaining == 0
                   else _('Only %(remaining)s more unit(s) of %(sku)s are needed.', remaining=remaining, sku=sku))
        raise ValidationFailed(message, {"quantity": message})
    left = params.quantity
    for item in short:
        take = min(left, item.quantity - item.picked_quantity)
        item.picked_quantity += take
        if item.picked_quantity == item.quantity:
            item.state = "picked"
        left -= take
        if not left:
            break
    log_same_state(package, ctx.command, ctx.log_params, ctx.actor.label)


def report_missing(ctx: Ctx) -> None:
    """Missing units leave the package, on_hand is corrected, and they are re-planned elsewhere."""
    package, label = ctx.package, ctx.actor.label
    by_id = {i.id: i for i in package.items}
    errors: dict[str, str] = {}
    for n, line in enumerate(ctx.params.items):
        item = by_id.get(line.item_id)
        if item is None or item.state in NOT_HOLDING_ITEM_STATES:
            errors[f"items.{n}.item_id"] = _("This item is not an open item of this package.")
        elif line.quantity > item.quantity:
            errors[f"items.{n}.quantity"] = _("The package holds only %(count)s unit(s) of %(sku)s.",
                                              count=item.quantity, sku=item.product.sku)
    if errors:
        raise ValidationFailed(_('Some missing items are not valid.'), errors)

    before = item_quantities(package)
    for line in ctx.params.items:
        item = by_id[line.item_id]
        stock.release(label, package.number, package_item_ids=[item.id],
                      quantity_by_package_item={item.id: line.quantity}, reason="release_missing")
        stock.correct_missing(package.location_id, item.product_id, line.quantity, label, package.number)
        exclude_location(item.order_item_id, package.location_id, "missing")
        if line.quantity == item.quantity:
            item.state = "missing"
        else:
            item.quantity -= line.quantity
            item.picked_quantity = min(item.picked_quantity, item.quantity)
            if item.picked_quantity == item.quantity:
                item.state = "picked"
    db.session.flush()

    if ctx.params.whole_package:
        for item in holding_items(package):
            exclude_location(item.order_item_id, package.location_id, "missing")
    if ctx.params.whole_package:
        cancel_package(package, label, ctx.command, params=ctx.log_params)
        replan(package.order, "report_missing", label)
        return
    log_same_state(package, ctx.command, ctx.log_params, label)
    replan(package.order, "report_missing", label, into=package)  # the rules refill this package first
    if package.state in NOT_HOLDING_PACKAGE_STATES:
        return  # the rules moved the whole package elsewhere
    if not holding_items(package):
        cancel_package(package, label, ctx.command, params=ctx.log_params)
    else:
        items_changed(package, before)


def refuse(ctx: Ctx) -> None:
    package, label = ctx.package, ctx.actor.label
    reason = db.session.scalar(select(DenialReason).where(DenialReason.code == ctx.params.reason,
                                                          DenialReason.active.is_(True)))
    if reason is None:
        raise ValidationFailed(_('Unknown denial reason.'), {"reason": _('Choose one of the active denial reasons.')})
    items = holding_items(package)
    release_package(package, label)
    for item in items:
        exclude_location(item.order_item_id, package.location_id, "refused")
    package.refuse_reason = reason.code
    move_package(package, "refused", ctx.command, ctx.log_params, label)
    replan(package.order, "refuse", label)


def deallocate(ctx: Ctx) -> None:
    """The store's own system takes over the stock: our reservations are released."""
    release_package(ctx.package, ctx.actor.label, reason="deallocate")
    move_package(ctx.package, "preparing", ctx.command, ctx.log_params, ctx.actor.label)


def packed_for_refund(ctx: Ctx) -> None:
    release_package(ctx.package, ctx.actor.label, reason="refund")
    move_package(ctx.package, "packed_for_refund", ctx.command, ctx.log_params, ctx.actor.label)


def block(ctx: Ctx) -> None:
    package = ctx.package
    package.previous_state = package.state
    package.block_reason = ctx.params.reason
    move_package(package, "blocked", ctx.command, ctx.log_params, ctx.actor.label)


def unblock(ctx: Ctx) -> None:
    package = ctx.package
    target = package.previous_state or "waiting"
    if target == "waiting_for_transfer" and not any(t.state in ACTIVE_TRANSFER_STATES for t in package.transfers):
        target = "waiting"  # its transfers arrived (or were given up) while it was blocked
    package.previous_state = None
    package.block_reason = None
    move_package(package, target, ctx.command, ctx.log_params, ctx.actor.label)


def cancel(ctx: Ctx) -> None:
    cancel_package(ctx.package, ctx.actor.label, ctx.command, reason=ctx.params.reason, params=ctx.log_params)


def manual_plan(ctx: Ctx) -> None:
    """A supervisor decides where the units are packed: the package is replaced by one new package
    per assignment. An assignment takes whole items (`item_ids`) or some units of an item
    (`items`), so one item can be split over locations; every unit is assigned exactly once."""
    package, label = ctx.package, ctx.actor.label
    items = {i.id: i for i in holding_items(package)}
    errors: dict[str, str] = {}
    assigned: dict[int, int] = {}
    plans: list[tuple[StockLocation, dict[int, int]]] = []
    for n, assignment in enumerate(ctx.params.assignments):
        loc = db.session.scalar(select(StockLocation).where(StockLocation.code == assignment.location))
        if loc is None or not loc.active:
            errors[f"assignments.{n}.location"] = _('No active location has the code %(code)s.',
                                                    code=repr(assignment.location))
        units_here: dict[int, int] = {}
        # (error key for the item id, for the quantity; item id; units or None for all of them)
        wanted = [(f"assignments.{n}.item_ids",) * 2 + (item_id, None) for item_id in assignment.item_ids]
        wanted += [(f"assignments.{n}.items.{m}.item_id", f"assignments.{n}.items.{m}.quantity",
                    unit.item_id, unit.quantity) for m, unit in enumerate(assignment.items)]
        for id_key, quantity_key, item_id, quantity in wanted:
            item = items.get(item_id)
            if item is None:
                errors[id_key] = _('Item %(id)s is not an open item of this package.', id=item_id)
                continue
            units = item.quantity if quantity is None else quantity
            before = assigned.get(item_id, 0)
            assigned[item_id] = before + units
            if before <= item.quantity < before + units:  # this one goes over (reported once)
                errors[quantity_key] = (
                    _('Item %(id)s is assigned twice.', id=item_id) if quantity is None and before else
                    _('%(sku)s: %(assigned)s units assigned, the package holds %(held)s.',
                      sku=item.product.sku, assigned=before + units, held=item.quantity))
            units_here[item_id] = units_here.get(item_id, 0) + units
        plans.append((loc, units_here))  # type: ignore[arg-type]
    short = [_('%(sku)s (%(assigned)s of %(held)s)', sku=items[i].product.sku, assigned=assigned.get(i, 0),
               held=items[i].quantity) for i in sorted(items) if assigned.get(i, 0) < items[i].quantity]
    if short and not errors:
        errors["assignments"] = _('Assign every unit exactly once; not all assigned: %(items)s',
                                  items=", ".join(short))
    if errors:
        raise ValidationFailed(_('The plan is not valid.'), errors)

    cancel_package(package, label, ctx.command, params=ctx.log_params)
    for n, (loc, units_here) in enumerate(plans):
        lines = [workorders.Line(items[i].order_item, units_here[i]) for i in items if i in units_here]
        try:
            workorders.create_package(package.order, loc.id, lines, "waiting", label, reserve=True,
                                      command="manual_plan")
        except stock.InsufficientStock as exc:
            sku = next(items[i].product.sku for i in units_here if items[i].product_id == exc.product_id)
            message = _('Not enough available stock of %(sku)s at %(code)s.', sku=sku, code=loc.code)
            raise ValidationFailed(message, {f"assignments.{n}.location": message}) from None
