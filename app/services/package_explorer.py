"""Packages of the orders the order explorer shows, for the packages CSV: the explorer's filters
(an order matches as on the screen) plus an optional package state; a supervisor limited to some
locations gets only the packages at those. Newest package first, a keyset page at a time."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import Order, Package
from app.models.packages import PACKAGE_STATES
from app.services import listing
from app.services import order_explorer as orders
from app.services.actors import Actor

HEADER = ("package", "order", "channel", "location", "state", "units", "created_at", "updated_at",
          "cargo_company", "tracking_number")


@dataclass(frozen=True)
class PackageFilters:
    orders: orders.OrderFilters
    state: str = ""


def read_filters(args: Mapping[str, str], actor: Actor, problems: listing.Problems) -> PackageFilters:
    return PackageFilters(orders.read_filters(args, actor, problems),
                          listing.choice(args, "state", PACKAGE_STATES, problems))


def packages_query(actor: Actor, f: PackageFilters):
    matching = orders.orders_query(actor, f.orders).with_only_columns(Order.id).scalar_subquery()
    query = select(Package).where(Package.order_id.in_(matching))
    if actor.location_ids is not None:
        query = query.where(Package.location_id.in_(actor.location_ids or {-1}))
    if f.state:
        query = query.where(Package.state == f.state)
    return query


def count(actor: Actor, f: PackageFilters) -> int:
    return db.session.scalar(select(func.count()).select_from(packages_query(actor, f).subquery())) or 0


def export_rows(actor: Actor, f: PackageFilters, batch: int = 500) -> Iterator[list[Any]]:
    last: tuple[Any, int] | None = None
    while True:
        query = (packages_query(actor, f)
                 .options(selectinload(Package.items), selectinload(Package.location),
                          selectinload(Package.order).selectinload(Order.channel), selectinload(Package.shipment))
                 .order_by(Package.created_at.desc(), Package.id.desc()).limit(batch))
        if last is not None:
            query = query.where(or_(Package.created_at < last[0],
                                    and_(Package.created_at == last[0], Package.id < last[1])))
        found = list(db.session.scalars(query))
        rows = [_csv_row(p) for p in found]
        last = (found[-1].created_at, found[-1].id) if found else None
        db.session.expunge_all()
        yield from rows
        if len(found) < batch:
            return


def _csv_row(p: Package) -> list[Any]:
    shipment = p.shipment
    return [p.number, p.order.number, p.order.channel.code, p.location.code, p.state,
            sum(i.quantity for i in p.items), p.created_at, p.updated_at,
            shipment.cargo_company.code if shipment is not None and shipment.cargo_company else None,
            shipment.tracking_number if shipment is not None else None]
