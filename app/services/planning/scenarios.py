"""Scenario and rule management: validation that a scenario can work, then CRUD. Each public
function commits once."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import Scenario, ScenarioRule, StockLocation
from app.schemas.common import validate
from app.schemas.scenarios import RuleIn, RulePositionIn, ScenarioIn, ScenarioPatch
from app.services.actors import Actor
from app.services.db import begin_write
from app.services.errors import Conflict, Forbidden, NotFound, ValidationFailed

RULE_FIELDS = ("name", "locations", "exclude", "location_type", "same_city", "use_quota", "allow_split",
               "max_packages", "transferable", "transfer_sources")


def scenario_dict(s: Scenario) -> dict[str, Any]:
    return {
        "id": s.id, "name": s.name, "priority": s.priority, "active": s.active,
        "default_location": s.default_location.code,
        "conditions": {k: list((s.conditions or {}).get(k) or [])
                       for k in ("channels", "delivery_types", "payment_types", "cargo_companies")},
        "rules": [rule_dict(r) for r in sorted(s.rules, key=lambda r: r.position)],
    }


def rule_dict(r: ScenarioRule) -> dict[str, Any]:
    return {"id": r.id, "position": r.position, **{f: getattr(r, f) for f in RULE_FIELDS},
            "sort": [{"by": k["by"], "order": k.get("order", "asc")} for k in (r.sort or [])]}


def _require_admin(actor: Actor) -> None:
    if actor.role not in ("admin", "system"):
        raise Forbidden(_('Only admins can change scenarios.'))


def _location_ids(codes: set[str]) -> dict[str, int]:
    if not codes:
        return {}
    return dict(db.session.execute(select(StockLocation.code, StockLocation.id)
                                   .where(StockLocation.code.in_(codes))).tuples().all())


def _check_rules(rules: list[RuleIn], known: dict[str, int], prefix: str = "rules") -> dict[str, str]:
    errors: dict[str, str] = {}
    for n, rule in enumerate(rules):
        for field in ("locations", "exclude", "transfer_sources"):
            unknown = [c for c in getattr(rule, field) if c not in known]
            if unknown:
                errors[f"{prefix}.{n}.{field}"] = _("Unknown location code(s): %(codes)s.", codes=", ".join(unknown))
        if rule.locations and set(rule.locations) <= set(rule.exclude):
            errors[f"{prefix}.{n}.exclude"] = _("The rule leaves out every location it lists under Only these "
                                                "locations: remove some from Never these locations.")
        if rule.transfer_sources and not rule.transferable:
            errors[f"{prefix}.{n}.transfer_sources"] = _("Transfer from only applies when May bring missing units by "
                                                         "transfer is ticked: tick it or empty this field.")
    return errors


def _codes(rules: list[RuleIn]) -> set[str]:
    return {c for r in rules for c in (*r.locations, *r.exclude, *r.transfer_sources)}


def _rule_row(rule: RuleIn, position: int) -> ScenarioRule:
    data = rule.model_dump(include=set(RULE_FIELDS))
    return ScenarioRule(position=position, sort=[s.model_dump() for s in rule.sort], **data)


def _replace_rules(scenario: Scenario, rules: list[RuleIn]) -> None:
    scenario.rules.clear()
    db.session.flush()  # delete old positions before reusing them
    for n, rule in enumerate(rules, start=1):
        scenario.rules.append(_rule_row(rule, n))


def _get(scenario_id: int, lock: bool = False) -> Scenario:
    query = select(Scenario).where(Scenario.id == scenario_id).options(selectinload(Scenario.rules))
    scenario = db.session.scalar(query.with_for_update(of=Scenario) if lock else query)
    if scenario is None:
        raise NotFound(_('Scenario not found.'))
    return scenario


def _check_name_free(name: str, scenario_id: int | None = None) -> None:
    """Checked before any flush: a duplicate name must be a 409, never an IntegrityError mid-write."""
    query = select(Scenario.id).where(Scenario.name == name)
    if scenario_id is not None:
        query = query.where(Scenario.id != scenario_id)
    if db.session.scalar(query) is not None:
        db.session.rollback()
        raise Conflict(_('A scenario with this name already exists.'), {"name": _('Choose another name.')})


def _commit_unique() -> None:
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(_('A scenario with this name already exists.'), {"name": _('Choose another name.')}) from None


def list_scenarios():
    return select(Scenario).options(selectinload(Scenario.rules)).order_by(Scenario.priority, Scenario.id)


def get_scenario(scenario_id: int) -> Scenario:
    return _get(scenario_id)


def create_scenario(data: Any, actor: Actor) -> Scenario:
    """Validate that the scenario can work (rules, known locations, sort keys) and store it."""
    _require_admin(actor)
    body = validate(ScenarioIn, data, _("Some fields are not valid; the scenario was not saved."))
    begin_write()
    known = _location_ids(_codes(body.rules) | {body.default_location})
    errors = _check_rules(body.rules, known)
    if body.default_location not in known:
        errors["default_location"] = _("There is no location with code %(value)s.", value=body.default_location)
    if errors:
        raise ValidationFailed(_('The scenario cannot work.'), errors)
    _check_name_free(body.name)
    scenario = Scenario(name=body.name, priority=body.priority, active=body.active,
                        default_location_id=known[body.default_location],
                        conditions=body.conditions.model_dump())
    db.session.add(scenario)
    _replace_rules(scenario, body.rules)
    _commit_unique()
    return scenario


def update_scenario(scenario_id: int, data: Any, actor: Actor, replace: bool = False) -> Scenario:
    """PUT (`replace`: the whole scenario) or PATCH (only the fields sent; `rules` replaces all rules)."""
    _require_admin(actor)
    body = validate(ScenarioIn if replace else ScenarioPatch, data, _("Some fields are not valid; the scenario was not saved."))
    begin_write()
    scenario = _get(scenario_id, lock=True)
    rules = body.rules
    known = _location_ids(_codes(rules or []) | ({body.default_location} if body.default_location else set()))
    errors = _check_rules(rules or [], known)
    if body.default_location and body.default_location not in known:
        errors["default_location"] = _("There is no location with code %(value)s.", value=body.default_location)
    if errors:
        raise ValidationFailed(_('The scenario cannot work.'), errors)
    if body.name is not None:
        _check_name_free(body.name, scenario.id)
    for field in ("name", "priority", "active"):
        if getattr(body, field) is not None:
            setattr(scenario, field, getattr(body, field))
    if body.default_location:
        scenario.default_location_id = known[body.default_location]
    if body.conditions is not None:
        scenario.conditions = body.conditions.model_dump()
    if rules is not None:
        _replace_rules(scenario, rules)
    _commit_unique()
    return scenario


def delete_scenario(scenario_id: int, actor: Actor) -> None:
    _require_admin(actor)
    begin_write()
    db.session.delete(_get(scenario_id, lock=True))
    db.session.commit()


def add_rule(scenario_id: int, data: Any, actor: Actor) -> ScenarioRule:
    """Insert a rule at `position` (1-based; default last); later rules move down."""
    _require_admin(actor)
    body = validate(RulePositionIn, data, "The rule cannot work.")
    begin_write()
    scenario = _get(scenario_id, lock=True)
    errors = _check_rules([body], _location_ids(_codes([body])), prefix="rule")
    if errors:
        raise ValidationFailed(_('The rule cannot work.'), {k.replace("rule.0.", ""): v for k, v in errors.items()})
    rules = sorted(scenario.rules, key=lambda r: r.position)
    position = min(body.position or len(rules) + 1, len(rules) + 1)
    new = _rule_row(body, 0)
    rules.insert(position - 1, new)
    _renumber(scenario, rules)
    db.session.commit()
    return new


def update_rule(scenario_id: int, rule_id: int, data: Any, actor: Actor) -> ScenarioRule:
    """Replace one rule's settings; `position` moves it."""
    _require_admin(actor)
    body = validate(RulePositionIn, data, "The rule cannot work.")
    begin_write()
    scenario = _get(scenario_id, lock=True)
    rule = next((r for r in scenario.rules if r.id == rule_id), None)
    if rule is None:
        raise NotFound(_('Rule not found.'))
    errors = _check_rules([body], _location_ids(_codes([body])), prefix="rule")
    if errors:
        raise ValidationFailed(_('The rule cannot work.'), {k.replace("rule.0.", ""): v for k, v in errors.items()})
    for field in RULE_FIELDS:
        setattr(rule, field, getattr(body, field))
    rule.sort = [s.model_dump() for s in body.sort]
    rules = [r for r in sorted(scenario.rules, key=lambda r: r.position) if r.id != rule_id]
    position = min(body.position or rule.position, len(rules) + 1)
    rules.insert(position - 1, rule)
    _renumber(scenario, rules)
    db.session.commit()
    return rule


def delete_rule(scenario_id: int, rule_id: int, actor: Actor) -> None:
    """Remove a rule; a scenario keeps at least one."""
    _require_admin(actor)
    begin_write()
    scenario = _get(scenario_id, lock=True)
    rule = next((r for r in scenario.rules if r.id == rule_id), None)
    if rule is None:
        raise NotFound(_('Rule not found.'))
    if len(scenario.rules) == 1:
        raise ValidationFailed(_('A scenario needs at least one rule.'), {"rules": _('Add another rule first.')})
    rules = [r for r in sorted(scenario.rules, key=lambda r: r.position) if r.id != rule_id]
    scenario.rules.remove(rule)
    db.session.flush()
    _renumber(scenario, rules)
    db.session.commit()


def _renumber(scenario: Scenario, ordered: list[ScenarioRule]) -> None:
    """Positions are unique per scenario: park them out of the way, then number 1..n."""
    for n, rule in enumerate(ordered, start=1):
        if rule.id is not None:
            rule.position = 100_000 + n
    db.session.flush()
    for n, rule in enumerate(ordered, start=1):
        rule.position = n
        if rule.id is None:
            scenario.rules.append(rule)
    db.session.flush()
