"""The order page for supervisors and admins: items, work orders, history and 'why this location'."""

from __future__ import annotations

from flask import redirect, request, url_for

from app.services import admin_queries
from app.views.htmx import render
from app.views.security import role_required
from app.views.supervisor import MANAGERS, bp, current_actor


@bp.get("/orders/")
@role_required(*MANAGERS)
def orders():
    number = (request.args.get("number") or "").strip()
    found = admin_queries.find_order(current_actor(), number) if number else []
    if len(found) == 1:
        return redirect(url_for("supervisor.order", order_id=found[0].id))
    return render("supervisor/orders.html", number=number, found=found)


@bp.get("/orders/<int:order_id>/")
@role_required(*MANAGERS)
def order(order_id: int):
    view = admin_queries.order_view(current_actor(), order_id)
    return render("supervisor/order.html", **view)
