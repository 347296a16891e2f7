"""Transfer commands (SPEC §5): send stock from a source location to the package's packing location.

Re-sourcing (`report_missing`, `out_of_stock`, `cancel`): the units the source cannot send are
released there (and, when missing, written off with `stock.correct_missing` and the source is
excluded for that order item); the transfer item and its package item shrink by those units (or
are marked missing/cancelled), so the units become *unassigned*, and `planning.plan_unassigned`
re-plans them in the same transaction — from another source, or at another location.

Scanning (`count_transfer_scan`) counts units like picking does for packages, on the side whose
step is next: the sender before dispatch, the receiver before receiving. Dispatch acts on the
whole transfer; `receive` takes everything as sent, or the receiver's count per SKU (`lines`):
short and damaged units are re-planned like missing ones, damaged ones written off at the
destination, units over what was sent stocked there (each difference with a note). Their log
notes `unscanned: N` when units were not counted.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.metrics import timed_command
from app.models import Package, ProductBarcode, Transfer, TransferItem
from app.schemas import parse
from app.schemas.commands import TRANSFER_COMMAND_PARAMS
from app.services import events, stock
from app.services.actors import Actor
from app.services.db import write_with_race_retry
from app.services.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.services.lifecycle import (
    cancel_package,
    exclude_location,
    holding_items,
    item_quantities,
    items_changed,
    move_package,
    move_transfer,
)
from app.services.order_status import refresh_order_status
from app.services.package_commands.common import Ctx, cargo_company_by_code, lock_order_of, replan
from app.services.transitions import (
    NOT_HOLDING_ITEM_STATES,
    NOT_HOLDING_PACKAGE_STATES,
    TRANSFER_TRANSITIONS,
    allowed_transfer_commands,
)

FINISHED_TRANSFER_STATES = ("received", "cancelled", "out_of_stock")


class TransferCtx(Ctx):
    """Ctx whose `package` is the transfer's package; `transfer` is the locked transfer."""

    transfer: Transfer


def _ready_for_dispatch(ctx: TransferCtx) -> None:
    transfer, params = ctx.transfer, ctx.params
    if params.cargo_company:
        transfer.cargo_company = cargo_company_by_code(params.cargo_company)
    if params.tracking_number:
        transfer.tracking_number = params.tracking_number
    move_transfer(transfer, "ready_for_dispatch", ctx.command, ctx.log_params, ctx.actor.label)


# Whose step a scan counts for, by transfer state: the sender's while it collects the goods, the
# receiver's while they are on the road to it.
SCAN_SIDES = {"waiting": "source", "ready_for_dispatch": "source", "in_transit": "destination"}
SCAN_COLUMNS = {"source": "dispatch_scanned", "destination": "receive_scanned"}


def scan_side(transfer: Transfer) -> str | None:
    """"source" or "destination": the side whose scans count now; None when nobody scans."""
    return SCAN_SIDES.get(transfer.state)


def scanned_count(item: TransferItem, side: str) -> int:
    return getattr(item, SCAN_COLUMNS[side])


def _scan_log(transfer: Transfer, side: str, log_params: dict) -> dict:
    """The command's params as logged, with `unscanned`: units of the open items this side did
    not count by scanning (left out when every unit was scanned)."""
    unscanned = sum(max(0, ti.quantity - scanned_count(ti, side)) for ti in transfer.items if ti.state == "open")
    return {**log_params, "unscanned": unscanned} if unscanned else log_params


def _dispatch(ctx: TransferCtx) -> None:
    """The goods leave the source: its reservation is consumed (on_hand and reserved drop)."""
    transfer = ctx.transfer
    logged = _scan_log(transfer, "source", ctx.log_params)
    stock.consume(ctx.actor.label, transfer.number, transfer_item_ids=[ti.id for ti in transfer.items
                                                                        if ti.state == "open"],
                  reason="transfer_out")
    move_transfer(transfer, "in_transit", ctx.command, logged, ctx.actor.label)


