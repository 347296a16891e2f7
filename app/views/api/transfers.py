"""/api/v1/transfers: list with filters, one transfer, its commands and its history.

A staff token sees a transfer when it can see its source or its destination; otherwise 404.
"""

from __future__ import annotations

from flask import jsonify, request
from flask_babel import gettext as _
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import StockLocation, Transfer, TransferItem
from app.schemas.commands import TRANSFER_COMMAND_PARAMS
from app.schemas.common import TransferOut, TransitionOut
from app.services.errors import NotFound
from app.services.representations import transfer_dict
from app.services.transfers import run_transfer_command
from app.views.api.access import actor
from app.views.api.bodies import json_object
from app.views.api.lists import history_page, paginate
from app.views.api.routing import QueryParam, api_route
from app.views.api.versions import expected_version, with_version

TAG = "Transfers"


def _transfer_commands():
    return TRANSFER_COMMAND_PARAMS


def visible_transfer(transfer_id: int) -> Transfer:
    transfer = db.session.get(Transfer, transfer_id)
    if transfer is None or not (actor().can_see(transfer.source_id) or actor().can_see(transfer.destination_id)):
        raise NotFound(_('There is no transfer %(transfer_id)s.', transfer_id=transfer_id))
    return transfer


def serialize(transfer: Transfer) -> dict:
    return transfer_dict(transfer, manager=actor().is_manager)


def _codes(name: str):
    return select(StockLocation.id).where(StockLocation.code.in_(request.args.getlist(name)))


@api_route("/v1/transfers", "GET", summary="List transfers (oldest first)", tag=TAG, response=TransferOut,
           many=True,
           query=(QueryParam("state", repeatable=True), QueryParam("source", repeatable=True),
                  QueryParam("destination", repeatable=True),
                  QueryParam("location", repeatable=True, description="Source or destination")))
def list_transfers():
    stmt = (select(Transfer).order_by(Transfer.created_at, Transfer.id)
            .options(selectinload(Transfer.items).selectinload(TransferItem.product),
                     selectinload(Transfer.package), selectinload(Transfer.source),
                     selectinload(Transfer.destination), selectinload(Transfer.cargo_company)))
    scope = actor().location_ids
    if scope is not None:
        stmt = stmt.where(or_(Transfer.source_id.in_(scope), Transfer.destination_id.in_(scope)))
    if request.args.getlist("state"):
        stmt = stmt.where(Transfer.state.in_(request.args.getlist("state")))
    if request.args.getlist("source"):
        stmt = stmt.where(Transfer.source_id.in_(_codes("source")))
    if request.args.getlist("destination"):
        stmt = stmt.where(Transfer.destination_id.in_(_codes("destination")))
    if request.args.getlist("location"):
        stmt = stmt.where(or_(Transfer.source_id.in_(_codes("location")),
                              Transfer.destination_id.in_(_codes("location"))))
    return paginate(stmt, serialize)


@api_route("/v1/transfers/<int:transfer_id>", "GET", summary="One transfer with items and allowed commands",
           tag=TAG, response=TransferOut)
def get_transfer(transfer_id: int):
    transfer = visible_transfer(transfer_id)
    return with_version(jsonify(serialize(transfer)), transfer.version)


@api_route("/v1/transfers/<int:transfer_id>/commands/<command>", "POST", tag=TAG, response=TransferOut,
           summary="Run a transfer command", body_required=False, commands=_transfer_commands)
def transfer_command(transfer_id: int, command: str):
    transfer = run_transfer_command(transfer_id, command, json_object(optional=True), actor(),
                                    expected_version=expected_version())
    return with_version(jsonify(serialize(transfer)), transfer.version)


@api_route("/v1/transfers/<int:transfer_id>/history", "GET", summary="Every state change, oldest first",
           tag=TAG, response=TransitionOut, many=True)
def transfer_history(transfer_id: int):
    visible_transfer(transfer_id)
    return history_page("transfer", transfer_id)
