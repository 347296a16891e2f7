"""/api/v1/packages: list with filters, one package, its commands and its history.

A staff token sees only its locations' packages; anything else answers 404, never 403, so
other stores' work is not even revealed to exist.
"""

from __future__ import annotations

from flask import Response, jsonify, request
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import Order, Package, PackageItem, StockLocation, Transfer
from app.schemas.commands import PACKAGE_COMMAND_PARAMS
from app.schemas.common import MAX_INT, PackageOut, TransitionOut
from app.services import idempotency
from app.services.errors import NotFound
from app.services.packages import described_package, run_package_command
from app.services.representations import package_dict
from app.views.api.access import actor
from app.views.api.bodies import json_object, parse_time
from app.views.api.lists import history_page, paginate
from app.views.api.routing import QueryParam, api_route
from app.views.api.versions import expected_version, with_version

TAG = "Packages"


def _package_commands():
    return PACKAGE_COMMAND_PARAMS


def _loaded():
    return (selectinload(Package.items).selectinload(PackageItem.product),
            selectinload(Package.transfers).selectinload(Transfer.source),
            selectinload(Package.transfers).selectinload(Transfer.destination),
            selectinload(Package.order), selectinload(Package.location),
            selectinload(Package.shipment), selectinload(Package.invoice))


def visible_package(package_id: int, described: bool = False) -> Package:
    """The package if this caller may see it (404 otherwise); `described`: loaded with what its
    description reads."""
    package = described_package(package_id) if described else db.session.get(Package, package_id)
    if package is None or not actor().can_see(package.location_id):
        raise NotFound(_('There is no package %(package_id)s.', package_id=package_id))
    return package


def serialize(package: Package) -> dict:
    return package_dict(package, manager=actor().is_manager)


@api_route("/v1/packages", "GET", summary="List packages (oldest first)", tag=TAG, response=PackageOut, many=True,
           query=(QueryParam("state", repeatable=True, description="Package state; repeat for several"),
                  QueryParam("location", repeatable=True, description="Location code"),
                  QueryParam("order", description="Order id or order number"),
                  QueryParam("created_after", "date-time"), QueryParam("created_before", "date-time")))
def list_packages():
    stmt = select(Package).options(*_loaded()).order_by(Package.created_at, Package.id)
    scope = actor().location_ids
    if scope is not None:
        stmt = stmt.where(Package.location_id.in_(scope))
    if request.args.getlist("state"):
        stmt = stmt.where(Package.state.in_(request.args.getlist("state")))
    if request.args.getlist("location"):
        stmt = stmt.where(Package.location_id.in_(
            select(StockLocation.id).where(StockLocation.code.in_(request.args.getlist("location")))))
    order = request.args.get("order")
    if order:
        match = Order.number == order
        if order.isascii() and order.isdigit() and int(order) <= MAX_INT:
            match = match | (Order.id == int(order))
        stmt = stmt.where(Package.order_id.in_(select(Order.id).where(match)))
    after, before = parse_time("created_after"), parse_time("created_before")
    if after is not None:
        stmt = stmt.where(Package.created_at >= after)
    if before is not None:
        stmt = stmt.where(Package.created_at < before)
    return paginate(stmt, serialize)


@api_route("/v1/packages/<int:package_id>", "GET", summary="One package with items, shipment, invoice and "
           "the commands allowed now", tag=TAG, response=PackageOut)
def get_package(package_id: int):
    package = visible_package(package_id, described=True)
    return with_version(jsonify(serialize(package)), package.version)


@api_route("/v1/packages/<int:package_id>/commands/<command>", "POST", tag=TAG, response=PackageOut,
           summary="Run a package command", body_required=False, commands=_package_commands)
def package_command(package_id: int, command: str):
    # A keyed command stores its answer in its own transaction (one commit): the package as the
    # command leaves it, described just before the commit from what the command holds.
    idempotency.answer_before_commit(lambda: (200, jsonify(serialize(db.session.get(Package, package_id)))
                                              .get_data(as_text=True)))
    package = run_package_command(package_id, command, json_object(optional=True), actor(),
                                  expected_version=expected_version())
    stored = idempotency.stored_answer()
    response = (Response(stored.body, status=stored.status, mimetype="application/json") if stored is not None
                else jsonify(serialize(package)))
    return with_version(response, package.version)


@api_route("/v1/packages/<int:package_id>/history", "GET", summary="Every state change, oldest first", tag=TAG,
           response=TransitionOut, many=True)
def package_history(package_id: int):
    visible_package(package_id)
    return history_page("package", package_id)

