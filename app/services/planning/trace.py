"""Reading a planning trace: the stored JSON expanded to its readable shape (`expand`) and
rendered as 'why this location?' text (`render`).

The engine stores a compact version 2 trace: per rule the sort key names once (`keys`) and each
candidate as a row `[location, units per trace item, key values, verdict code(, units taken)]`.
Readers get version 1, where each candidate is `{location, availability, keys, verdict}` with
the verdict as a sentence; version 1 traces (older rows) are returned as they are.

The engine's own sentences (a rule's result, why a location was dropped, why a scenario was
skipped...) are stored as catalogue messages (services/said.py), never as English text, and
said when read: `render` in the reader's language (the supervisor's order page, the dry run
screen), `expand` — the API's shape — in English, as the API always gave them. A plain string
found in an older trace is looked up in the catalogue and else shown as stored."""

from __future__ import annotations

from typing import Any

from babel import numbers as babel_numbers
from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from app.i18n import current_language, current_locale, lower
from app.services import said
from app.services.planning.candidates import NO_STOCK
from app.services.said import N_
from app.services.state_labels import STATE_LABELS, state_label

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


# The order's fields a scenario's conditions name, and "no value", in a skipped scenario's reason.
CONDITION_NAMES = {"channel": N_("channel"), "delivery_type": N_("delivery type"),
                   "payment_type": N_("payment type"), "cargo_company": N_("cargo company")}
NONE = N_("(none)")
DELIVERY_TEXT = {"cargo": _l("cargo"), "click_and_collect": _l("click and collect")}
COORDINATES_FROM = {"address": _l("address")}

VERDICT_SHORT, VERDICT_CHOSEN, VERDICT_PART, VERDICT_NOT_NEEDED = "short", "chosen", "part", "-"


# Steps whose values are codes: said with the words the screens use for them (`render`), while
# the API's English (`expand`) keeps the codes as it always gave them.
MISMATCH = "%(field)s %(value)s is not one of %(allowed)s"
ON_HOLD = "Source status %(status)s is not accepted by ORDER_FILTERING."


def _delivery_words(code: Any) -> Any:
    """A delivery type in words ("cargo", "click and collect"); an unknown one as it is."""
    return str(DELIVERY_TEXT[code]) if isinstance(code, str) and code in DELIVERY_TEXT else code


def _status_words(code: Any) -> Any:
    """An order's source status (a channel's, as the status mapping gave it: "delivered",
    Trendyol's "Delivered") in the words of its state label, lower case as it sits mid-sentence;
    a status without a label as it is."""
    if not isinstance(code, str):
        return code
    label = STATE_LABELS.get(code) or STATE_LABELS.get(code.lower())
    return lower(str(label)) if label is not None else code


def _worded(message: Any) -> Any:
    """A stored step with its code values put in words (a new dict; other steps as they are)."""
    if not said.is_message(message) or not isinstance(message.get("values"), dict):
        return message
    values = dict(message["values"])
    if message.get("id") == MISMATCH:
        field = values.get("field")
        if said.is_message(field) and field.get("id") == CONDITION_NAMES["delivery_type"]:
            values["value"] = _delivery_words(values.get("value"))
            if isinstance(values.get("allowed"), list):
                values["allowed"] = [_delivery_words(v) for v in values["allowed"]]
    elif message.get("id") == ON_HOLD:
        values["status"] = _status_words(values.get("status"))
    else:
        return message
    return {**message, "values": values}


def _clean_value(v: Any) -> Any:
    if v is None or v == INF:
        return None
    return round(v, 3) if isinstance(v, float) else v


def _say(value: Any) -> Any:
    """A stored step in the current language: a message as said.text says it; a plain string
    (an older trace's English) through the catalogue, as it is when the catalogue lacks it."""
    if said.is_message(value):
        return said.text(value)
    if isinstance(value, str) and value and "%" not in value:
        return _(value)
    return value


def _verdict(row: list, items: list[dict]) -> str:
    code, units = row[3], row[1]
    if code == VERDICT_SHORT:
        # Said apart from the sentence it goes in: Babel does not extract a _() inside another's arguments.
        short = [_("%(sku)s short by %(count)s", sku=i["sku"], count=i["quantity"] - u)
                 for i, u in zip(items, units, strict=True) if u < i["quantity"]]
        return _("cannot supply everything: %(short)s", short=", ".join(short))
    if code == VERDICT_CHOSEN:
        return _("chosen: has every item")
    if code == VERDICT_PART:
        return _("chosen for part of the order: %(items)s", items=", ".join(
            f"{i['sku']} ×{q}" for i, q in zip(items, row[4], strict=True) if q))
    return _("not needed")


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
        elif key == "dropped":
            value = [{**d, "reason": d["reason"] if d.get("reason") == NO_STOCK else _say(d.get("reason"))}
                     for d in value]
        elif key in ("result", "split"):
            value = _say(value)
        elif key == "transfer" and isinstance(value, dict) and "problem" in value:
            value = {**value, "problem": _say(value["problem"])}
        out[key] = value
    return out