def _receive(ctx: TransferCtx) -> None:
    """The goods arrive and are reserved for their package item (unless it no longer wants them).

    With `lines` (the receiving screen's count per SKU) what arrived may differ from what was
    sent: units short, or damaged (written off here with the reason), will not reach the package —
    the transfer item and package item shrink by them and they are planned again, as units a
    source reports missing are (`_after_resourcing`); units over what was sent go into this
    location's stock. Any difference needs a note. Without `lines` everything arrived as sent."""
    transfer, label = ctx.transfer, ctx.actor.label
    logged = _scan_log(transfer, "destination", ctx.log_params)
    open_items = [ti for ti in transfer.items if ti.state == "open"]
    arrived = _arrivals(open_items, ctx.params.lines)
    before = item_quantities(transfer.package)
    lost_any = False
    for ti in open_items:
        good, _damaged = arrived[ti.id]
        if good < ti.quantity:
            _lose_in_transit(ti, ti.quantity - good, label, transfer)
            lost_any = True
    wanted = {i.id for i in holding_items(transfer.package)}
    for ti in open_items:
        if ti.state != "open":
            continue
        need = 0
        if ti.package_item_id in wanted:
            need = max(0, ti.package_item.quantity - stock.reserved_quantity(ti.package_item_id))
        reserve = min(need, ti.quantity)
        if reserve:
            stock.receive(transfer.destination_id, ti.product_id, reserve, label, transfer.number,
                          package_item_id=ti.package_item_id)
        if ti.quantity - reserve:
            stock.receive(transfer.destination_id, ti.product_id, ti.quantity - reserve, label, transfer.number)
        ti.state = "received"
    for line in ctx.params.lines or []:
        product_id = next(ti.product_id for ti in open_items if ti.product.sku == line.sku)
        if line.damaged:
            stock.record_write_off(transfer.destination_id, product_id, line.damaged, label, transfer.number,
                                   note=line.note)
        over = line.received - line.damaged - sum(arrived[ti.id][0] for ti in open_items if ti.product_id == product_id)
        if over > 0:
            stock.receive(transfer.destination_id, product_id, over, label, transfer.number, reason="receipt")
    move_transfer(transfer, "received", ctx.command, logged, label)
    if lost_any:
        _after_resourcing(ctx, "transfer_missing", before)


def _arrivals(open_items: list[TransferItem], lines: list | None) -> dict[int, tuple[int, int]]:
    """Per open transfer item: (usable units that arrived for it, damaged units of it), from the
    counted lines; refused (nothing changed) for a SKU not on the transfer, a count that differs
    from what was sent without a note, or damaged units without one."""
    if lines is None:
        return {ti.id: (ti.quantity, 0) for ti in open_items}
    by_sku: dict[str, list[TransferItem]] = {}
    for ti in open_items:
        by_sku.setdefault(ti.product.sku, []).append(ti)
    errors: dict[str, str] = {}
    for n, line in enumerate(lines):
        sent = sum(ti.quantity for ti in by_sku.get(line.sku, []))
        if line.sku not in by_sku:
            errors[f"lines.{n}.sku"] = _("%(sku)s is not on this transfer.", sku=line.sku)
        elif line.received > sent and not line.note:
            errors[f"lines.{n}.note"] = _("%(count)s unit(s) of %(sku)s arrived but %(sent)s were sent: say why, "
                                          "or count again.", count=line.received, sku=line.sku, sent=sent)
        elif line.received < sent and not line.note:
            errors[f"lines.{n}.note"] = (
                _("Only %(count)s of %(sent)s unit(s) of %(sku)s arrived: say why.", count=line.received, sent=sent,
                  sku=line.sku) if line.received else
                _("None of the %(sent)s unit(s) of %(sku)s that were sent arrived: say why.", sent=sent, sku=line.sku))
        elif line.damaged and not line.note:
            errors[f"lines.{n}.note"] = _("Say why %(count)s unit(s) of %(sku)s are damaged.", count=line.damaged,
                                          sku=line.sku)
    listed = {line.sku: line for line in lines}
    for sku in by_sku:
        if sku not in listed:
            errors[f"lines.{sku}"] = _("Say how many units of %(sku)s arrived (0 if none).", sku=sku)
    if errors:
        raise ValidationFailed(_("The received units are not valid."), errors)
    result: dict[int, tuple[int, int]] = {}
    for sku, items in by_sku.items():
        usable = listed[sku].received - listed[sku].damaged
        for ti in items:
            take = min(usable, ti.quantity)
            usable -= take
            result[ti.id] = (take, ti.quantity - take)
    return result


