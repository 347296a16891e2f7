"""The scenario editor's form state: flat form fields <-> the ScenarioIn shape.

Rules are repeated groups (`rules-<n>-name`, `rules-<n>-sort-<k>-by`, ...) that htmx adds, removes
and reorders in place, so this module reads them by index instead of through a WTForms FieldList.
The state round-trips: a re-rendered editor shows exactly what was posted, plus errors.
"""

from __future__ import annotations

import re
from typing import Any

from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from app.models.scenarios import SORT_KEYS

MAX_SORT_KEYS = 4
RULE_FLAGS = ("same_city", "use_quota", "allow_split", "transferable")
CONDITION_LISTS = ("channels", "delivery_types", "payment_types", "cargo_companies")


def _codes(raw: str | None) -> list[str]:
    return [c.strip() for c in re.split(r"[,\s]+", raw or "") if c.strip()]


def _int(raw: str | None, default: Any) -> Any:
    raw = (raw or "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        return raw  # the schema reports it next to the field


def empty_rule(n: int = 1) -> dict[str, Any]:
    # The name a new rule starts with, in the admin's language (they may type another).
    return {"name": _("Rule %(number)s", number=n), "locations": [], "exclude": [], "location_type": None, "same_city": False,
            "use_quota": False, "sort": [{"by": "priority", "order": "asc"}], "allow_split": False,
            "max_packages": 1, "transferable": False, "transfer_sources": []}


def empty_scenario() -> dict[str, Any]:
    return {"name": "", "priority": 100, "active": True, "default_location": "",
            "conditions": {k: [] for k in CONDITION_LISTS}, "rules": [empty_rule()]}


def read(form: MultiDict) -> dict[str, Any]:
    """The posted editor as a ScenarioIn-shaped dict (rules in their on-screen order)."""
    indexes = sorted({int(m.group(1)) for key in form for m in [re.match(r"rules-(\d+)-name$", key)] if m})
    rules = []
    for i in indexes:
        p = f"rules-{i}-"
        sort = []
        for k in range(MAX_SORT_KEYS):
            by = (form.get(f"{p}sort-{k}-by") or "").strip()
            if by:
                sort.append({"by": by, "order": form.get(f"{p}sort-{k}-order") or "asc"})
        rules.append({
            "name": (form.get(f"{p}name") or "").strip(),
            "locations": _codes(form.get(f"{p}locations")),
            "exclude": _codes(form.get(f"{p}exclude")),
            "location_type": form.get(f"{p}location_type") or None,
            **{flag: form.get(f"{p}{flag}") in ("y", "on", "true", "1") for flag in RULE_FLAGS},
            "sort": sort,
            "max_packages": _int(form.get(f"{p}max_packages"), 1),
            "transfer_sources": _codes(form.get(f"{p}transfer_sources")),
        })
    return {
        "name": (form.get("name") or "").strip(),
        "priority": _int(form.get("priority"), 100),
        "active": form.get("active") in ("y", "on", "true", "1"),
        "default_location": (form.get("default_location") or "").strip(),
        "conditions": {
            "channels": form.getlist("channels"),
            "delivery_types": form.getlist("delivery_types"),
            "payment_types": _codes(form.get("payment_types")),
            "cargo_companies": form.getlist("cargo_companies"),
        },
        "rules": rules,
    }


def apply_op(state: dict[str, Any], op: str) -> dict[str, Any]:
    """Rule editing without saving: `add`, `remove-<i>`, `up-<i>`, `down-<i>`."""
    rules = state["rules"]
    if op == "add":
        rules.append(empty_rule(len(rules) + 1))
        return state
    match = re.fullmatch(r"(remove|up|down)-(\d+)", op or "")
    if not match:
        return state
    action, i = match.group(1), int(match.group(2))
    if not 0 <= i < len(rules):
        return state
    if action == "remove":
        rules.pop(i)
    elif action == "up" and i > 0:
        rules[i - 1], rules[i] = rules[i], rules[i - 1]
    elif action == "down" and i < len(rules) - 1:
        rules[i + 1], rules[i] = rules[i], rules[i + 1]
    return state


def sort_slots(rule: dict[str, Any]) -> list[dict[str, str]]:
    """Always MAX_SORT_KEYS rows on screen; empty ones are ignored when read back."""
    keys = list(rule.get("sort") or [])[:MAX_SORT_KEYS]
    return keys + [{"by": "", "order": "asc"}] * (MAX_SORT_KEYS - len(keys))


__all__ = ["SORT_KEYS", "apply_op", "empty_scenario", "read", "sort_slots"]
