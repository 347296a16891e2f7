"""/api/v1 products (+ bulk), cargo companies and denial reasons, keyed by code/SKU."""

from __future__ import annotations

from flask import jsonify
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.models import CargoCompany, DenialReason, Product
from app.schemas.catalog import (
    BulkResult,
    CargoCompanyIn,
    CargoCompanyOut,
    CargoCompanyPatch,
    DenialReasonIn,
    DenialReasonPatch,
    ProductBulkIn,
    ProductIn,
    ProductOut,
    ProductPatch,
)
from app.services import records
from app.services.catalog import PRODUCTS, upsert_products
from app.services.db import committed
from app.services.masterdata import CARGO_COMPANIES, DENIAL_REASONS
from app.services.representations import cargo_company_dict, denial_reason_dict, product_dict
from app.views.api.access import actor
from app.views.api.bodies import json_body
from app.views.api.lists import paginate
from app.views.api.routing import api_route

# --- products ---------------------------------------------------------------------------------------


@api_route("/v1/products", "GET", summary="List products", tag="Products", response=ProductOut, many=True)
def list_products():
    return paginate(select(Product).order_by(Product.sku).options(selectinload(Product.barcodes)), product_dict)


@api_route("/v1/products", "POST", summary="Create a product", tag="Products", body=ProductIn,
           response=ProductOut, status=201)
def create_product():
    return jsonify(product_dict(committed(records.create, PRODUCTS, json_body(), actor()))), 201


@api_route("/v1/products/bulk", "POST", summary="Create or update up to 1,000 products by SKU (all or nothing)",
           tag="Products", body=ProductBulkIn, response=BulkResult)
def bulk_products():
    created, updated = committed(upsert_products, json_body(), actor())
    return jsonify(created=created, updated=updated)


@api_route("/v1/products/<sku>", "GET", summary="One product", tag="Products", response=ProductOut)
def get_product(sku: str):
    return jsonify(product_dict(records.get(PRODUCTS, sku)))


@api_route("/v1/products/<sku>", "PATCH", summary="Change a product (barcodes, when sent, replace the list)",
           tag="Products", body=ProductPatch, response=ProductOut)
def update_product(sku: str):
    return jsonify(product_dict(committed(records.update, PRODUCTS, sku, json_body(), actor())))


# --- cargo companies --------------------------------------------------------------------------------


@api_route("/v1/cargo-companies", "GET", summary="List cargo companies", tag="Cargo companies",
           response=CargoCompanyOut, many=True)
def list_cargo_companies():
    return paginate(select(CargoCompany).order_by(CargoCompany.code), cargo_company_dict)


@api_route("/v1/cargo-companies", "POST", summary="Create a cargo company", tag="Cargo companies",
           body=CargoCompanyIn, response=CargoCompanyOut, status=201)
def create_cargo_company():
    return jsonify(cargo_company_dict(committed(records.create, CARGO_COMPANIES, json_body(), actor()))), 201


@api_route("/v1/cargo-companies/<code>", "GET", summary="One cargo company", tag="Cargo companies",
           response=CargoCompanyOut)
def get_cargo_company(code: str):
    return jsonify(cargo_company_dict(records.get(CARGO_COMPANIES, code)))


@api_route("/v1/cargo-companies/<code>", "PATCH", summary="Change a cargo company", tag="Cargo companies",
           body=CargoCompanyPatch, response=CargoCompanyOut)
def update_cargo_company(code: str):
    return jsonify(cargo_company_dict(committed(records.update, CARGO_COMPANIES, code, json_body(), actor())))


# --- denial reasons ---------------------------------------------------------------------------------


@api_route("/v1/denial-reasons", "GET", summary="List denial reasons", tag="Denial reasons",
           response=DenialReasonIn, many=True)
def list_denial_reasons():
    stmt = select(DenialReason).order_by(DenialReason.priority, DenialReason.code)
    return paginate(stmt, denial_reason_dict)


@api_route("/v1/denial-reasons", "POST", summary="Create a denial reason", tag="Denial reasons",
           body=DenialReasonIn, response=DenialReasonIn, status=201)
def create_denial_reason():
    return jsonify(denial_reason_dict(committed(records.create, DENIAL_REASONS, json_body(), actor()))), 201


@api_route("/v1/denial-reasons/<code>", "GET", summary="One denial reason", tag="Denial reasons",
           response=DenialReasonIn)
def get_denial_reason(code: str):
    return jsonify(denial_reason_dict(records.get(DENIAL_REASONS, code)))


@api_route("/v1/denial-reasons/<code>", "PATCH", summary="Change a denial reason", tag="Denial reasons",
           body=DenialReasonPatch, response=DenialReasonIn)
def update_denial_reason(code: str):
    return jsonify(denial_reason_dict(committed(records.update, DENIAL_REASONS, code, json_body(), actor())))