def _lose_in_transit(ti: TransferItem, quantity: int, label: str, transfer: Transfer) -> None:
    """`quantity` units of `ti` did not arrive usable: the source already booked them out at
    dispatch, so no stock moves there; the transfer item and its package item shrink (or are
    marked missing) so the units become unassigned and `_after_resourcing` plans them again."""
    if quantity >= ti.quantity:
        ti.state = "missing"
    else:
        ti.quantity -= quantity
    item = ti.package_item
    if item.state in NOT_HOLDING_ITEM_STATES:
        return
    if quantity >= item.quantity:
        stock.release(label, transfer.package.number, package_item_ids=[item.id])
        item.state = "missing"
    else:
        item.quantity -= quantity
        item.picked_quantity = min(item.picked_quantity, item.quantity)


def _give_up_units(ctx: TransferCtx, ti: TransferItem, quantity: int, missing: bool) -> None:
    """`quantity` units of `ti` will not come from this source: release (and write off when
    missing) them there, shrink the transfer item and its package item so they become unassigned."""
    transfer, label = ctx.transfer, ctx.actor.label
    stock.release(label, transfer.number, transfer_item_ids=[ti.id],
                  reason="release_missing" if missing else "release")
    keep = ti.quantity - quantity
    if keep:
        # stock.release frees whole reservations; re-take what still travels (same transaction,
        # the stock row stays locked, so the units cannot be lost in between).
        stock.reserve([stock.Need(transfer.source_id, ti.product_id, keep, transfer_item_id=ti.id)], label,
                      transfer.number)
        ti.quantity = keep
    else:
        ti.state = "missing" if missing else "cancelled"
    if missing:
        stock.correct_missing(transfer.source_id, ti.product_id, quantity, label, transfer.number)
        exclude_location(ti.package_item.order_item_id, transfer.source_id, "missing")
    item = ti.package_item
    if item.state in NOT_HOLDING_ITEM_STATES:
        return
    if quantity >= item.quantity:
        stock.release(label, transfer.package.number, package_item_ids=[item.id])
        item.state = "missing" if missing else "cancelled"
    else:
        item.quantity -= quantity
        item.picked_quantity = min(item.picked_quantity, item.quantity)


def _report_missing(ctx: TransferCtx) -> None:
    transfer = ctx.transfer
    by_id = {ti.id: ti for ti in transfer.items}
    errors: dict[str, str] = {}
    for n, line in enumerate(ctx.params.items):
        ti = by_id.get(line.item_id)
        if ti is None or ti.state != "open":
            errors[f"items.{n}.item_id"] = "This item is not an open item of this transfer."
        elif line.quantity > ti.quantity:
            errors[f"items.{n}.quantity"] = f"The transfer holds only {ti.quantity} unit(s) of {ti.product.sku}."
    if errors:
        raise ValidationFailed(_('Some missing items are not valid.'), errors)
    before = item_quantities(transfer.package)
    for line in ctx.params.items:
        _give_up_units(ctx, by_id[line.item_id], line.quantity, missing=True)
    if any(ti.state == "open" for ti in transfer.items):
        events.log_transition("transfer", transfer.id, transfer.state, transfer.state, ctx.command, ctx.log_params,
                       ctx.actor.label)
    else:
        move_transfer(transfer, "out_of_stock", ctx.command, ctx.log_params, ctx.actor.label)
    _after_resourcing(ctx, "transfer_missing", before)


