"""Customer returns (SPEC §14): create one, run its commands, count scans, finish receiving.

Every public function is one write transaction (`write_with_race_retry`) that locks the order
row, then the return row — the order every command takes rows in — so two tablets finishing the
same return, or two requests returning the same units, queue up: the second sees the first's
result (a state conflict, or fewer units left to return) and changes nothing.

Stock enters only at inspection: resellable units through the ledger as `return_restock` at the
return's location, damaged ones recorded as `write_off`. After the commit a re-plan is queued for
out-of-stock packages that want a restocked SKU (`planning.replan.on_stock_increase`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select

from app.extensions import db
from app.models import Order, Package, PackageItem, Product, ProductBarcode, StockLocation
from app.models.base import utcnow
from app.models.returns import Return, ReturnItem
from app.schemas import parse
from app.schemas.returns import RETURN_COMMAND_PARAMS, InspectParams, ReceiveParams, ReturnIn
from app.services import events, stock
from app.services.actors import Actor
from app.services.db import write_with_race_retry
from app.services.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.services.planning.replan import on_stock_increase
from app.services.returns.data import return_dict
from app.services.returns.states import (
    EXPECTED_RETURN_STATES,
    INSPECT_TARGET,
    RETURN_TRANSITIONS,
    allowed_return_commands,
)
from app.services.transitions import NOT_HOLDING_ITEM_STATES, SHIPPED_OR_LATER

FAILED_DELIVERY_ACTOR = "system:returns"


@dataclass
class _Done:
    """What a transaction did that matters after its commit."""

    ret: Return
    restocked: set[int]


# ------------------------------------------------------------------------------ state changes

def _move(ret: Return, to_state: str, command: str, params: dict[str, Any] | None, actor_label: str) -> None:
    old = ret.state
    ret.state = to_state
    ret.updated_at = utcnow()
    events.log_transition("return", ret.id, old, to_state, command, params, actor_label)
    db.session.flush()
    events.emit("return.state_changed", "return", ret.id, return_dict(ret), previous={"state": old})


def _lock_order(order_id: int) -> Order | None:
    return db.session.scalar(select(Order).where(Order.id == order_id).with_for_update()
                             .execution_options(populate_existing=True))


def _lock_return(return_id: int, actor: Actor) -> Return:
    """Lock the order, then the return; 404 when it does not exist or the actor cannot see its location."""
    order_id = db.session.scalar(select(Return.order_id).where(Return.id == return_id))
    ret = None
    if order_id is not None and _lock_order(order_id) is not None:
        ret = db.session.scalar(select(Return).where(Return.id == return_id).with_for_update()
                                .execution_options(populate_existing=True))
    if ret is None or not actor.can_see(ret.location_id):
        raise NotFound(_("There is no return %(id)s.", id=return_id))
    return ret


# ------------------------------------------------------------------------------ what may come back

def returned_so_far(order_id: int, exclude_return_id: int | None = None) -> dict[int, int]:
    """Units per product already on a return of this order: listed while still expected, as
    received afterwards; cancelled returns count nothing."""
    query = (select(Return.state, ReturnItem.product_id, ReturnItem.quantity, ReturnItem.received)
             .join(ReturnItem, ReturnItem.return_id == Return.id)
             .where(Return.order_id == order_id, Return.state != "cancelled"))
    if exclude_return_id is not None:
        query = query.where(Return.id != exclude_return_id)
    totals: dict[int, int] = {}
    for state, product_id, quantity, received in db.session.execute(query):
        units = quantity if state in EXPECTED_RETURN_STATES else received
        totals[product_id] = totals.get(product_id, 0) + units
    return totals


def shipped_units(order_id: int) -> dict[int, int]:
    """Units per product of this order that left for the customer (shipped, handed over, or on
    their way back after a failed delivery)."""
    rows = db.session.execute(
        select(PackageItem.product_id, func.sum(PackageItem.quantity))
        .join(Package, Package.id == PackageItem.package_id)
        .where(Package.order_id == order_id, Package.state.in_(SHIPPED_OR_LATER),
               PackageItem.state.not_in(NOT_HOLDING_ITEM_STATES))
        .group_by(PackageItem.product_id))
    return {product_id: int(total) for product_id, total in rows}


def returnable_units(order_id: int, exclude_return_id: int | None = None) -> dict[int, int]:
    """Units per product the customer may still return: shipped minus already on a return."""
    returned = returned_so_far(order_id, exclude_return_id)
    return {pid: max(0, units - returned.get(pid, 0)) for pid, units in shipped_units(order_id).items()}


# ------------------------------------------------------------------------------ creating

def _next_number(order: Order) -> str:
    count = db.session.scalar(select(func.count(Return.id)).where(Return.order_id == order.id)) or 0
    return f"{order.number}-R{count + 1}"


def create_return(data: Any, actor: Actor, source: str = "api", channel_ref: str | None = None,
                  form_drawn_at: datetime | None = None) -> Return:
    """Create a return of shipped units (the API body of SPEC §14; `source` says where it came
    from: api, counter, channel). Refused (422, nothing changed): an unknown order or location,
    a location the actor cannot work at, a SKU never shipped on this order, more units than are
    left to return. `channel_ref` is the channel's own return/refund id: a second return with the
    same one on the order is a Conflict `duplicate_channel_return` (the unique constraint holds
    should two workers get past the check at once)."""
    body = parse(ReturnIn, data, "The return is not valid.")

    def work() -> Return:
        location = db.session.scalar(select(StockLocation).where(StockLocation.code == body.location))
        if location is None or not location.active or not actor.can_see(location.id):
            raise ValidationFailed(_("The return is not valid."), {"location": _(
                "There is no active location %(code)s you can work at.", code=body.location)})
        order = _lock_order(body.order)
        if order is None:
            raise ValidationFailed(_("The return is not valid."), {"order": _("There is no order %(id)s.", id=body.order)})
        if channel_ref is not None:
            existing = db.session.scalar(select(Return).where(Return.order_id == order.id,
                                                              Return.channel_ref == channel_ref))
            if existing is not None:
                raise Conflict(_("Return %(number)s was already made from this channel return.",
                                 number=existing.number), code="duplicate_channel_return",
                               details={"return": existing.id})
        if form_drawn_at is not None:
            taken = _taken_since(order.id, location.id, source, body.items, form_drawn_at)
            if taken is not None:
                raise Conflict(_("Return %(number)s was already taken with these items.", number=taken.number),
                               code="return_already_taken", details={"return": taken.id})
        by_sku = _products_by_sku([line.sku for line in body.items])
        left = returnable_units(order.id)
        shipped = shipped_units(order.id)
        errors: dict[str, str] = {}
        for n, line in enumerate(body.items):
            product_id = by_sku.get(line.sku)
            if product_id is None or product_id not in shipped:
                errors[f"items.{n}.sku"] = _("%(sku)s was never shipped on order %(number)s.", sku=line.sku,
                                               number=order.number)
            elif line.quantity > left.get(product_id, 0):
                already = shipped[product_id] - left.get(product_id, 0)
                errors[f"items.{n}.quantity"] = _(
                    "Only %(left)s unit(s) of %(sku)s can still be returned (%(shipped)s shipped, %(already)s "
                    "already on a return).", left=left.get(product_id, 0), sku=line.sku,
                    shipped=shipped[product_id], already=already)
        if errors:
            raise ValidationFailed(_("The return is not valid."), errors)
        ret = Return(number=_next_number(order), order=order, location=location, source=source,
                     reason=body.reason, created_by=actor.label, state="requested", channel_ref=channel_ref)
        ret.items = [ReturnItem(product_id=by_sku[line.sku], quantity=line.quantity, reason=line.reason)
                     for line in body.items]
        db.session.add(ret)
        db.session.flush()
        _created(ret, body.model_dump(mode="json", exclude_none=True), actor.label)
        return ret

    return write_with_race_retry(work)


def _taken_since(order_id: int, location_id: int, source: str, items: list, since: datetime) -> Return | None:
    """A return of the order at the location from the same source, made since `since` (when the
    form was drawn) with exactly these items (SKU, units, reason): the same form sent again. Read
    under the order's lock, so two sends at once make one return."""
    posted = sorted((line.sku, line.quantity, line.reason) for line in items)
    for ret in db.session.scalars(select(Return).where(
            Return.order_id == order_id, Return.location_id == location_id, Return.source == source,
            Return.state != "cancelled", Return.created_at >= since).order_by(Return.id.desc())):
        if sorted((i.product.sku, i.quantity, i.reason) for i in ret.items) == posted:
            return ret
    return None


