"""/api/v1 suppliers, purchase-orders (+ commands, history) and inbound-shipments (+ commands,
history), SPEC §14. A staff token sees purchase orders and shipments to its own locations only;
others answer 404."""

from __future__ import annotations

from flask import jsonify, request
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.models import (
    InboundShipment,
    InboundShipmentLine,
    PurchaseOrder,
    PurchaseOrderLine,
    StockLocation,
    Supplier,
)
from app.schemas.common import TransitionOut
from app.schemas.inbound import (
    InboundShipmentIn,
    InboundShipmentOut,
    PurchaseOrderIn,
    PurchaseOrderOut,
    ReceiveParams,
    ShipmentEventParams,
    SupplierIn,
    SupplierOut,
    SupplierPatch,
)
from app.services import records
from app.services.db import committed
from app.services.inbound.data import (
    inbound_shipment_dict,
    purchase_order_dict,
    visible_inbound_shipment,
    visible_purchase_order,
)
from app.services.inbound.purchase_orders import COMMAND_PARAMS, create_purchase_order, run_purchase_order_command
from app.services.inbound.shipments import create_inbound_shipment, run_inbound_shipment_command
from app.services.inbound.suppliers import SUPPLIERS, supplier_dict
from app.services.transitions import INBOUND_SHIPMENT_TRANSITIONS
from app.views.api.access import actor
from app.views.api.bodies import json_body, json_object
from app.views.api.lists import history_page, paginate
from app.views.api.routing import QueryParam, api_route
from app.views.api.versions import expected_version, with_version

# --- suppliers ----------------------------------------------------------------------------------


@api_route("/v1/suppliers", "GET", summary="List suppliers", tag="Suppliers", response=SupplierOut, many=True)
def list_suppliers():
    return paginate(select(Supplier).order_by(Supplier.code), supplier_dict)


@api_route("/v1/suppliers", "POST", summary="Create a supplier", tag="Suppliers", body=SupplierIn,
           response=SupplierOut, status=201)
def create_supplier():
    return jsonify(supplier_dict(committed(records.create, SUPPLIERS, json_body(), actor()))), 201


@api_route("/v1/suppliers/<code>", "GET", summary="One supplier", tag="Suppliers", response=SupplierOut)
def get_supplier(code: str):
    return jsonify(supplier_dict(records.get(SUPPLIERS, code)))


@api_route("/v1/suppliers/<code>", "PATCH", summary="Change a supplier", tag="Suppliers", body=SupplierPatch,
           response=SupplierOut)
def update_supplier(code: str):
    return jsonify(supplier_dict(committed(records.update, SUPPLIERS, code, json_body(), actor())))


# --- purchase orders ----------------------------------------------------------------------------

PO_TAG = "Purchase orders"


def _po(po: PurchaseOrder):
    return with_version(jsonify(purchase_order_dict(po, manager=actor().is_manager)), po.version)


def _codes(name: str):
    return select(StockLocation.id).where(StockLocation.code.in_(request.args.getlist(name)))


@api_route("/v1/purchase-orders", "GET", summary="List purchase orders (newest first)", tag=PO_TAG,
           response=PurchaseOrderOut, many=True,
           query=(QueryParam("state", repeatable=True), QueryParam("destination", repeatable=True),
                  QueryParam("supplier", repeatable=True)))
def list_purchase_orders():
    stmt = (select(PurchaseOrder).order_by(PurchaseOrder.id.desc())
            .options(selectinload(PurchaseOrder.lines).selectinload(PurchaseOrderLine.product),
                     selectinload(PurchaseOrder.supplier), selectinload(PurchaseOrder.destination)))
    scope = actor().location_ids
    if scope is not None:
        stmt = stmt.where(PurchaseOrder.destination_id.in_(scope))
    if request.args.getlist("state"):
        stmt = stmt.where(PurchaseOrder.state.in_(request.args.getlist("state")))
    if request.args.getlist("destination"):
        stmt = stmt.where(PurchaseOrder.destination_id.in_(_codes("destination")))
    if request.args.getlist("supplier"):
        stmt = stmt.where(PurchaseOrder.supplier_id.in_(
            select(Supplier.id).where(Supplier.code.in_(request.args.getlist("supplier")))))
    manager = actor().is_manager
    return paginate(stmt, lambda po: purchase_order_dict(po, manager=manager))


@api_route("/v1/purchase-orders", "POST", summary="Create a draft purchase order", tag=PO_TAG,
           body=PurchaseOrderIn, response=PurchaseOrderOut, status=201)
