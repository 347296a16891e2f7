"""/api/v1/stock: on-hand and reserved per (location, SKU); PUT sets absolute on-hand from the ERP."""

from __future__ import annotations

from collections import Counter

from flask import jsonify, request
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.models import Product, Stock, StockLocation
from app.schemas.catalog import StockOut, StockPut, StockPutResult
from app.services import stock_levels
from app.services.db import committed
from app.services.errors import ValidationFailed
from app.services.representations import stock_dict
from app.views.api.access import actor
from app.views.api.bodies import json_body
from app.views.api.lists import paginate
from app.views.api.routing import QueryParam, api_route

TAG = "Stock"


def _visible_locations():
    """Location ids the token may see, as a subquery-friendly condition."""
    scope = actor().location_ids
    return None if scope is None else StockLocation.id.in_(scope)


@api_route("/v1/stock", "GET", summary="Stock per location and SKU", tag=TAG, response=StockOut, many=True,
           query=(QueryParam("location", description="Location code", repeatable=True),
                  QueryParam("sku", repeatable=True)))
def list_stock():
    stmt = (select(Stock).join(Stock.location).join(Stock.product)
            .options(joinedload(Stock.location), joinedload(Stock.product))
            .order_by(StockLocation.code, Product.sku))
    scope = _visible_locations()
    if scope is not None:
        stmt = stmt.where(scope)
    if request.args.getlist("location"):
        stmt = stmt.where(StockLocation.code.in_(request.args.getlist("location")))
    if request.args.getlist("sku"):
        stmt = stmt.where(Product.sku.in_(request.args.getlist("sku")))
    return paginate(stmt, stock_dict)


@api_route("/v1/stock", "PUT", summary="Set absolute on-hand figures (all rows or none)", tag=TAG,
           body=StockPut, response=StockPutResult)
def put_stock():
    changes = committed(stock_levels.set_stock_levels, json_body(), actor(), reference="api:stock")
    stock_levels.replan_after_increase(changes)
    changed = sum(change.new != change.old for change in changes)
    return jsonify(updated=changed, unchanged=len(changes) - changed)


@api_route("/v1/stock/availability", "GET", tag=TAG,
           summary="Whether each location can supply the SKUs now (a SKU repeated n times asks for n units)",
           query=(QueryParam("sku", repeatable=True, required=True, description="Repeatable"),
                  QueryParam("location", repeatable=True, description="Location codes; default all active")))
def availability():
    wanted = Counter(request.args.getlist("sku"))
    if not wanted:
        raise ValidationFailed(_('Name at least one SKU.'), {"sku": _('Required.')})
    locations = select(StockLocation.id, StockLocation.code)
    if request.args.getlist("location"):
        locations = locations.where(StockLocation.code.in_(request.args.getlist("location")))
    else:
        locations = locations.where(StockLocation.active.is_(True))
    scope = _visible_locations()
    if scope is not None:
        locations = locations.where(scope)
    codes = dict(db.session.execute(locations).all())
    rows = db.session.execute(
        select(Stock.location_id, Product.sku, Stock.on_hand - Stock.reserved).join(Stock.product)
        .where(Stock.location_id.in_(codes), Product.sku.in_(wanted))).all()
    available = {(loc_id, sku): qty for loc_id, sku, qty in rows}
    return jsonify({code: all(available.get((loc_id, sku), 0) >= n for sku, n in wanted.items())
                    for loc_id, code in sorted(codes.items(), key=lambda kv: kv[1])})
