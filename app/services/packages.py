"""Package commands (SPEC §5): the one entry point the UI, the API and jobs call.

`run_package_command` locks the package row, checks scope, the transition table
(app/services/transitions.py) and the optimistic version, validates the parameters with the
command's pydantic model, runs the handler (stock effects, transition log, outbox events),
bumps the version and commits once. Follow-up jobs are enqueued after the commit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import bindparam, select
from sqlalchemy.orm import contains_eager, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from app.extensions import db
from app.metrics import timed_command
from app.models import Invoice, Order, Package, PackageItem, Product, Shipment, Transfer
from app.schemas import parse
from app.schemas.commands import PACKAGE_COMMAND_PARAMS
from app.services import config_cache, deferred_rows, pickup_codes
from app.services.actors import Actor
from app.services.db import write_with_race_retry
from app.services.errors import Conflict, Forbidden, NotFound, ServiceError
from app.services.order_status import refresh_order_status, status_class
from app.services.package_commands import picking, shipping
from app.services.package_commands.common import Ctx
from app.services.transitions import (
    PACKAGE_TRANSITIONS,
    Transition,
    allowed_package_commands,
    package_guard_failure,
)

HANDLERS: dict[str, Callable[[Ctx], None]] = {
    "prepare": picking.prepare,
    "pick": picking.pick,
    "report_missing": picking.report_missing,
    "complete_packing": shipping.complete_packing,
    "complete_packing_without_shipment": shipping.complete_packing_without_shipment,
    "complete_packing_channel": shipping.complete_packing_channel,
    "create_shipment": shipping.create_shipment,
    "refresh_label": shipping.refresh_label,
    "update_shipment_info": shipping.update_shipment_info,
    "ship": shipping.ship,
    "ship_advanced": shipping.ship_advanced,
    "ship_without_integration": shipping.ship_without_integration,
    "update_shipment_status": shipping.update_shipment_status,
    "ready_for_pickup": shipping.ready_for_pickup,
    "deliver_to_customer": shipping.deliver_to_customer,
    "refuse": picking.refuse,
    "deallocate": picking.deallocate,
    "packed_for_refund": picking.packed_for_refund,
    "block": picking.block,
    "unblock": picking.unblock,
    "update_invoice": shipping.update_invoice,
    "manual_plan": picking.manual_plan,
    "cancel": picking.cancel,
}

assert set(HANDLERS) == set(PACKAGE_TRANSITIONS) == set(PACKAGE_COMMAND_PARAMS)

# Commands that change no package's state but their own and no order item. The order's status
# is derived from its items and its packages' states (`order_status.status_from`): while the
# package's state stays in the same class (`status_class`: preparing → packed, or a scan that
# keeps the state), the order's status cannot move, so it is not derived again (two reads of the
# order's items and packages, docs/benchmarks.md). Commands that re-plan, release, cancel or
# open returns are not here: they always derive it.
OWN_PACKAGE_ONLY = frozenset({
    "prepare", "pick", "complete_packing", "complete_packing_without_shipment", "complete_packing_channel",
    "create_shipment", "refresh_label", "update_shipment_info", "ship", "ship_advanced",
    "ship_without_integration", "ready_for_pickup", "update_invoice",
})


# What a command and its response read of a package, loaded with it instead of one lazy load per
# relationship and per item (docs/benchmarks.md, "Command API"). The locking statement locks the
# order row and then the package row (`FOR UPDATE OF orders, packages`: PostgreSQL locks a row's
# marks in that order, the lock order every command keeps, `lock_order_of`) and joins only plain
# reference rows besides. After waiting for a lock PostgreSQL re-reads the rows it locks, not the
# other rows joined to them, so everything another writer may change while the statement waits
# (the shipment and invoice: label jobs lock the package without the order; the transfers) comes
# in one statement after the lock, read fresh.
#
# Every statement is built once with a bound package id: SQLAlchemy keeps a statement object's
# cache key, while selectinload() builds and keys a new statement on every load — with these
# options that had cost more than running the queries (docs/benchmarks.md, 2026-12-07).
_FRESH = {"populate_existing": True}
_LOCK_PACKAGE = (
    select(Package).join(Package.order).where(Package.id == bindparam("package_id"))
    .options(contains_eager(Package.order).joinedload(Order.channel), joinedload(Package.location))
    .with_for_update(of=[Order, Package]).execution_options(**_FRESH)
)
_PACKAGE_ITEMS = (
    select(PackageItem).where(PackageItem.package_id == bindparam("package_id")).order_by(PackageItem.id)
    .options(joinedload(PackageItem.product).joinedload(Product.barcodes)).execution_options(**_FRESH)
)
# The shipment and the invoice (at most one of each per package: unique keys) and the transfers
# (mostly none) in one statement: one row per transfer, or one row.
_PACKAGE_SHIPMENT_INVOICE_TRANSFERS = (
    select(Shipment, Invoice, Transfer).select_from(Package)
    .outerjoin(Shipment, Shipment.package_id == Package.id).outerjoin(Invoice, Invoice.package_id == Package.id)
    .outerjoin(Transfer, Transfer.package_id == Package.id)
    .where(Package.id == bindparam("package_id")).order_by(Transfer.id).execution_options(**_FRESH)
)


_PACKAGE_AT = (
    select(Package).where(Package.id == bindparam("package_id"), Package.location_id == bindparam("location_id"))
    .options(joinedload(Package.order).joinedload(Order.channel), joinedload(Package.location))
)


def _with_graph(package: Package | None) -> Package | None:
    """Set the package's shipment, invoice, items (with products and barcodes) and transfers."""
    if package is not None:
        bound = {"package_id": package.id}
        rows = db.session.execute(_PACKAGE_SHIPMENT_INVOICE_TRANSFERS, bound).all()
        shipment, invoice, _transfer = rows[0] if rows else (None, None, None)
        set_committed_value(package, "shipment", shipment)
        set_committed_value(package, "invoice", invoice)
        set_committed_value(package, "transfers", [t for _s, _i, t in rows if t is not None])
        set_committed_value(package, "items", db.session.scalars(_PACKAGE_ITEMS, bound).unique().all())
    return package


