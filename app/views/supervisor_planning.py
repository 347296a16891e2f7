"""Manual planning: the supervisor picks a location for each item (or one for all), seeing every
location's available units of those SKUs, and the package is re-planned there."""

from __future__ import annotations

import htmx_flask
from flask import flash, redirect, request, url_for

from app.forms.supervisor import VersionForm
from app.services import admin_queries
from app.services.errors import Conflict, ValidationFailed
from app.services.packages import run_package_command
from app.views.htmx import render, wants_fragment
from app.views.security import role_required
from app.views.supervisor import MANAGERS, bp, current_actor

PLANNABLE_ITEM_STATES = ("open", "picked")


def _items(package) -> list:
    return [item for item in package.items if item.state in PLANNABLE_ITEM_STATES]


def _page(package, choices: dict[int, str] | None = None, errors: dict[str, str] | None = None,
          error: str | None = None, status: int = 200):
    items = _items(package)
    needs: dict[int, int] = {}
    for item in items:
        needs[item.product_id] = needs.get(item.product_id, 0) + item.quantity
    availability = admin_queries.availability_for(set(needs))
    return render("supervisor/plan.html", "supervisor/_plan_form.html", status=status, package=package,
                  items=items, needs=needs, availability=availability, choices=choices or {},
                  errors=errors or {}, error=error, form=VersionForm(formdata=None, version=package.version))


@bp.get("/packages/<int:package_id>/plan")
@role_required(*MANAGERS)
def plan(package_id: int):
    return _page(admin_queries.package_for(current_actor(), package_id))


@bp.post("/packages/<int:package_id>/plan")
@role_required(*MANAGERS)
def plan_submit(package_id: int):
    actor = current_actor()
    package = admin_queries.package_for(actor, package_id)
    form = VersionForm()
    all_at = (request.form.get("all_location") or "").strip()
    choices = {item.id: (request.form.get(f"location-{item.id}") or "").strip() or all_at for item in _items(package)}
    errors = {f"location-{item_id}": "Choose a location for this item." for item_id, code in choices.items() if not code}
    if not form.validate_on_submit() or errors or not choices:
        return _page(package, choices, errors, error=None if choices else "Nothing left to plan in this package.",
                     status=422)
    groups: dict[str, list[int]] = {}
    for item_id, code in choices.items():
        groups.setdefault(code, []).append(item_id)
    assignments = [{"item_ids": ids, "location": code} for code, ids in groups.items()]
    version = int(form.version.data) if (form.version.data or "").isdigit() else None
    try:
        run_package_command(package_id, "manual_plan", {"assignments": assignments}, actor, expected_version=version)
    except ValidationFailed as exc:
        return _page(package, choices, errors, error=_describe(exc), status=422)
    except Conflict as exc:
        return _page(admin_queries.package_for(actor, package_id), choices, error=exc.message, status=409)
    flash(f"Package {package.number} was planned again.", "ok")
    target = url_for("supervisor.order", order_id=package.order_id)
    if wants_fragment():
        return htmx_flask.make_response("", 200, redirect=target)  # the order page shows the new packages
    return redirect(target, 303)


def _describe(exc: ValidationFailed) -> str:
    details = "; ".join(f"{k}: {v}" for k, v in (exc.details or {}).items())
    return f"{exc.message} {details}".strip()