def _created(ret: Return, params: dict[str, Any], actor_label: str) -> None:
    events.log_transition("return", ret.id, None, ret.state, "create", params, actor_label)
    db.session.flush()
    events.emit("return.created", "return", ret.id, return_dict(ret))


def _products_by_sku(skus: list[str]) -> dict[str, int]:
    return dict(db.session.execute(select(Product.sku, Product.id).where(Product.sku.in_(skus))).all())


# ------------------------------------------------------------------------------ failed deliveries

def open_failed_delivery_return(package: Package, actor_label: str) -> Return | None:
    """A parcel the carrier could not deliver comes back to where it was packed: a return
    `in_transit` to the package's location with the package's units (once per package). Flush only:
    the package command that moved the package to `delivery_failed` commits it."""
    existing = db.session.scalar(select(Return).where(Return.package_id == package.id))
    if existing is not None:
        if existing.state == "cancelled":  # failed again after it was delivered after all
            _move(existing, "in_transit", "delivery_failed", {"package": package.number}, actor_label)
        return existing
    quantities: dict[int, int] = {}
    for item in package.items:
        if item.state not in NOT_HOLDING_ITEM_STATES:
            quantities[item.product_id] = quantities.get(item.product_id, 0) + item.quantity
    # Units already on a return (the customer refused the parcel and the channel opened one)
    # come back with that return; expecting them twice would restock them twice.
    left = returnable_units(package.order_id)
    quantities = {pid: min(qty, left.get(pid, 0)) for pid, qty in quantities.items() if left.get(pid, 0) > 0}
    if not quantities:
        return None
    ret = Return(number=_next_number(package.order), order=package.order, location_id=package.location_id,
                 package=package, source="delivery_failed", state="in_transit", created_by=actor_label,
                 reason="The carrier could not deliver the parcel.")
    ret.items = [ReturnItem(product_id=pid, quantity=qty) for pid, qty in sorted(quantities.items())]
    db.session.add(ret)
    db.session.flush()
    _created(ret, {"package": package.number}, actor_label)
    return ret