def _said_steps(trace: dict[str, Any], out: dict[str, Any], words: bool) -> None:
    """The sentences outside the rules, in the current language (new dicts: `trace` is left alone);
    with `words`, condition values and source statuses in words rather than codes."""
    worded = _worded if words else (lambda message: message)
    if "on_hold" in trace:
        out["on_hold"] = _say(worded(trace["on_hold"]))
    if trace.get("scenarios"):
        out["scenarios"] = [{**sc, "reasons": [_say(worded(r)) for r in sc.get("reasons") or []]}
                            for sc in trace["scenarios"]]
    for key in ("click_and_collect", "resource"):
        part = trace.get(key)
        if isinstance(part, dict) and any(k in part for k in ("problem", "result")):
            out[key] = {**part, **{k: _say(part[k]) for k in ("problem", "result") if k in part}}


def _expand(trace: dict[str, Any], words: bool = False) -> dict[str, Any]:
    items = trace.get("items") or []
    out = dict(trace)
    out["version"] = 1
    if "rules" in trace:
        out["rules"] = [_expand_rule(r, items) for r in trace["rules"]]
    _said_steps(trace, out, words)
    return out


def expand(trace: dict[str, Any]) -> dict[str, Any]:
    """A stored trace in the readable (version 1) shape, its sentences in English (the API's
    words): a version 2 trace is rebuilt into a new dict (the argument is left alone), anything
    else is returned unchanged."""
    if not isinstance(trace, dict) or trace.get("version") != 2:
        return trace
    with force_locale("en"):
        return _expand(trace)


def _items(items: dict[str, int]) -> str:
    return ", ".join(f"{sku} ×{qty}" for sku, qty in items.items())


def _keys(keys: dict[str, Any]) -> str:
    parts = []
    for k, v in keys.items():
        if k == "distance":  # one decimal as Python rounds it (the API's English stays as it was)
            km = f"{v:.1f}".replace(".", babel_numbers.get_decimal_symbol(current_locale())) if v is not None else ""
            parts.append(_("distance unknown") if v is None else _("%(km)s km away", km=km))
        elif k == "load":
            percent = "" if v is None else f"{v:.0%}" if current_language() == "en" else \
                babel_numbers.format_percent(v, locale=current_locale())
            parts.append(_("no quota") if v is None else _("load %(percent)s", percent=percent))
        elif k == "stock":
            parts.append(_("%(count)s unit(s) of this order in stock", count=v))
        elif k == "priority":
            parts.append(_("priority %(value)s", value=v))
        else:
            parts.append(f"{k} {v}")
    return ", ".join(parts)


def _dropped(drop: dict[str, Any]) -> str:
    names = ", ".join(drop["locations"])
    if drop["reason"] != NO_STOCK:
        return f"  - {names}: {_say(drop['reason'])}."
    more = drop.get("more", 0)
    if more:
        names = ngettext("%(locations)s and %(num)s other location", "%(locations)s and %(num)s other locations",
                         more, locations=names)
    if len(drop["locations"]) + more > 1:
        return "  - " + _("%(locations)s have none of these items.", locations=names)
    return "  - " + _("%(locations)s has none of these items.", locations=names)