def create_purchase_order_view():
    po = create_purchase_order(json_body(), actor())
    response = _po(po)
    response.status_code = 201
    return response


@api_route("/v1/purchase-orders/<int:purchase_order_id>", "GET", summary="One purchase order with its lines",
           tag=PO_TAG, response=PurchaseOrderOut)
def get_purchase_order(purchase_order_id: int):
    return _po(visible_purchase_order(purchase_order_id, actor()))


@api_route("/v1/purchase-orders/<int:purchase_order_id>/commands/<command>", "POST", tag=PO_TAG,
           response=PurchaseOrderOut, body_required=False, commands=lambda: COMMAND_PARAMS,
           summary="Run a purchase order command (send, confirm, mark_in_transit, receive, close_short, cancel, "
                   "edit)")
def purchase_order_command(purchase_order_id: int, command: str):
    po = run_purchase_order_command(purchase_order_id, command, json_object(optional=True), actor(),
                                    expected_version=expected_version())
    return _po(po)


@api_route("/v1/purchase-orders/<int:purchase_order_id>/history", "GET", summary="Every state change, oldest first",
           tag=PO_TAG, response=TransitionOut, many=True)
def purchase_order_history(purchase_order_id: int):
    visible_purchase_order(purchase_order_id, actor())
    return history_page("purchase_order", purchase_order_id)


# --- inbound shipments --------------------------------------------------------------------------

SHIPMENT_TAG = "Inbound shipments"


def _shipment(shipment: InboundShipment):
    return with_version(jsonify(inbound_shipment_dict(shipment, manager=actor().is_manager)), shipment.version)


def _shipment_commands():
    return {name: ReceiveParams if name == "receive" else ShipmentEventParams for name in INBOUND_SHIPMENT_TRANSITIONS}


@api_route("/v1/inbound-shipments", "GET", summary="List inbound shipments (soonest ETA first)", tag=SHIPMENT_TAG,
           response=InboundShipmentOut, many=True,
           query=(QueryParam("status", repeatable=True), QueryParam("destination", repeatable=True)))
def list_inbound_shipments():
    stmt = (select(InboundShipment).order_by(InboundShipment.eta.is_(None), InboundShipment.eta, InboundShipment.id)
            .options(selectinload(InboundShipment.lines).selectinload(InboundShipmentLine.purchase_order_line)
                     .selectinload(PurchaseOrderLine.product), selectinload(InboundShipment.destination)))
    scope = actor().location_ids
    if scope is not None:
        stmt = stmt.where(InboundShipment.destination_id.in_(scope))
    if request.args.getlist("status"):
        stmt = stmt.where(InboundShipment.status.in_(request.args.getlist("status")))
    if request.args.getlist("destination"):
        stmt = stmt.where(InboundShipment.destination_id.in_(_codes("destination")))
    manager = actor().is_manager
    return paginate(stmt, lambda s: inbound_shipment_dict(s, manager=manager))


@api_route("/v1/inbound-shipments", "POST", summary="Book an inbound shipment (container / ASN)", tag=SHIPMENT_TAG,
           body=InboundShipmentIn, response=InboundShipmentOut, status=201)
def create_inbound_shipment_view():
    response = _shipment(create_inbound_shipment(json_body(), actor()))
    response.status_code = 201
    return response


@api_route("/v1/inbound-shipments/<int:shipment_id>", "GET", summary="One inbound shipment", tag=SHIPMENT_TAG,
           response=InboundShipmentOut)
def get_inbound_shipment(shipment_id: int):
    return _shipment(visible_inbound_shipment(shipment_id, actor()))


@api_route("/v1/inbound-shipments/<int:shipment_id>/commands/<command>", "POST", tag=SHIPMENT_TAG,
           response=InboundShipmentOut, body_required=False, commands=_shipment_commands,
           summary="Record a status event (depart, arrive, update_eta, cancel) or receive the goods")
def inbound_shipment_command(shipment_id: int, command: str):
    shipment = run_inbound_shipment_command(shipment_id, command, json_object(optional=True), actor(),
                                            expected_version=expected_version())
    return _shipment(shipment)


@api_route("/v1/inbound-shipments/<int:shipment_id>/history", "GET", summary="Every status event, oldest first",
           tag=SHIPMENT_TAG, response=TransitionOut, many=True)
def inbound_shipment_history(shipment_id: int):
    visible_inbound_shipment(shipment_id, actor())
    return history_page("inbound_shipment", shipment_id)
