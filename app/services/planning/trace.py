"""Reading a planning trace: the stored JSON expanded to its readable shape (`expand`) and
rendered as 'why this location?' text (`render`).

The engine stores a compact version 2 trace: per rule the sort key names once (`keys`) and each
candidate as a row `[location, units per trace item, key values, verdict code(, units taken)]`.
Readers get version 1, where each candidate is `{location, availability, keys, verdict}` with
the verdict as a sentence; version 1 traces (older rows) are returned as they are."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.i18n import lower
from app.services.planning.candidates import NO_STOCK
from app.services.state_labels import state_label

INF = float("inf")

# Read on the supervisor's order page and the dry run: in the reader's language.
OUTCOME_TEXT = {
    "planned": _l("Planned as one package."),
    "split": _l("Split over several locations."),
    "transfer": _l("Packed at one location; the missing units come by transfer."),
    "click_and_collect": _l("Click & collect: packed at the pickup location."),
    "out_of_stock": _l("No rule could supply the order: parked as out of stock at the default location."),
    "no_scenario": _l("No active scenario matches this order, so it was not planned."),
    "nothing_to_plan": _l("Nothing was left to plan."),
    "on_hold": _l("On hold: the order's source status is not accepted by ORDER_FILTERING."),
}


VERDICT_SHORT, VERDICT_CHOSEN, VERDICT_PART, VERDICT_NOT_NEEDED = "short", "chosen", "part", "-"


def _clean_value(v: Any) -> Any:
    if v is None or v == INF:
        return None
    return round(v, 3) if isinstance(v, float) else v


def _verdict(row: list, items: list[dict]) -> str:
    code, units = row[3], row[1]
    if code == VERDICT_SHORT:
        return "cannot supply everything: " + ", ".join(
            f"{i['sku']} short by {i['quantity'] - u}" for i, u in zip(items, units, strict=True)
            if u < i["quantity"])
    if code == VERDICT_CHOSEN:
        return "chosen: has every item"
    if code == VERDICT_PART:
        return "chosen for part of the order: " + ", ".join(
            f"{i['sku']} ×{q}" for i, q in zip(items, row[4], strict=True) if q)
    return "not needed"


def _expand_rule(rule: dict[str, Any], items: list[dict]) -> dict[str, Any]:
    names = rule.get("keys") or []
    out: dict[str, Any] = {}
    for key, value in rule.items():
        if key == "keys":
            continue
        if key == "candidates":
            value = [{"location": row[0],
                      "availability": {i["sku"]: u for i, u in zip(items, row[1], strict=True)},
                      "keys": {k: _clean_value(v) for k, v in zip(names, row[2], strict=True)},
                      "verdict": _verdict(row, items)}
                     for row in value]
        out[key] = value
    return out


def expand(trace: dict[str, Any]) -> dict[str, Any]:
    """A stored trace in the readable (version 1) shape: a version 2 trace is rebuilt into a new
    dict (the argument is left alone), anything else is returned unchanged."""
    if not isinstance(trace, dict) or trace.get("version") != 2:
        return trace
    items = trace.get("items") or []
    out = dict(trace)
    out["version"] = 1
    if "rules" in trace:
        out["rules"] = [_expand_rule(r, items) for r in trace["rules"]]
    return out


def _items(items: dict[str, int]) -> str:
    return ", ".join(f"{sku} ×{qty}" for sku, qty in items.items())


def _keys(keys: dict[str, Any]) -> str:
    parts = []
    for k, v in keys.items():
        if k == "distance":
            parts.append("distance unknown" if v is None else f"{v:.1f} km away")
        elif k == "load":
            parts.append("no quota" if v is None else f"load {v:.0%}")
        elif k == "stock":
            parts.append(f"{v} unit(s) of this order in stock")
        else:
            parts.append(f"{k} {v}")
    return ", ".join(parts)


def _dropped(drop: dict[str, Any]) -> str:
    names = ", ".join(drop["locations"])
    if drop["reason"] != NO_STOCK:
        return f"  - {names}: {drop['reason']}."
    more = drop.get("more", 0)
    if more:
        names += f" and {more} other location{'s' if more > 1 else ''}"
    several = len(drop["locations"]) + more > 1
    return f"  - {names} {'have' if several else 'has'} none of these items."


def render(trace: dict[str, Any]) -> str:
    """The trace (either version) as plain text a supervisor can read, top to bottom."""
    trace = expand(trace)
    lines: list[str] = []
    order = trace.get("order") or {}
    lines.append(f"Order {order.get('number', '?')} ({order.get('channel', '?')}, "
                 f"{str(order.get('delivery_type', '?')).replace('_', ' ')}).")
    if order.get("coordinates"):
        lat, lon = order["coordinates"]
        lines.append(f"Customer location {lat:.4f}, {lon:.4f} (from {order.get('coordinates_source')}).")
    else:
        lines.append("Customer location unknown: distances could not be used.")
    if trace.get("items"):
        lines.append("To plan: " + ", ".join(f"{i['sku']} ×{i['quantity']}" for i in trace["items"]) + ".")
    if trace.get("on_hold"):
        lines.append(trace["on_hold"])
    for sc in trace.get("scenarios", []):
        if sc["matched"]:
            lines.append(f"Scenario '{sc['name']}' matches.")
        else:
            lines.append(f"Scenario '{sc['name']}' skipped: {'; '.join(sc['reasons'])}.")
    cc = trace.get("click_and_collect")
    if cc:
        if cc.get("problem"):
            lines.append(f"Click & collect: {cc['problem']}.")
        else:
            lines.append(f"Click & collect at {cc['pickup_location']}: has {_items(cc['availability'])}.")
            if cc.get("result"):
                lines.append(cc["result"] + ".")
    if trace.get("moved_package"):
        lines.append(f"The units {trace['moved_package']} lost could not be brought back to it and the rules do not "
                     "split orders: the package was planned again as a whole.")
    resource = trace.get("resource")
    if resource:
        lines.append(f"Bring the units back into the order's open package at {resource.get('into') or '?'}:")
        for src in resource.get("sources", []):
            lines.append(f"  - take {_items(src['items'])} from {src['location']} ({_keys(src['keys'])}).")
        lines.append(f"  Result: {resource.get('result', '')}.")
    for rule in trace.get("rules", []):
        lines.append(f"Rule {rule.get('position', '?')} '{rule.get('name', '')}':")
        for drop in rule.get("dropped", []):
            lines.append(_dropped(drop))
        for c in rule.get("candidates", []):
            lines.append(f"  - {c['location']} ({_keys(c['keys'])}; has {_items(c['availability'])}): "
                         f"{c['verdict']}.")
        shown, total = len(rule.get("candidates", [])), rule.get("candidates_total", 0)
        if total > shown:
            lines.append(f"  ... and {total - shown} more candidate(s) after these.")
        if rule.get("split"):
            lines.append(f"  Split: {rule['split']}.")
        transfer = rule.get("transfer")
        if transfer:
            lines.append(f"  Transfer: pack at {transfer['packing_location']}"
                         + (f"; {transfer['problem']}" if transfer.get("problem") else "") + ".")
        for src in rule.get("sources", []):
            lines.append(f"  - take {_items(src['items'])} from {src['location']} ({_keys(src['keys'])}).")
        if rule.get("result"):
            lines.append(f"  Result: {rule['result']}.")
    decision = trace.get("decision") or {}
    outcome = decision.get("outcome", "")
    lines.append(_("Decision: %(outcome)s", outcome=OUTCOME_TEXT.get(outcome, outcome)))
    for p in decision.get("packages", []):
        text = _('  Package at %(location)s (%(value)s): %(value2)s', location=p['location'], value=lower(state_label(p['state'])), value2=_items(p['items']))
        for t in p.get("transfers", []):
            text += f"; {_items(t['items'])} comes from {t['source']}"
        lines.append(text + ".")
    return "\n".join(lines)