def _out_of_stock(ctx: TransferCtx) -> None:
    before = item_quantities(ctx.transfer.package)
    for ti in ctx.transfer.items:
        if ti.state == "open":
            _give_up_units(ctx, ti, ti.quantity, missing=True)
    move_transfer(ctx.transfer, "out_of_stock", ctx.command, ctx.log_params, ctx.actor.label)
    _after_resourcing(ctx, "transfer_out_of_stock", before)


def _cancel(ctx: TransferCtx) -> None:
    before = item_quantities(ctx.transfer.package)
    for ti in ctx.transfer.items:
        if ti.state == "open":
            _give_up_units(ctx, ti, ti.quantity, missing=False)
            # A cancelled transfer is not planned again from the same source (that is what the
            # supervisor just undid); nothing is written off there.
            exclude_location(ti.package_item.order_item_id, ctx.transfer.source_id, "transfer_cancelled")
    move_transfer(ctx.transfer, "cancelled", ctx.command, ctx.log_params, ctx.actor.label)
    _after_resourcing(ctx, "transfer_cancelled", before)


def _after_resourcing(ctx: TransferCtx, trigger: str, before: list[dict[str, Any]]) -> None:
    """Units the transfer will not bring are planned again: into the same package first (by the
    scenario's rules: another transfer into its location), else wherever the rules allow. A
    package left holding nothing is cancelled; otherwise it reports its new quantities."""
    package, label = ctx.transfer.package, ctx.actor.label
    if package.state in NOT_HOLDING_PACKAGE_STATES:
        replan(package.order, trigger, label)
        return
    replan(package.order, trigger, label, into=package)
    if package.state in NOT_HOLDING_PACKAGE_STATES:
        package.version += 1  # the rules moved the whole package elsewhere
    elif not holding_items(package):
        cancel_package(package, label, trigger)
        package.version += 1
    else:
        items_changed(package, before)


def release_package_if_ready(package: Package, actor_label: str, command: str) -> None:
    """A package waiting for transfers may be prepared once none of them is still on its way."""
    if package.state != "waiting_for_transfer":
        return
    if all(t.state in FINISHED_TRANSFER_STATES for t in package.transfers):
        move_package(package, "waiting", command, {}, actor_label)
        package.version += 1


HANDLERS: dict[str, Callable[[TransferCtx], None]] = {
    "ready_for_dispatch": _ready_for_dispatch,
    "dispatch": _dispatch,
    "receive": _receive,
    "report_missing": _report_missing,
    "out_of_stock": _out_of_stock,
    "cancel": _cancel,
}
assert set(HANDLERS) == set(TRANSFER_TRANSITIONS) == set(TRANSFER_COMMAND_PARAMS)


def _lock_transfer(transfer_id: int, actor: Actor) -> Transfer:
    """Lock order, package, then transfer (the order every command takes rows in), or 404."""
    package_id = db.session.scalar(select(Transfer.package_id).where(Transfer.id == transfer_id))
    transfer = None
    if package_id is not None and lock_order_of(package_id):
        db.session.scalar(select(Package).where(Package.id == package_id).with_for_update()
                          .execution_options(populate_existing=True))
        transfer = db.session.scalar(select(Transfer).where(Transfer.id == transfer_id).with_for_update()
                                     .execution_options(populate_existing=True))
    if transfer is None or not (actor.can_see(transfer.source_id) or actor.can_see(transfer.destination_id)):
        raise NotFound(_('Transfer not found.'))
    return transfer


