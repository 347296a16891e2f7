"""/api/v1/scenarios (with nested rules), /api/v1/planning/dry-run and /run, and the planning
trace of an order at /api/v1/orders/{id}/planning."""

from __future__ import annotations

import uuid

from flask import jsonify
from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.models import PlanningTrace
from app.models.base import iso
from app.queues import enqueue
from app.schemas.common import validate
from app.schemas.scenarios import (
    DryRunBody,
    DryRunIn,
    DryRunOut,
    PlanningRunIn,
    PlanningRunOut,
    RuleList,
    RuleOut,
    RulePositionIn,
    ScenarioIn,
    ScenarioOut,
    ScenarioPatch,
)
from app.services import idempotency
from app.services.errors import Forbidden
from app.services.orders import get_order
from app.services.planning import dry_run, render_trace
from app.services.planning import scenarios as service
from app.services.planning.scenarios import rule_dict, scenario_dict
from app.services.planning.trace import expand as expand_trace
from app.views.api.access import actor, require_manager
from app.views.api.bodies import json_body, json_object
from app.views.api.jobs import OWNER
from app.views.api.lists import paginate
from app.views.api.routing import api_route

TAG = "Planning"


@api_route("/v1/scenarios", "GET", summary="List scenarios in the order they are tried", tag=TAG,
           response=ScenarioOut, many=True)
def list_scenarios():
    require_manager()
    return paginate(service.list_scenarios(), scenario_dict)


@api_route("/v1/scenarios", "POST", summary="Create a scenario with its rules", tag=TAG, body=ScenarioIn,
           response=ScenarioOut, status=201)
def create_scenario():
    return jsonify(scenario_dict(service.create_scenario(json_body(), actor()))), 201


@api_route("/v1/scenarios/<int:scenario_id>", "GET", summary="One scenario", tag=TAG, response=ScenarioOut)
def get_scenario(scenario_id: int):
    require_manager()
    return jsonify(scenario_dict(service.get_scenario(scenario_id)))


@api_route("/v1/scenarios/<int:scenario_id>", "PUT", summary="Replace a scenario and all its rules", tag=TAG,
           body=ScenarioIn, response=ScenarioOut)
def replace_scenario(scenario_id: int):
    return jsonify(scenario_dict(service.update_scenario(scenario_id, json_body(), actor(), replace=True)))


@api_route("/v1/scenarios/<int:scenario_id>", "PATCH", summary="Change some fields of a scenario", tag=TAG,
           body=ScenarioPatch, response=ScenarioOut)
def update_scenario(scenario_id: int):
    return jsonify(scenario_dict(service.update_scenario(scenario_id, json_body(), actor())))


@api_route("/v1/scenarios/<int:scenario_id>", "DELETE", summary="Delete a scenario", tag=TAG, status=204)
def delete_scenario(scenario_id: int):
    service.delete_scenario(scenario_id, actor())
    return "", 204


@api_route("/v1/scenarios/<int:scenario_id>/rules", "GET", summary="The rules of a scenario, in order (an array)",
           tag=TAG, response=RuleList)
def list_rules(scenario_id: int):
    require_manager()
    return jsonify(scenario_dict(service.get_scenario(scenario_id))["rules"])


@api_route("/v1/scenarios/<int:scenario_id>/rules", "POST", summary="Add a rule (at `position`, default last)",
           tag=TAG, body=RulePositionIn, response=RuleOut, status=201)
def add_rule(scenario_id: int):
    return jsonify(rule_dict(service.add_rule(scenario_id, json_body(), actor()))), 201


@api_route("/v1/scenarios/<int:scenario_id>/rules/<int:rule_id>", "PUT",
           summary="Replace a rule; `position` moves it", tag=TAG, body=RulePositionIn, response=RuleOut)
def update_rule(scenario_id: int, rule_id: int):
    return jsonify(rule_dict(service.update_rule(scenario_id, rule_id, json_body(), actor())))


@api_route("/v1/scenarios/<int:scenario_id>/rules/<int:rule_id>", "DELETE", summary="Remove a rule", tag=TAG,
           status=204)
def delete_rule(scenario_id: int, rule_id: int):
    service.delete_rule(scenario_id, rule_id, actor())
    return "", 204


@api_route("/v1/planning/dry-run", "POST",
           summary="Plan an order body (as POST /orders) or {\"order_id\": n} without writing anything",
           tag=TAG, body=DryRunBody, response=DryRunOut)
def planning_dry_run():
    body = json_object()
    if "order_id" in body:
        validate(DryRunIn, body, "order_id must be an order id.")
    return jsonify(dry_run(body, actor()))


@api_route("/v1/planning/run", "POST", summary="Plan every waiting order in batches (a background job)",
           tag=TAG, body=PlanningRunIn, response=PlanningRunOut, status=202, body_required=False)
def planning_run():
    require_manager()
    if actor().location_ids is not None:
        raise Forbidden(_('A batch run plans every waiting order of every location: only admins and supervisors of all locations may start it. Plan one order with POST /api/v1/orders/{id}/plan.'))
    body = validate(PlanningRunIn, json_object(optional=True))
    idempotency.claim_now()  # the job is queued outside the database: a keyed duplicate must find the key taken
    job_id = f"plan-batch-{uuid.uuid4().hex}"
    enqueue("planning", "app.tasks.planning.plan_batch", body.chunk_size, job_id=job_id, job_timeout=3600,
            meta={OWNER: actor().user_id})
    return jsonify(job_id=job_id), 202


@api_route("/v1/orders/<int:order_id>/planning", "GET",
           summary="The order's planning traces, newest first, with 'why this location?' text", tag=TAG)
def order_planning(order_id: int):
    require_manager()
    get_order(order_id, actor())  # 404 outside the caller's locations
    traces = db.session.scalars(select(PlanningTrace).where(PlanningTrace.order_id == order_id)
                                .order_by(PlanningTrace.id.desc()).limit(50)).all()
    return jsonify(order_id=order_id, results=[
        {"id": t.id, "trigger": t.trigger, "outcome": t.outcome, "is_replan": t.is_replan,
         "created_at": iso(t.created_at), "explanation": render_trace(t.trace or {}, "en"),
         "trace": expand_trace(t.trace) if t.trace else t.trace}
        for t in traces])
