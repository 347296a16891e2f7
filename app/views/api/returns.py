"""/api/v1/returns: create a customer return, list and read returns, run their commands
(`ship`, `receive`, `inspect`, `cancel`) and read their history (SPEC §14).

A staff token sees a return when it can see the return's location; otherwise 404. It may create
a return for any shipped order, to a location it works at (store returns are received at any store).
"""

from __future__ import annotations

from flask import jsonify, request
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import Order, StockLocation
from app.models.returns import Return, ReturnItem
from app.schemas.common import MAX_INT, TransitionOut
from app.schemas.returns import RETURN_COMMAND_PARAMS, ReturnIn, ReturnOut
from app.services.errors import NotFound
from app.services.returns import create_return, return_dict, run_return_command
from app.views.api.access import actor
from app.views.api.bodies import json_object
from app.views.api.lists import history_page, paginate
from app.views.api.routing import QueryParam, api_route
from app.views.api.versions import expected_version, with_version

TAG = "Returns"


def _return_commands():
    return RETURN_COMMAND_PARAMS


def visible_return(return_id: int) -> Return:
    ret = db.session.get(Return, return_id)
    if ret is None or not actor().can_see(ret.location_id):
        raise NotFound(f"There is no return {return_id}.")
    return ret


def serialize(ret: Return) -> dict:
    return return_dict(ret, manager=actor().is_manager)


@api_route("/v1/returns", "POST", summary="Create a customer return of shipped units", tag=TAG, body=ReturnIn,
           response=ReturnOut, status=201)
def create_return_view():
    ret = create_return(json_object(), actor(), source="api")
    return with_version(jsonify(serialize(ret)), ret.version), 201


@api_route("/v1/returns", "GET", summary="List returns (oldest first)", tag=TAG, response=ReturnOut, many=True,
           query=(QueryParam("state", repeatable=True), QueryParam("location", repeatable=True),
                  QueryParam("order", description="Order id or order number"),
                  QueryParam("source", repeatable=True, description="channel, api, counter or delivery_failed")))
def list_returns():
    stmt = (select(Return).order_by(Return.created_at, Return.id)
            .options(selectinload(Return.items).selectinload(ReturnItem.product),
                     selectinload(Return.order).selectinload(Order.channel), selectinload(Return.location),
                     selectinload(Return.package)))
    scope = actor().location_ids
    if scope is not None:
        stmt = stmt.where(Return.location_id.in_(scope))
    if request.args.getlist("state"):
        stmt = stmt.where(Return.state.in_(request.args.getlist("state")))
    if request.args.getlist("source"):
        stmt = stmt.where(Return.source.in_(request.args.getlist("source")))
    if request.args.getlist("location"):
        stmt = stmt.where(Return.location_id.in_(
            select(StockLocation.id).where(StockLocation.code.in_(request.args.getlist("location")))))
    order = request.args.get("order")
    if order:
        match = Order.number == order
        if order.isascii() and order.isdigit() and int(order) <= MAX_INT:
            match = match | (Order.id == int(order))
        stmt = stmt.where(Return.order_id.in_(select(Order.id).where(match)))
    return paginate(stmt, serialize)


@api_route("/v1/returns/<int:return_id>", "GET", summary="One return with items and allowed commands", tag=TAG,
           response=ReturnOut)
def get_return(return_id: int):
    ret = visible_return(return_id)
    return with_version(jsonify(serialize(ret)), ret.version)


@api_route("/v1/returns/<int:return_id>/commands/<command>", "POST", tag=TAG, response=ReturnOut,
           summary="Run a return command", body_required=False, commands=_return_commands)
def return_command(return_id: int, command: str):
    ret = run_return_command(return_id, command, json_object(optional=True), actor(),
                             expected_version=expected_version())
    return with_version(jsonify(serialize(ret)), ret.version)


@api_route("/v1/returns/<int:return_id>/history", "GET", summary="Every state change, oldest first", tag=TAG,
           response=TransitionOut, many=True)
def return_history(return_id: int):
    visible_return(return_id)
    return history_page("return", return_id)
