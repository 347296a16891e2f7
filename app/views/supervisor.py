"""Supervisor screens: the movements board and a location's drill-down.

Package lists and actions live in supervisor_packages.py, the order page in supervisor_orders.py,
failed background jobs in supervisor_jobs.py — all on this blueprint.
"""

from __future__ import annotations

from flask import Blueprint, request
from flask_login import current_user

from app.models.packages import PACKAGE_STATES
from app.services import admin_queries, dashboards
from app.services.actors import Actor
from app.services.pagination import PageArgs
from app.views.htmx import render
from app.views.security import role_required

bp = Blueprint("supervisor", __name__, url_prefix="/supervisor")
MANAGERS = ("supervisor", "admin")


@bp.before_request
def managers_only():
    # A safety net under the per-route decorators: nothing here is for staff.
    return role_required(*MANAGERS)(lambda: None)()


def current_actor() -> Actor:
    return Actor.for_user(current_user)


def page_arg() -> PageArgs:
    return PageArgs.lenient(request.args, admin_queries.PER_PAGE)


@bp.get("/")
@role_required(*MANAGERS)
def board():
    summaries = dashboards.location_summaries(admin_queries.visible_locations(current_actor()))
    return render("supervisor/board.html", "supervisor/_board_cards.html", summaries=summaries)


@bp.get("/locations/<code>/")
@role_required(*MANAGERS)
def location(code: str):
    actor = current_actor()
    loc = admin_queries.location_by_code(actor, code)
    state = request.args.get("state") or "waiting"
    if state not in PACKAGE_STATES:
        state = "waiting"
    summary = dashboards.location_summary(loc)
    packages = admin_queries.packages_in_states(actor, (state,), loc, page=page_arg())
    return render("supervisor/location.html", "supervisor/_package_table.html", location=loc, summary=summary,
                  state=state, states=PACKAGE_STATES, packages=packages,
                  transfers=admin_queries.transfers_for(loc))


from app.views import (  # noqa: E402, F401
    supervisor_inbound,
    supervisor_jobs,
    supervisor_kpis,
    supervisor_orders,
    supervisor_packages,
    supervisor_returns,
)
