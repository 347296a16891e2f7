"""Stock figures per location and SKU, and admin adjustments with a ledger reason."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from app.extensions import db
from app.forms import form_data, show_service_errors
from app.forms.admin import StockAdjustmentForm
from app.models import Product, Stock, StockLedger, StockLocation
from app.services import human_input, stock_levels, text_search
from app.services.actors import Actor
from app.services.db import committed
from app.services.errors import ValidationFailed
from app.services.pagination import PageArgs, paginate
from app.views.admin import bp
from app.views.htmx import render, wants_fragment
from app.views.security import role_required


def _locations() -> list[StockLocation]:
    return list(db.session.scalars(select(StockLocation).order_by(StockLocation.code)))


def _page(form: StockAdjustmentForm, *, status: int = 200, error: str | None = None, saved: str | None = None):
    location = (request.args.get("location") or "").strip()
    sku = (request.args.get("sku") or "").strip()
    query = (select(Stock).join(Stock.location).join(Stock.product)
             .options(joinedload(Stock.location), joinedload(Stock.product))
             .order_by(StockLocation.code, Product.sku))
    if location:
        query = query.where(StockLocation.code == location)
    if sku:
        query = query.where(text_search.contains(Product.sku, sku))
    rows = paginate(query, PageArgs.lenient(request.args, 50))
    ledger = list(db.session.scalars(select(StockLedger).order_by(StockLedger.id.desc()).limit(20)))
    return render("admin/stock.html", "admin/_stock_form.html", status=status, form=form, rows=rows, ledger=ledger,
                  location=location, sku=sku, locations=_locations(), error=error, saved=saved)


@bp.get("/stock/")
@role_required("admin")
def stock():
    form = StockAdjustmentForm(formdata=None, locations=_locations(),
                               location=request.args.get("location"), sku=request.args.get("sku"))
    return _page(form)


@bp.post("/stock/adjust")
@role_required("admin")
def stock_adjust():
    form = StockAdjustmentForm(locations=_locations())
    if not form.validate_on_submit():
        return _page(form, status=422)
    try:
        change = committed(stock_levels.adjust_stock, form_data(form), Actor.for_user(current_user))
    except ValidationFailed as exc:
        leftover = show_service_errors(form, human_input.in_words(exc.details))
        return _page(form, status=422, error="; ".join(leftover) or None)
    stock_levels.replan_after_increase([change])
    message = _('%(data)s at %(data2)s: %(old)s → %(new)s on hand.', data=form.sku.data, data2=form.location.data, old=change.old, new=change.new)
    if wants_fragment():
        fresh = StockAdjustmentForm(formdata=None, locations=_locations(), location=form.location.data)
        return _page(fresh, saved=message)
    flash(message, "ok")
    return redirect(url_for("admin.stock", location=form.location.data, sku=form.sku.data), 303)
