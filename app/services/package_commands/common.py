"""Building blocks of the command layer shared by the package, transfer and order commands:
the handler context, the lock order, re-planning inside a command and after-commit jobs. Flush
only, never commit. How work orders change state lives one layer down, in `services.lifecycle`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from pydantic import BaseModel
from redis.exceptions import RedisError
from sqlalchemy import bindparam, select

from app.extensions import db
from app.models import CargoCompany, Order, Package, Shipment
from app.queues import enqueue
from app.services.actors import Actor
from app.services.errors import ValidationFailed
from app.services.planning import plan_unassigned

log = logging.getLogger(__name__)


@dataclass
class Ctx:
    """What a command handler gets: the locked package, who acts, validated params."""

    package: Package
    actor: Actor
    command: str
    params: Any  # the command's pydantic model
    after_commit: list[Callable[[], None]] = field(default_factory=list)

    @property
    def log_params(self) -> dict[str, Any]:
        return self.params.model_dump(mode="json", exclude_none=True) if isinstance(self.params, BaseModel) else {}


def lock_order_of(package_id: int) -> bool:
    """Lock the order row of a package before the package itself. Every command takes its rows in
    the same order (order, package, transfer, then stock by location and product), so concurrent
    commands on one order queue up instead of deadlocking. False when the package does not exist."""
    return db.session.scalar(_LOCK_ORDER_OF, {"package_id": package_id}) is not None


_LOCK_ORDER_OF = (select(Order.id).join(Package, Package.order_id == Order.id)
                  .where(Package.id == bindparam("package_id")).with_for_update(of=Order))


def replan(order: Order, trigger: str, actor_label: str, into: Package | None = None) -> None:
    """Plan the order's unassigned units in this transaction (the planner only flushes); `into`
    is the open package that lost them, which the rules try to refill first."""
    plan_unassigned(order, trigger, actor_label, into=into)


def cargo_company_by_code(code: str, field_name: str = "cargo_company") -> CargoCompany:
    company = db.session.scalar(select(CargoCompany).where(CargoCompany.code == code))
    if company is None or not company.active:
        raise ValidationFailed(_('Unknown cargo company.'), {field_name: _('No active cargo company with code %(code)s.', code=repr(code))})
    return company


def safe_enqueue(queue: str, func: str, *args: Any, job_id: str | None = None) -> None:
    """Enqueue after commit. The change is already committed, so a Redis outage is logged, not
    raised: the periodic sweepers (label polling, re-planning) pick the work up later."""
    try:
        enqueue(queue, func, *args, job_id=job_id)
    except (RedisError, OSError):
        log.warning("could not enqueue %s %s; a sweeper will retry", func, args, exc_info=True)


def label_job(shipment: Shipment) -> Callable[[], None]:
    """The after-commit callable that asks the carrier for this shipment's label."""
    shipment_id, version = shipment.id, shipment.version
    return lambda: safe_enqueue("carriers", "app.tasks.carriers.request_label", shipment_id,
                                job_id=f"label-{shipment_id}-{version}")


def invoice_job(package: Package) -> Callable[[], None]:
    """After packing without a carrier label job, ask the invoice service (when one is configured)."""
    package_id = package.id

    def follow_up() -> None:
        if current_app.config.get("INVOICE_SERVICE_URL"):
            safe_enqueue("carriers", "app.tasks.carriers.fetch_invoice", package_id, job_id=f"invoice-{package_id}")

    return follow_up