@timed_command("transfer", known=TRANSFER_TRANSITIONS)
def run_transfer_command(transfer_id: int, command: str, params: dict[str, Any] | None, actor: Actor,
                         expected_version: int | None = None) -> Transfer:
    """Run one transfer command in one transaction and return the transfer.

    Same error contract as `run_package_command`; staff may act when they can see the
    transfer's source or its destination. Every success increments `transfer.version`.
    """
    transition = TRANSFER_TRANSITIONS.get(command)
    if transition is None:
        raise NotFound(_('Unknown transfer command %(command)s.', command=repr(command)), code="unknown_command",
                       details={"commands": list(TRANSFER_TRANSITIONS)})
    def work() -> Transfer:
        transfer = _lock_transfer(transfer_id, actor)
        allowed = allowed_transfer_commands(transfer.state, manager=actor.is_manager)
        if transition.managers_only and not actor.is_manager:
            raise Forbidden(_('Only supervisors and admins may do this.'))
        side_id = {"source": transfer.source_id, "destination": transfer.destination_id}.get(transition.side or "")
        if side_id is not None and not actor.is_manager and not actor.can_see(side_id):
            who = "sending" if transition.side == "source" else "receiving"
            raise Forbidden(_('Only the %(who)s store can do this.', who=who))
        if expected_version is not None and expected_version != transfer.version:
            raise Conflict(_('The transfer was changed by someone else; reload and try again.'), code="stale",
                           details={"state": transfer.state, "allowed_commands": allowed,
                                    "version": transfer.version})
        if transfer.state not in transition.sources:
            raise Conflict(_('A transfer in state %(state)s cannot %(command)s.', state=repr(transfer.state), command=repr(command)),
                           code="command_not_allowed", details={"state": transfer.state, "allowed_commands": allowed})
        validated = parse(TRANSFER_COMMAND_PARAMS[command], params, "The command parameters are not valid.")
        ctx = TransferCtx(package=transfer.package, actor=actor, command=command, params=validated)
        ctx.transfer = transfer
        HANDLERS[command](ctx)
        release_package_if_ready(transfer.package, actor.label, command)
        transfer.version += 1
        refresh_order_status(transfer.package.order, actor.label)
        return transfer

    return write_with_race_retry(work)


def count_transfer_scan(transfer_id: int, barcode: str, actor: Actor) -> Transfer:
    """One scan counts one unit of the transfer for the step at hand (see `SCAN_SIDES`) and
    commits. Like picking it is not version-guarded (scanning twice counts two units), and it
    changes neither the transfer's state nor its version: dispatch and receive stay whole-transfer
    actions. Errors: NotFound, Forbidden (the other side's step), Conflict "command_not_allowed"
    (nobody scans in this state), ValidationFailed (not in this transfer, or every unit counted).
    """
    def work() -> Transfer:
        transfer = _lock_transfer(transfer_id, actor)
        side = scan_side(transfer)
        if side is None:
            raise Conflict(_("A transfer in state %(state)s cannot 'scan'.", state=repr(transfer.state)), code="command_not_allowed",
                           details={"state": transfer.state,
                                    "allowed_commands": allowed_transfer_commands(transfer.state, actor.is_manager)})
        side_id = transfer.source_id if side == "source" else transfer.destination_id
        if not actor.is_manager and not actor.can_see(side_id):
            who = "sending" if side == "source" else "receiving"
            raise Forbidden(_('Only the %(who)s store scans this transfer now.', who=who))
        product_id = db.session.scalar(select(ProductBarcode.product_id).where(ProductBarcode.barcode == barcode))
        items = [ti for ti in transfer.items if ti.state == "open" and ti.product_id == product_id] if product_id else []
        if not items:
            raise ValidationFailed(_('This barcode is not in this transfer.'),
                                   {"barcode": _('This barcode is not in this transfer.')})
        item = next((ti for ti in items if scanned_count(ti, side) < ti.quantity), None)
        if item is None:
            message = _('Every unit of %(sku)s is already counted.', sku=items[0].product.sku)
            raise ValidationFailed(message, {"barcode": message})
        setattr(item, SCAN_COLUMNS[side], scanned_count(item, side) + 1)
        return transfer

    return write_with_race_retry(work)