def close_failed_delivery_return(package: Package, actor_label: str) -> None:
    """The carrier delivered (or is trying again) after all: the return that was waiting for the
    parcel is cancelled, unless the parcel already arrived back. Flush only."""
    ret = db.session.scalar(select(Return).where(Return.package_id == package.id).with_for_update())
    if ret is not None and ret.state in EXPECTED_RETURN_STATES:
        _move(ret, "cancelled", "carrier_status", {"package": package.number}, actor_label)


# ------------------------------------------------------------------------------ commands

def _receive(ret: Return, params: ReceiveParams, command: str, log: dict[str, Any], actor_label: str) -> None:
    by_sku = {item.product.sku: item for item in ret.items}
    errors: dict[str, str] = {}
    if params.items is None:
        counted = {item.id: (item.quantity, None) for item in ret.items}
    else:
        counted = {item.id: (0, None) for item in ret.items}
        for n, line in enumerate(params.items):
            item = by_sku.get(line.sku)
            if item is None:
                errors[f"items.{n}.sku"] = _("%(sku)s is not on this return.", sku=line.sku)
                continue
            counted[item.id] = (line.quantity, line.note)
    left = returnable_units(ret.order_id, exclude_return_id=ret.id)
    for n, item in enumerate(ret.items):
        quantity, note = counted[item.id]
        key = _line_key(params.items, item.product.sku, n)
        if quantity > item.quantity:
            if not note:
                errors[f"{key}.note"] = _("%(count)s unit(s) of %(sku)s arrived but the return lists %(listed)s: "
                                           "say why.", count=quantity, sku=item.product.sku, listed=item.quantity)
            elif quantity > left.get(item.product_id, 0):
                errors[f"{key}.quantity"] = _("At most %(count)s unit(s) of %(sku)s were shipped on this order and "
                                               "not returned yet.", count=left.get(item.product_id, 0),
                                               sku=item.product.sku)
    if not errors and not any(quantity for quantity, _ in counted.values()):
        errors["items"] = _("Nothing arrived: count at least one unit, or cancel the return.")
    if errors:
        raise ValidationFailed(_("The received units are not valid."), errors)
    differences = {}
    for item in ret.items:
        quantity, note = counted[item.id]
        item.received = quantity
        item.note = note
        if quantity != item.quantity:
            differences[item.product.sku] = quantity - item.quantity
    ret.received_at = utcnow()
    _move(ret, "received", command, {**log, **({"over_short": differences} if differences else {})}, actor_label)


