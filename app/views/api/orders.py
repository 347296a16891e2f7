"""/api/v1/orders: create (idempotent on channel + number), read, cancel and plan now.

Orders are written by supervisors, admins and integrations; a staff token reads only orders
that have a package at one of its locations.
"""

from __future__ import annotations

from flask import jsonify, request
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.models import Channel, Order, OrderItem, Package
from app.schemas.common import OrderOut
from app.schemas.orders import OrderCancelIn, OrderIn
from app.services import orders as orders_service
from app.services import planning
from app.services.representations import order_dict
from app.views.api.access import actor, require_manager
from app.views.api.bodies import json_object, parse_time
from app.views.api.lists import paginate
from app.views.api.routing import QueryParam, api_route

TAG = "Orders"


def visible_order(order_id: int) -> Order:
    return orders_service.get_order(order_id, actor())


def serialize(order: Order) -> dict:
    viewer = actor()
    return order_dict(order, sees=None if viewer.location_ids is None else viewer.can_see)


@api_route("/v1/orders", "POST", summary="Create an order (200 with the existing order when channel + number "
           "exist)", tag=TAG, body=OrderIn, response=OrderOut, status=201, finds_existing=True)
def create_order():
    require_manager()

    order, created = orders_service.create_order(json_object(), actor())
    return jsonify(serialize(order)), 201 if created else 200


@api_route("/v1/orders", "GET", summary="List orders (newest first)", tag=TAG, response=OrderOut, many=True,
           query=(QueryParam("status", repeatable=True), QueryParam("channel", repeatable=True),
                  QueryParam("number"), QueryParam("placed_after", "date-time"),
                  QueryParam("placed_before", "date-time")))
def list_orders():
    stmt = (select(Order).order_by(Order.placed_at.desc(), Order.id.desc())
            .options(selectinload(Order.items).selectinload(OrderItem.product), selectinload(Order.channel),
                     selectinload(Order.packages).selectinload(Package.location),
                     selectinload(Order.packages).selectinload(Package.transfers)))
    scope = actor().location_ids
    if scope is not None:
        stmt = stmt.where(Order.id.in_(select(Package.order_id).where(Package.location_id.in_(scope))))
    if request.args.getlist("status"):
        stmt = stmt.where(Order.status.in_(request.args.getlist("status")))
    if request.args.getlist("channel"):
        stmt = stmt.where(Order.channel_id.in_(
            select(Channel.id).where(Channel.code.in_(request.args.getlist("channel")))))
    if request.args.get("number"):
        stmt = stmt.where(Order.number == request.args["number"])
    after, before = parse_time("placed_after"), parse_time("placed_before")
    if after is not None:
        stmt = stmt.where(Order.placed_at >= after)
    if before is not None:
        stmt = stmt.where(Order.placed_at < before)
    return paginate(stmt, serialize)


@api_route("/v1/orders/<int:order_id>", "GET", summary="One order with items, packages and transfers", tag=TAG,
           response=OrderOut)
def get_order(order_id: int):
    return jsonify(serialize(visible_order(order_id)))


@api_route("/v1/orders/<int:order_id>/cancel", "POST", summary="Cancel the whole order or some units", tag=TAG,
           body=OrderCancelIn, response=OrderOut, body_required=False)
def cancel_order(order_id: int):
    require_manager()

    visible_order(order_id)
    return jsonify(serialize(orders_service.cancel_order(order_id, json_object(optional=True), actor())))


@api_route("/v1/orders/<int:order_id>/plan", "POST", summary="Plan this order now", tag=TAG, response=OrderOut,
           body_required=False)
def plan_order(order_id: int):
    require_manager()

    visible_order(order_id)
    json_object(optional=True)
    return jsonify(serialize(planning.plan_order(order_id, trigger="api", actor=actor())))