_PACKAGE_BY_ID = (
    select(Package).where(Package.id == bindparam("package_id"))
    .options(joinedload(Package.order).joinedload(Order.channel), joinedload(Package.location))
)


def described_package(package_id: int) -> Package | None:
    """The package with everything its API description reads, in three statements instead of a
    lazy load per relationship and per item; None when there is no such package. No lock."""
    return _with_graph(db.session.scalar(_PACKAGE_BY_ID, {"package_id": package_id}))


def package_at(location_id: int, package_id: int) -> Package | None:
    """The package with what a store page shows of it, if it belongs to the location; None
    otherwise (the caller answers 404). No lock: a command locks and reads it again."""
    return _with_graph(db.session.scalar(_PACKAGE_AT, {"package_id": package_id, "location_id": location_id}))


def lock_package(package_id: int, actor: Actor) -> Package:
    """Load the package with a row lock (its order's row first), or 404 when it is missing or
    outside the actor's scope."""
    package = _with_graph(db.session.scalar(_LOCK_PACKAGE, {"package_id": package_id}))
    if package is None or not actor.can_see(package.location_id):
        raise NotFound(_('Package not found.'))
    return package


def check_package_command(package: Package, transition: Transition, actor: Actor,
                          expected_version: int | None = None) -> None:
    """Raise Forbidden / Conflict when `transition` may not run on `package` now. The allowed
    commands a refusal lists are worked out only when the command is refused."""
    def allowed() -> list[str]:
        return allowed_package_commands(package, manager=actor.is_manager)

    if transition.managers_only and not actor.is_manager:
        raise Forbidden(_('Only supervisors and admins may do this.'))
    if expected_version is not None and expected_version != package.version:
        raise Conflict(_('The package was changed by someone else; reload and try again.'), code="stale",
                       details={"state": package.state, "allowed_commands": allowed(), "version": package.version})
    if package.state not in transition.sources:
        raise Conflict(_('A package in state %(state)s cannot %(command)s.', state=repr(package.state), command=repr(transition.command)),
                       code="command_not_allowed", details={"state": package.state, "allowed_commands": allowed()})
    for guard in transition.guards:
        problem = package_guard_failure(package, guard)
        if problem:
            raise Conflict(problem, code="command_not_allowed",
                           details={"state": package.state, "allowed_commands": allowed()})


class Withdrawn(ServiceError):
    """Raised by a `before` check to stop a command before it changes anything (the store asks
    a question first); `answer` is whatever the check wants to hand back to its caller."""

    status = 200
    code = "withdrawn"

    def __init__(self, answer: Any = None):
        super().__init__("The command was not run.")
        self.answer = answer


@timed_command("package", known=PACKAGE_TRANSITIONS)
def run_package_command(package_id: int, command: str, params: dict[str, Any] | None, actor: Actor,
                        expected_version: int | None = None, location_id: int | None = None,
                        before: Callable[[Package], None] | None = None) -> Package:
    """Run one package command in one transaction and return the package.

    Errors: NotFound (missing, other store or not at `location_id`, unknown command), Forbidden
    (managers-only), Conflict ("command_not_allowed" naming the state and allowed commands, or
    "stale" when `expected_version` is not the current version), ValidationFailed (bad params).
    Nothing is changed when an error is raised. Every success increments `package.version`.

    `before(package)` sees the locked package before any check (a screen reading it, so it
    need not load the package itself first); it may raise `Withdrawn` to stop the command.
    """
    transition = PACKAGE_TRANSITIONS.get(command)
    if transition is None:
        raise NotFound(_('Unknown package command %(command)s.', command=repr(command)), code="unknown_command",
                       details={"commands": list(PACKAGE_TRANSITIONS)})
    def work() -> tuple[Package, Ctx]:
        with deferred_rows.deferring():
            return _work()

    def _work() -> tuple[Package, Ctx]:
        package = lock_package(package_id, actor)
        if location_id is not None and package.location_id != location_id:
            raise NotFound(_('Package not found.'))
        if before is not None:
            before(package)
        # The answer (its allowed commands read REQUIRE_SCAN_TO_PACK) is described after the
        # commit with the configuration this transaction checked: check it here, once, instead
        # of in a transaction of its own after the commit (config_cache).
        config_cache.current()
        check_package_command(package, transition, actor, expected_version)
        validated = parse(PACKAGE_COMMAND_PARAMS[command], params, "The command parameters are not valid.")
        ctx = Ctx(package=package, actor=actor, command=command, params=validated)
        state = package.state
        package.version += 1  # before the handler: its first flush writes it with the state
        HANDLERS[command](ctx)
        if command not in OWN_PACKAGE_ONLY or status_class(package.state) != status_class(state):
            refresh_order_status(package.order, actor.label)
        return package, ctx

    if command == "deliver_to_customer":  # a wrong pickup code is counted before, under a lock
        pickup_codes.verify(package_id, actor, params, transition.sources)
    package, ctx = write_with_race_retry(work, keep_loaded=True)
    if ctx.after_commit:
        for follow_up in ctx.after_commit:
            follow_up()
        if current_app.config.get("RQ_SYNC"):  # the follow-up's job ran inline and may have changed the package
            db.session.expire_all()
    return package