def _line_key(lines: list | None, sku: str, index: int) -> str:
    if lines is None:
        return f"items.{index}"
    for n, line in enumerate(lines):
        if line.sku == sku:
            return f"items.{n}"
    return f"items.{index}"


def _inspect(ret: Return, params: InspectParams, command: str, log: dict[str, Any], actor_label: str) -> set[int]:
    """Resellable units back on the shelf (`return_restock`), damaged ones written off; returns the
    restocked product ids."""
    by_sku = {item.product.sku: item for item in ret.items}
    listed = {line.sku: (n, line) for n, line in enumerate(params.items)}
    errors: dict[str, str] = {}
    for n, line in enumerate(params.items):
        if line.sku not in by_sku:
            errors[f"items.{n}.sku"] = _("%(sku)s is not on this return.", sku=line.sku)
    for item in ret.items:
        sku = item.product.sku
        n, line = listed.get(sku, (None, None))
        if line is None:
            if item.received:
                errors["items"] = _("Say how many of the %(count)s received unit(s) of %(sku)s can be sold again.",
                                     count=item.received, sku=sku)
            continue
        if line.resellable + line.damaged != item.received:
            errors[f"items.{n}.resellable"] = _("%(count)s unit(s) of %(sku)s were received: resellable and "
                                                 "damaged must add up to %(count)s.", count=item.received, sku=sku)
        elif line.damaged and not line.reason:
            errors[f"items.{n}.reason"] = _("Say why %(count)s unit(s) of %(sku)s are damaged.", count=line.damaged,
                                             sku=sku)
    if errors:
        raise ValidationFailed(_("The inspection is not valid."), errors)
    restocked: set[int] = set()
    for item in ret.items:
        _n, line = listed.get(item.product.sku, (None, None))
        if line is None:
            continue
        item.resellable, item.damaged = line.resellable, line.damaged
        if line.damaged and line.reason and line.reason != item.note:
            # The screen's Finish gives one reason as both the receive note and the inspection
            # reason: stored once, not "torn seam; torn seam".
            item.note = "; ".join(filter(None, (item.note, line.reason)))[:500]
        if line.resellable:
            stock.receive(ret.location_id, item.product_id, line.resellable, actor_label, ret.number,
                          reason="return_restock")
            restocked.add(item.product_id)
        if line.damaged:
            stock.record_write_off(ret.location_id, item.product_id, line.damaged, actor_label, ret.number,
                                   note=line.reason)
    ret.inspected_at = utcnow()
    _move(ret, "inspected", command, log, actor_label)
    _move(ret, "restocked" if restocked else "written_off", command, {}, actor_label)
    events.emit("return.refund_ready", "return", ret.id, return_dict(ret))
    return restocked


