"""Manual planning: the supervisor picks a location for each item (or one for all), or splits an
item's units over several locations, seeing every location's available units of those SKUs, and
the package is re-planned there (`manual_plan` with whole items in `item_ids` and split units in
`items`)."""

from __future__ import annotations

import htmx_flask
from flask import flash, redirect, request, url_for
from flask_babel import gettext as _

from app.forms.supervisor import VersionForm
from app.services import admin_queries
from app.services.errors import Conflict, ValidationFailed
from app.services.packages import run_package_command
from app.views import whole_number
from app.views.htmx import render, wants_fragment
from app.views.security import role_required
from app.views.supervisor import MANAGERS, bp, current_actor

PLANNABLE_ITEM_STATES = ("open", "picked")


def _items(package) -> list:
    return [item for item in package.items if item.state in PLANNABLE_ITEM_STATES]


def _page(package, choices: dict[int, str] | None = None, errors: dict[str, str] | None = None,
          error: str | None = None, status: int = 200, splits: dict[int, dict[str, str]] | None = None):
    items = _items(package)
    needs: dict[int, int] = {}
    for item in items:
        needs[item.product_id] = needs.get(item.product_id, 0) + item.quantity
    availability = admin_queries.availability_for(set(needs))
    return render("supervisor/plan.html", "supervisor/_plan_form.html", status=status, package=package,
                  items=items, needs=needs, availability=availability, choices=choices or {},
                  splits=splits or {}, errors=errors or {}, error=error,
                  form=VersionForm(formdata=None, version=package.version))


@bp.get("/packages/<int:package_id>/plan")
@role_required(*MANAGERS)
def plan(package_id: int):
    return _page(admin_queries.package_for(current_actor(), package_id))


def _read_split(item, codes: list[str]) -> tuple[dict[str, str], dict[str, int], str | None]:
    """The units typed per location for one item: (as typed, as numbers, a problem in words)."""
    typed = {code: (request.form.get(f"split-{item.id}-{code}") or "").strip() for code in codes}
    typed = {code: value for code, value in typed.items() if value}
    units: dict[str, int] = {}
    for code, value in typed.items():
        if not value.isdigit() or len(value) > 6:
            return typed, {}, _("Enter whole numbers of units (0 to %(most)s) for each location.", most=item.quantity)
        if int(value):
            units[code] = int(value)
    if units and sum(units.values()) != item.quantity:
        return typed, units, _("The units add up to %(sum)s; split all %(count)s units of %(sku)s, no more and no less.",
                                sum=sum(units.values()), count=item.quantity, sku=item.product.sku)
    return typed, units, None


@bp.post("/packages/<int:package_id>/plan")
@role_required(*MANAGERS)
def plan_submit(package_id: int):
    actor = current_actor()
    package = admin_queries.package_for(actor, package_id)
    form = VersionForm()
    items = _items(package)
    codes = [a.location.code for a in admin_queries.availability_for(set())]
    all_at = (request.form.get("all_location") or "").strip()
    choices: dict[int, str] = {}
    splits: dict[int, dict[str, str]] = {}
    errors: dict[str, str] = {}
    # location code -> the assignment's whole items and split units, in the order they were chosen
    groups: dict[str, dict[str, list]] = {}
    for item in items:
        field = f"location-{item.id}"
        own = (request.form.get(field) or "").strip()
        typed, units, problem = _read_split(item, codes)
        if typed:
            splits[item.id] = typed
        choices[item.id] = own or ("" if units or problem else all_at)
        if problem:
            errors[field] = problem
        elif units and own:
            errors[field] = _("Choose one location for all units, or split them below — not both.")
        elif units:
            for code, quantity in units.items():
                groups.setdefault(code, {"item_ids": [], "items": []})["items"].append(
                    {"item_id": item.id, "quantity": quantity})
        elif choices[item.id]:
            groups.setdefault(choices[item.id], {"item_ids": [], "items": []})["item_ids"].append(item.id)
        else:
            errors[field] = (_("Choose a location for this item, or split its units over locations below.") if item.quantity > 1
                            else _("Choose a location for this item."))
    if not form.validate_on_submit() or errors or not items:
        return _page(package, choices, errors, error=None if items else _("Nothing left to plan in this package."),
                     status=422, splits=splits)
    assignments = [{"location": code, **{k: v for k, v in parts.items() if v}} for code, parts in groups.items()]
    version = whole_number(form.version.data or "")
    try:
        run_package_command(package_id, "manual_plan", {"assignments": assignments}, actor, expected_version=version)
    except ValidationFailed as exc:
        return _page(package, choices, errors, error=_describe(exc), status=422, splits=splits)
    except Conflict as exc:
        return _page(admin_queries.package_for(actor, package_id), choices, error=exc.message, status=409,
                     splits=splits)
    flash(_('Package %(number)s was planned again.', number=package.number), "ok")
    target = url_for("supervisor.order", order_id=package.order_id)
    if wants_fragment():
        return htmx_flask.make_response("", 200, redirect=target)  # the order page shows the new packages
    return redirect(target, 303)


def _describe(exc: ValidationFailed) -> str:
    """The service's reasons in plain words, without the field paths the API names."""
    parts = [exc.message]
    for value in (exc.details or {}).values():
        if str(value) not in parts:
            parts.append(str(value))
    return " ".join(parts)
