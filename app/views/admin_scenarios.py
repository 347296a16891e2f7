"""Scenario editor: conditions, default location and rules added, removed and reordered in place
(htmx swaps the editor; without JavaScript the same buttons post the whole form), errors next to
their fields, and a dry-run panel that plans an existing or pasted order without writing."""

from __future__ import annotations

import htmx_flask
from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.forms import scenarios as editor
from app.models import CargoCompany, Channel, Order, StockLocation
from app.schemas import json_text
from app.services.actors import Actor
from app.services.errors import Conflict, NotFound, ValidationFailed
from app.services.human_input import in_words, problem_line, say
from app.services.planning import dry_run
from app.services.planning import scenarios as scenario_service
from app.views.admin import bp
from app.views.htmx import render, wants_fragment
from app.views.security import role_required


def _choices() -> dict:
    return {
        "locations": list(db.session.scalars(select(StockLocation).order_by(StockLocation.code))),
        "channels": list(db.session.scalars(select(Channel.code).order_by(Channel.code))),
        "cargo_companies": list(db.session.scalars(select(CargoCompany.code).order_by(CargoCompany.code))),
        "sort_keys": editor.SORT_KEYS,
    }


def _editor(state: dict, scenario_id: int | None, *, errors: dict | None = None, message: str | None = None,
            status: int = 200, saved: bool = False):
    action = url_for("admin.scenario", scenario_id=scenario_id) if scenario_id else url_for("admin.scenario_new")
    return render("admin/scenarios/editor.html", "admin/scenarios/_editor_form.html", status=status, state=state,
                  scenario_id=scenario_id, action=action, errors=errors or {}, message=message, saved=saved,
                  sort_slots=editor.sort_slots, **_choices())


@bp.get("/scenarios/", endpoint="scenarios")
@role_required("admin")
def scenario_list():
    rows = db.session.scalars(scenario_service.list_scenarios()).all()
    return render("admin/scenarios/list.html", scenarios=rows)


@bp.route("/scenarios/new", methods=["GET", "POST"])
@role_required("admin")
def scenario_new():
    if request.method == "GET":
        return _editor(editor.empty_scenario(), None)
    return _submit(None)


@bp.route("/scenarios/<int:scenario_id>/", methods=["GET", "POST"])
@role_required("admin")
def scenario(scenario_id: int):
    if request.method == "GET":
        try:
            found = scenario_service.get_scenario(scenario_id)
        except NotFound:
            abort(404)
        return _editor(scenario_service.scenario_dict(found), scenario_id)
    return _submit(scenario_id)


def _submit(scenario_id: int | None):
    state = editor.read(request.form)
    op = request.form.get("op", "save")
    if op != "save":  # editing rules in place: nothing is stored until Save
        return _editor(editor.apply_op(state, op), scenario_id)
    actor = Actor.for_user(current_user)
    try:
        if scenario_id:
            saved = scenario_service.update_scenario(scenario_id, state, actor, replace=True)
        else:
            saved = scenario_service.create_scenario(state, actor)
    except ValidationFailed as exc:
        return _editor(state, scenario_id, errors=exc.details, message=exc.message, status=422)
    except Conflict as exc:
        return _editor(state, scenario_id, errors=exc.details, message=exc.message, status=409)
    except IntegrityError:
        # create_scenario flushes before its own duplicate check; reported to the planning owner.
        db.session.rollback()
        return _editor(state, scenario_id, errors={"name": _("Choose another name.")},
                       message=_("A scenario with this name already exists."), status=409)
    except NotFound:
        abort(404)
    if wants_fragment():
        return htmx_flask.make_response(_editor(scenario_service.scenario_dict(saved), saved.id, saved=True),
                                        push_url=url_for("admin.scenario", scenario_id=saved.id))
    flash(_('Scenario %(name)s saved.', name=saved.name), "ok")
    return redirect(url_for("admin.scenario", scenario_id=saved.id), 303)


@bp.post("/scenarios/<int:scenario_id>/delete")
@role_required("admin")
def scenario_delete(scenario_id: int):
    try:
        scenario_service.delete_scenario(scenario_id, Actor.for_user(current_user))
    except NotFound:
        abort(404)
    flash(_('Scenario deleted.'), "ok")
    return redirect(url_for("admin.scenarios"), 303)


@bp.post("/scenarios/dry-run")
@role_required("admin")
def scenario_dry_run():
    number = (request.form.get("order_number") or "").strip()
    pasted = (request.form.get("order_json") or "").strip()
    errors: dict[str, str] = {}
    result = None
    body: dict | None = None
    if number:
        order_id = db.session.scalar(select(Order.id).where(Order.number == number).order_by(Order.id))
        if order_id is None:
            errors["order_number"] = _("No order numbered %(number)s.", number=number)
        body = {"order_id": order_id}
    elif pasted:
        try:
            body = json_text.loads(pasted)
        except ValueError as exc:
            errors["order_json"] = json_text.problem(exc)
    else:
        errors["order_number"] = _("Enter an order number, or paste an order below.")
    if not errors:
        try:
            result = dry_run(body, Actor.for_user(current_user), explain_in=None)  # the page's language
        except (ValidationFailed, NotFound) as exc:
            field = "order_number" if number else "order_json"
            details = "; ".join(problem_line(k, v) for k, v in in_words(exc.details or {}).items())
            errors[field] = f"{say(exc.message)} {details}".strip()
    return render("admin/scenarios/dry_run.html", "admin/scenarios/_dry_run.html", status=422 if errors else 200,
                  result=result, errors=errors, order_number=number, order_json=pasted)


@bp.get("/scenarios/dry-run")
@role_required("admin")
def scenario_dry_run_page():
    return render("admin/scenarios/dry_run.html", result=None, errors={}, order_number="", order_json="")