def _check(ret: Return, command: str, actor: Actor, expected_version: int | None) -> None:
    transition = RETURN_TRANSITIONS[command]
    allowed = allowed_return_commands(ret.state, actor.is_manager)
    if transition.managers_only and not actor.is_manager:
        raise Forbidden(_("Only supervisors and admins may do this."))
    if expected_version is not None and expected_version != ret.version:
        raise Conflict(_("The return was changed by someone else; reload and try again."), code="stale",
                       details={"state": ret.state, "allowed_commands": allowed, "version": ret.version})
    if ret.state not in transition.sources:
        raise Conflict(f"A return in state {ret.state!r} cannot {command!r}.", code="command_not_allowed",
                       details={"state": ret.state, "allowed_commands": allowed})


def _committed(work: Callable[[], _Done]) -> Return:
    done = write_with_race_retry(work)
    if done.restocked:
        on_stock_increase(done.ret.location_id, done.restocked)
    return done.ret


def run_return_command(return_id: int, command: str, params: dict[str, Any] | None, actor: Actor,
                       expected_version: int | None = None) -> Return:
    """Run one return command (`ship`, `receive`, `inspect`, `cancel`) in one transaction.

    Errors: NotFound (unknown command or return, or another location's), Forbidden (cancel by
    staff), Conflict `command_not_allowed` (wrong state: finishing twice) or `stale` (version),
    ValidationFailed (bad parameters). Every success increments `version`.
    """
    if command not in RETURN_TRANSITIONS:
        raise NotFound(f"Unknown return command {command!r}.", code="unknown_command",
                       details={"commands": list(RETURN_TRANSITIONS)})
    validated = parse(RETURN_COMMAND_PARAMS[command], params, "The command parameters are not valid.")
    log = validated.model_dump(mode="json", exclude_none=True)

    def work() -> _Done:
        ret = _lock_return(return_id, actor)
        _check(ret, command, actor, expected_version)
        restocked: set[int] = set()
        if command == "receive":
            _receive(ret, validated, command, log, actor.label)
        elif command == "inspect":
            restocked = _inspect(ret, validated, command, log, actor.label)
        else:
            target = RETURN_TRANSITIONS[command].target
            assert target is not None and target != INSPECT_TARGET
            _move(ret, target, command, log, actor.label)
        ret.version += 1
        return _Done(ret, restocked)

    return _committed(work)


@dataclass(frozen=True)
class FinishedLine:
    """One line as the receiving screen finishes it: units that arrived, how many of them are
    damaged, and the receiver's note (required for over, short and damaged)."""

    sku: str
    received: int
    damaged: int = 0
    note: str | None = None


