"""/api/v1/locations: stock locations by code (admins write, everyone with a token reads)."""

from __future__ import annotations

from flask import jsonify, request
from sqlalchemy import select

from app.models import StockLocation
from app.schemas.catalog import LocationIn, LocationOut, LocationPatch
from app.services import records
from app.services.db import committed
from app.services.locations import LOCATIONS
from app.services.representations import location_dict
from app.views.api.access import actor
from app.views.api.bodies import json_body
from app.views.api.lists import paginate
from app.views.api.routing import QueryParam, api_route

TAG = "Locations"


@api_route("/v1/locations", "GET", summary="List locations", tag=TAG, response=LocationOut, many=True,
           query=(QueryParam("type", description="store or warehouse"),
                  QueryParam("active", description="true or false"),
                  QueryParam("city")))
def list_locations():
    stmt = select(StockLocation).order_by(StockLocation.code)
    if request.args.get("type"):
        stmt = stmt.where(StockLocation.type == request.args["type"])
    if request.args.get("active") in ("true", "false"):
        stmt = stmt.where(StockLocation.active.is_(request.args["active"] == "true"))
    if request.args.get("city"):
        stmt = stmt.where(StockLocation.city == request.args["city"])
    return paginate(stmt, location_dict)


@api_route("/v1/locations", "POST", summary="Create a location", tag=TAG, body=LocationIn, response=LocationOut,
           status=201)
def create_location():
    return jsonify(location_dict(committed(records.create, LOCATIONS, json_body(), actor()))), 201


@api_route("/v1/locations/<code>", "GET", summary="One location", tag=TAG, response=LocationOut)
def get_location(code: str):
    return jsonify(location_dict(records.get(LOCATIONS, code)))


@api_route("/v1/locations/<code>", "PATCH", summary="Change some fields of a location", tag=TAG,
           body=LocationPatch, response=LocationOut)
def update_location(code: str):
    return jsonify(location_dict(committed(records.update, LOCATIONS, code, json_body(), actor())))