def render(trace: dict[str, Any], language: str | None = None) -> str:
    """The trace (either version) as plain text a supervisor can read, top to bottom, in the
    current language — or in `language` ("en" for the API's `explanation`)."""
    if language is not None:
        with force_locale(language):
            return render(trace)
    if isinstance(trace, dict) and trace.get("version") == 2:
        trace = _expand(trace, words=True)  # the engine's sentences in this language, codes in words
    lines: list[str] = []
    order = trace.get("order") or {}
    delivery = order.get("delivery_type", "?")
    lines.append(_("Order %(number)s (%(channel)s, %(delivery)s).", number=order.get("number", "?"),
                   channel=order.get("channel", "?"),
                   delivery=DELIVERY_TEXT.get(delivery) or str(delivery).replace("_", " ")))
    if order.get("coordinates"):
        lat, lon = order["coordinates"]
        source = order.get("coordinates_source")
        lines.append(_("Customer location %(latitude)s, %(longitude)s (from %(source)s).", latitude=f"{lat:.4f}",
                       longitude=f"{lon:.4f}", source=_coordinates_from(source)))
    else:
        lines.append(_("Customer location unknown: distances could not be used."))
    if trace.get("items"):
        lines.append(_("To plan: %(items)s.", items=", ".join(f"{i['sku']} ×{i['quantity']}" for i in trace["items"])))
    if trace.get("on_hold"):
        lines.append(_say(trace["on_hold"]))
    for sc in trace.get("scenarios", []):
        if sc["matched"]:
            lines.append(_("Scenario '%(name)s' matches.", name=sc["name"]))
        else:
            lines.append(_("Scenario '%(name)s' skipped: %(reasons)s.", name=sc["name"],
                           reasons="; ".join(_say(r) for r in sc["reasons"])))
    cc = trace.get("click_and_collect")
    if cc:
        if cc.get("problem"):
            lines.append(_("Click & collect: %(problem)s.", problem=_say(cc["problem"])))
        else:
            lines.append(_("Click & collect at %(location)s: has %(items)s.", location=cc["pickup_location"],
                           items=_items(cc["availability"])))
            if cc.get("result"):
                lines.append(f"{_say(cc['result'])}.")
    if trace.get("moved_package"):
        lines.append(_("The units %(package)s lost could not be brought back to it and the rules do not split "
                       "orders: the package was planned again as a whole.", package=trace["moved_package"]))
    resource = trace.get("resource")
    if resource:
        lines.append(_("Bring the units back into the order's open package at %(location)s:",
                       location=resource.get("into") or "?"))
        for src in resource.get("sources", []):
            lines.append(_source(src))
        lines.append("  " + _("Result: %(result)s.", result=_say(resource.get("result", ""))))
    for rule in trace.get("rules", []):
        lines.append(_("Rule %(position)s '%(name)s':", position=rule.get("position", "?"), name=rule.get("name", "")))
        for drop in rule.get("dropped", []):
            lines.append(_dropped(drop))
        for c in rule.get("candidates", []):
            lines.append("  - " + _("%(location)s (%(keys)s; has %(items)s): %(verdict)s.", location=c["location"],
                                    keys=_keys(c["keys"]), items=_items(c["availability"]), verdict=_say(c["verdict"])))
        shown, total = len(rule.get("candidates", [])), rule.get("candidates_total", 0)
        if total > shown:
            lines.append("  " + _("... and %(count)s more candidate(s) after these.", count=total - shown))
        if rule.get("split"):
            lines.append("  " + _("Split: %(split)s.", split=_say(rule["split"])))
        transfer = rule.get("transfer")
        if transfer:
            if transfer.get("problem"):
                lines.append("  " + _("Transfer: pack at %(location)s; %(problem)s.",
                                      location=transfer["packing_location"], problem=_say(transfer["problem"])))
            else:
                lines.append("  " + _("Transfer: pack at %(location)s.", location=transfer["packing_location"]))
        for src in rule.get("sources", []):
            lines.append(_source(src))
        if rule.get("result"):
            lines.append("  " + _("Result: %(result)s.", result=_say(rule["result"])))
    decision = trace.get("decision") or {}
    outcome = decision.get("outcome", "")
    lines.append(_("Decision: %(outcome)s", outcome=OUTCOME_TEXT.get(outcome, outcome)))
    for p in decision.get("packages", []):
        state, items = lower(state_label(p["state"])), _items(p["items"])
        if p.get("transfers"):
            transfers = "; ".join(_("%(items)s comes from %(source)s", items=_items(t["items"]), source=t["source"])
                                  for t in p["transfers"])
            text = _("  Package at %(location)s (%(state)s): %(items)s; %(transfers)s", location=p["location"],
                     state=state, items=items, transfers=transfers)
        else:
            text = _('  Package at %(location)s (%(value)s): %(value2)s', location=p['location'], value=state,
                     value2=items)
        lines.append(text + ".")
    return "\n".join(lines)


def _coordinates_from(source: Any) -> str:
    """Where the customer's coordinates came from: the address, or a provider's lookup of a place
    ("offline: Kadıköy, İstanbul" — the built-in list of districts and cities)."""
    if source in COORDINATES_FROM:
        return str(COORDINATES_FROM[source])
    provider, _sep, place = str(source).partition(": ")
    if provider == "offline" and place:
        return _("offline: %(place)s", place=place)
    return str(source)


def _source(src: dict[str, Any]) -> str:
    return "  - " + _("take %(items)s from %(location)s (%(keys)s).", items=_items(src["items"]),
                      location=src["location"], keys=_keys(src["keys"]))