def finish_receiving(return_id: int, lines: list[FinishedLine], actor: Actor,
                     expected_version: int | None = None) -> Return:
    """The receiving screen's Finish: receive and inspect in one transaction (a return already
    received through the API is only inspected). Short, over and damaged lines need a note.
    Finishing twice (a double tap, two tablets) is a Conflict the second time; nothing is counted
    twice."""
    by_sku = {line.sku: line for line in lines}
    errors: dict[str, str] = {}
    for line in lines:
        if line.received < 0 or line.damaged < 0:
            errors[f"{line.sku}.received"] = _("Counts cannot be negative.")
        elif line.damaged > line.received:
            errors[f"{line.sku}.damaged"] = _("Damaged units cannot be more than the units that arrived.")
    if errors:
        raise ValidationFailed(_("Some counts are not valid."), errors)

    def work() -> _Done:
        ret = _lock_return(return_id, actor)
        if expected_version is not None and expected_version != ret.version:
            _check(ret, "receive" if ret.state in EXPECTED_RETURN_STATES else "inspect", actor, expected_version)
        if ret.state in EXPECTED_RETURN_STATES:
            missing_note = [item.product.sku for item in ret.items
                            if (line := by_sku.get(item.product.sku)) is not None
                            and line.received != item.quantity and not line.note]
            if missing_note:
                raise ValidationFailed(_("Say why the count differs."), {
                    f"{sku}.note": _("The count of %(sku)s differs from the return: say why.", sku=sku)
                    for sku in missing_note})
            receive = ReceiveParams.model_validate({"items": [
                {"sku": line.sku, "quantity": line.received, **({"note": line.note} if line.note else {})}
                for line in lines]})
            _receive(ret, receive, "receive", {"screen": True}, actor.label)
        else:
            _check(ret, "inspect", actor, None)
        inspect = InspectParams.model_validate({"items": [
            {"sku": item.product.sku, "resellable": item.received - _damaged(by_sku, item),
             "damaged": _damaged(by_sku, item),
             **({"reason": by_sku[item.product.sku].note} if item.product.sku in by_sku
                and by_sku[item.product.sku].note else {})}
            for item in ret.items]})
        restocked = _inspect(ret, inspect, "inspect", {"screen": True}, actor.label)
        ret.version += 1
        return _Done(ret, restocked)

    return _committed(work)


def _damaged(by_sku: dict[str, FinishedLine], item: ReturnItem) -> int:
    line = by_sku.get(item.product.sku)
    return min(line.damaged, item.received) if line is not None else 0


def count_return_scan(return_id: int, barcode: str, actor: Actor) -> tuple[Return, ReturnItem]:
    """One scan counts one unit of a return that is still expected; more than listed is allowed
    (it shows as over and needs a note at Finish) up to what may still come back (shipped on the
    order and not on another return); a scan beyond that is refused at once. Errors: NotFound,
    Conflict `command_not_allowed` (already received), ValidationFailed (a barcode that is not on
    this return: `barcode`; a unit more than may come back: `barcode` with code `too_many`)."""
    def work() -> tuple[Return, ReturnItem]:
        ret = _lock_return(return_id, actor)
        if ret.state not in EXPECTED_RETURN_STATES:
            raise Conflict(f"A return in state {ret.state!r} cannot 'scan'.", code="command_not_allowed",
                           details={"state": ret.state,
                                    "allowed_commands": allowed_return_commands(ret.state, actor.is_manager)})
        product_id = db.session.scalar(select(ProductBarcode.product_id).where(ProductBarcode.barcode == barcode))
        item = next((i for i in ret.items if product_id is not None and i.product_id == product_id), None)
        if item is None:
            raise ValidationFailed(_("This barcode is not on this return."),
                                   {"barcode": _("This barcode is not on this return.")})
        may_come_back = max(item.quantity, returnable_units(ret.order_id, exclude_return_id=ret.id)
                            .get(item.product_id, 0))
        if item.scanned >= may_come_back:
            message = _("%(count)s unit(s) of %(sku)s may come back on this return and all are counted: this one "
                        "is not from this order. Put it aside and ask your supervisor.", count=may_come_back,
                        sku=item.product.sku)
            raise ValidationFailed(message, {"barcode": message}, code="too_many")
        item.scanned += 1
        return ret, item

    return write_with_race_retry(work)


def reset_return_scans(return_id: int, actor: Actor) -> Return:
    """Start counting again (a miscount): every line's running count back to zero."""
    def work() -> Return:
        ret = _lock_return(return_id, actor)
        if ret.state in EXPECTED_RETURN_STATES:
            for item in ret.items:
                item.scanned = 0
        return ret

    return write_with_race_retry(work)
