"""Reading a planning trace: the stored JSON rendered as 'why this location?' text."""

from __future__ import annotations

from typing import Any

OUTCOME_TEXT = {
    "planned": "Planned as one package.",
    "split": "Split over several locations.",
    "transfer": "Packed at one location; the missing units come by transfer.",
    "click_and_collect": "Click & collect: packed at the pickup location.",
    "out_of_stock": "No rule could supply the order: parked as out of stock at the default location.",
    "no_scenario": "No active scenario matches this order, so it was not planned.",
    "nothing_to_plan": "Nothing was left to plan.",
    "on_hold": "On hold: the order's source status is not accepted by ORDER_FILTERING.",
}


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


def render(trace: dict[str, Any]) -> str:
    """The trace as plain text a supervisor can read, top to bottom."""
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
    for rule in trace.get("rules", []):
        lines.append(f"Rule {rule.get('position', '?')} '{rule.get('name', '')}':")
        for drop in rule.get("dropped", []):
            lines.append(f"  - {', '.join(drop['locations'])}: {drop['reason']}.")
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
    lines.append("Decision: " + OUTCOME_TEXT.get(outcome, outcome))
    for p in decision.get("packages", []):
        text = f"  Package at {p['location']} ({p['state'].replace('_', ' ')}): {_items(p['items'])}"
        for t in p.get("transfers", []):
            text += f"; {_items(t['items'])} comes from {t['source']}"
        lines.append(text + ".")
    return "\n".join(lines)
