"""The planning algorithm of SPEC §6 on in-memory snapshots (no database access here).

`plan(order, scenarios, network)` returns a `Plan` (packages, transfers, outcome) and its trace,
and takes the planned units out of `network` so the next order of a batch sees what is left.
Only locations that hold some stock of the order are looked at per order (`candidates` builds,
filters and sorts them); the static part of a rule's filter is computed once per snapshot.
"""

from __future__ import annotations

from app.services.planning.candidates import Candidate, effective_sort, key_value, prepare, rank, stock_pool, supply_of
from app.services.planning.model import (
    INF,
    Demand,
    Network,
    OrderView,
    Plan,
    PlannedPackage,
    PlannedTransfer,
    RuleView,
    ScenarioView,
    Site,
)

TRACE_CANDIDATE_LIMIT = 10
TRACE_RUNNERS_UP = 2
CONDITION_FIELDS = (("channels", "channel"), ("delivery_types", "delivery_type"),
                    ("payment_types", "payment_type"), ("cargo_companies", "cargo_company"))


# --- scenario ------------------------------------------------------------------------------

def scenario_mismatch(scenario: ScenarioView, order: OrderView) -> list[str]:
    """Why the scenario's conditions do not match the order (empty list = it matches)."""
    reasons = []
    for cond, attr in CONDITION_FIELDS:
        allowed = (scenario.conditions or {}).get(cond) or []
        value = getattr(order, attr)
        if allowed and value not in allowed:
            reasons.append(f"{attr.replace('_', ' ')} {value or '(none)'} is not one of {', '.join(allowed)}")
    return reasons


def choose_scenario(scenarios: list[ScenarioView], order: OrderView) -> tuple[ScenarioView | None, list[dict]]:
    considered = []
    for sc in sorted(scenarios, key=lambda s: (s.priority, s.id or 0)):
        reasons = scenario_mismatch(sc, order)
        considered.append({"id": sc.id, "name": sc.name, "matched": not reasons, "reasons": reasons})
        if not reasons:
            return sc, considered
    return None, considered


def _missing_text(demands: list[Demand], supply: list[int]) -> str:
    parts = [f"{d.sku} short by {d.quantity - s}" for d, s in zip(demands, supply, strict=True) if s < d.quantity]
    return "cannot supply everything: " + ", ".join(parts)


# --- choosing ------------------------------------------------------------------------------

def _single(cands: list[Candidate], demands: list[Demand]) -> Candidate | None:
    need = [d.quantity for d in demands]  # supplies are capped at the demand
    for n, c in enumerate(cands):
        if c.supply == need:
            return c
        if n < TRACE_CANDIDATE_LIMIT:
            c.verdict = _missing_text(demands, c.supply)
    return None


def _split(cands: list[Candidate], demands: list[Demand], max_packages: int) -> list[tuple[Candidate, list[int]]] | None:
    """Greedy set cover: repeatedly take the candidate that covers most of what is still missing
    (ties go to the earlier one in sort order) until everything is covered or the limit is hit."""
    remaining = [d.quantity for d in demands]
    chosen: list[tuple[Candidate, list[int]]] = []
    used: set[int] = set()
    while any(remaining) and len(chosen) < max_packages:
        best, best_units = None, 0
        for c in cands:
            if c.site.id in used:
                continue
            units = sum(min(s, r) for s, r in zip(c.supply, remaining, strict=True))
            if units > best_units:
                best, best_units = c, units
        if best is None:
            break
        take = [min(s, r) for s, r in zip(best.supply, remaining, strict=True)]
        remaining = [r - t for r, t in zip(remaining, take, strict=True)]
        used.add(best.site.id)
        chosen.append((best, take))
    return chosen if not any(remaining) else None


def _source_sites(network: Network, rule: RuleView, pack_site_id: int) -> set[int]:
    if rule.transfer_sources:
        ids = {network.by_code[c] for c in rule.transfer_sources if c in network.by_code}
    else:
        ids = {s.id for s in network.sites.values() if s.transfer_source}
    return {i for i in ids if i != pack_site_id and network.sites[i].active}


def _sources_for(network: Network, rule: RuleView, pack: Site, demands: list[Demand], missing: list[int],
                 sources: set[int], trace: dict) -> list[PlannedTransfer] | None:
    """Cover `missing` units from `sources` sorted by the rule's keys (distance measured to the
    packing location); None when they cannot."""
    sort = effective_sort(rule)
    origin = prepare((pack.latitude, pack.longitude) if pack.latitude is not None else None)
    ranked = []
    for sid in sources:
        site = network.sites[sid]
        supply = supply_of(network, sid, demands)
        if not any(s > 0 for s, m in zip(supply, missing, strict=True) if m):
            continue
        ranked.append(Candidate(site, supply, [key_value(by, network, site, supply, origin) for by, _ in sort],
                                 sort))
    ranked.sort(key=lambda c: c.order)
    remaining = list(missing)
    transfers = []
    trace["sources"] = []
    for cand in ranked:
        site, supply, keys = cand.site, cand.supply, cand.keys
        if not any(remaining):
            break
        lines = []
        for i, d in enumerate(demands):
            q = min(supply[i], remaining[i])
            if q > 0:
                lines.append((d, q))
                remaining[i] -= q
        if lines:
            transfers.append(PlannedTransfer(site.id, lines))
            trace["sources"].append({"location": site.code, "keys": _clean(keys),
                                     "items": {d.sku: q for d, q in lines}})
    return transfers if not any(remaining) else None


def _clean(keys: dict) -> dict:
    return {k: (None if v == INF else round(v, 3) if isinstance(v, float) else v) for k, v in keys.items()}


def _trace_candidates(cands: list[Candidate], demands: list[Demand]) -> list[dict]:
    """The first candidates in sort order with their verdicts: every one up to the last chosen
    (at most TRACE_CANDIDATE_LIMIT), then at most TRACE_RUNNERS_UP that were not needed — enough
    to read "why this location and not the next ones" without storing every candidate."""
    shown = cands[:TRACE_CANDIDATE_LIMIT]
    last_chosen = max((n for n, c in enumerate(shown) if c.verdict.startswith("chosen")), default=None)
    if last_chosen is not None:
        shown = shown[:last_chosen + 1 + TRACE_RUNNERS_UP]
    return [{"location": c.site.code, "availability": {d.sku: s for d, s in zip(demands, c.supply, strict=True)},
             "keys": _clean(c.keys), "verdict": c.verdict or "not needed"}
            for c in shown]


def _try_rule(network: Network, rule: RuleView, order: OrderView, demands: list[Demand],
              pool: dict[int, list[int]], t: dict) -> tuple[str, list[PlannedPackage]] | None:
    cands = rank(network, rule, order, demands, pool, t)
    t["candidates_total"] = len(cands)
    hit = _single(cands, demands)
    if hit is not None:
        hit.verdict = "chosen: has every item"
        t["candidates"] = _trace_candidates(cands, demands)
        t["result"] = f"{hit.site.code} has every item"
        return "planned", [PlannedPackage(hit.site.id, "waiting", [(d, d.quantity) for d in demands])]
    if rule.allow_split and rule.max_packages > 1:
        chosen = _split(cands, demands, rule.max_packages)
        if chosen:
            for c, take in chosen:
                c.verdict = "chosen for part of the order: " + ", ".join(
                    f"{d.sku} ×{q}" for d, q in zip(demands, take, strict=True) if q)
            t["candidates"] = _trace_candidates(cands, demands)
            t["result"] = f"split over {len(chosen)} locations: " + ", ".join(c.site.code for c, _ in chosen)
            return "split", [PlannedPackage(c.site.id, "waiting",
                                            [(d, q) for d, q in zip(demands, take, strict=True) if q])
                             for c, take in chosen]
        t["split"] = f"cannot cover the order with at most {rule.max_packages} locations"
    if rule.transferable:
        # The packing location is the first candidate overall, stock or not.
        everyone = rank(network, rule, order, demands, {s: pool.get(s) for s in network.sites}, {})
        everyone = [c for c in everyone
                    if not any((d.order_item_id, c.site.id) in network.exclusions for d in demands)]
        if everyone:
            pack = everyone[0]
            missing = [d.quantity - s for d, s in zip(demands, pack.supply, strict=True)]
            tt: dict = {"packing_location": pack.site.code}
            sources = {s for s in _source_sites(network, rule, pack.site.id)
                       if not any((d.order_item_id, s) in network.exclusions for d in demands)}
            transfers = _sources_for(network, rule, pack.site, demands, missing, sources, tt)
            t["transfer"] = tt
            if transfers is not None:
                t["candidates"] = _trace_candidates(cands, demands)
                t["result"] = (f"pack at {pack.site.code}, bring the missing units from "
                               + ", ".join(network.sites[x.source_id].code for x in transfers))
                package = PlannedPackage(pack.site.id, "waiting_for_transfer",
                                         [(d, d.quantity) for d in demands], transfers)
                return "transfer", [package]
            tt["problem"] = "the transfer sources do not hold the missing units"
    t["candidates"] = _trace_candidates(cands, demands)
    t["result"] = "no location fits this rule" if not cands else "no single location has every item"
    return None


def _click_and_collect(network: Network, scenario: ScenarioView, order: OrderView, demands: list[Demand],
                       pool: dict[int, list[int]], trace: dict) -> tuple[str, list[PlannedPackage]] | None:
    pickup = network.sites.get(order.pickup_location_id or -1)
    if pickup is None:
        trace["click_and_collect"] = {"problem": "the pickup location is unknown"}
        return None
    supply = supply_of(network, pickup.id, demands)
    cc: dict = {"pickup_location": pickup.code,
                "availability": {d.sku: s for d, s in zip(demands, supply, strict=True)}}
    trace["click_and_collect"] = cc
    missing = [d.quantity - s for d, s in zip(demands, supply, strict=True)]
    lines = [(d, d.quantity) for d in demands]
    if not any(missing):
        cc["result"] = f"{pickup.code} has every item: packed there"
        return "click_and_collect", [PlannedPackage(pickup.id, "waiting", lines)]
    # The pickup location is the transfer destination; each rule, in order, names the sources.
    for rule in scenario.rules:
        rt: dict = {"position": rule.position, "name": rule.name}
        trace["rules"].append(rt)
        if rule.transferable and rule.transfer_sources:
            sources = _source_sites(network, rule, pickup.id)
        else:
            sources = {c.site.id for c in rank(network, rule, order, demands, pool, rt)
                       if c.site.transfer_source and c.site.id != pickup.id}
        sources = {s for s in sources if not any((d.order_item_id, s) in network.exclusions for d in demands)}
        transfers = _sources_for(network, rule, pickup, demands, missing, sources, rt)
        if transfers is not None:
            rt["result"] = "transfers into the pickup location from " + ", ".join(
                network.sites[x.source_id].code for x in transfers)
            return "click_and_collect", [PlannedPackage(pickup.id, "waiting_for_transfer", lines, transfers)]
        rt["result"] = "the rule's sources do not hold the missing units"
    return None


def plan(order: OrderView, scenarios: list[ScenarioView], network: Network) -> Plan:
    """Plan `order.demands`; takes the planned units out of `network`."""
    demands = [d for d in order.demands if d.quantity > 0]
    trace: dict = {
        "version": 1,
        "order": {"number": order.number, "channel": order.channel, "delivery_type": order.delivery_type,
                  "coordinates": list(order.coords) if order.coords else None,
                  "coordinates_source": order.coords_source},
        "items": [{"order_item_id": d.order_item_id, "sku": d.sku, "quantity": d.quantity} for d in demands],
        "rules": [],
    }
    if not demands:
        trace["decision"] = {"outcome": "nothing_to_plan", "packages": []}
        return Plan("nothing_to_plan", None, [], trace)
    scenario, considered = choose_scenario(scenarios, order)
    trace["scenarios"] = considered
    if scenario is None:
        trace["decision"] = {"outcome": "no_scenario", "packages": []}
        return Plan("no_scenario", None, [], trace)
    default = network.sites.get(scenario.default_location_id)
    trace["scenario"] = {"id": scenario.id, "name": scenario.name,
                         "default_location": default.code if default else None}
    pool = stock_pool(network, demands)
    result = None
    if order.delivery_type == "click_and_collect":
        result = _click_and_collect(network, scenario, order, demands, pool, trace)
    else:
        for rule in scenario.rules:
            rt: dict = {"position": rule.position, "name": rule.name}
            trace["rules"].append(rt)
            result = _try_rule(network, rule, order, demands, pool, rt)
            if result is not None:
                break
    if result is None:
        outcome, packages = "out_of_stock", [PlannedPackage(scenario.default_location_id, "out_of_stock",
                                                            [(d, d.quantity) for d in demands])]
    else:
        outcome, packages = result
    for p in packages:
        if p.state != "out_of_stock":
            for d, q in p.reserve_here:
                network.take(p.location_id, d.product_id, q)
            for tr in p.transfers:
                for d, q in tr.lines:
                    network.take(tr.source_id, d.product_id, q)
            network.open_packages[p.location_id] = network.open_packages.get(p.location_id, 0) + 1
    trace["decision"] = {"outcome": outcome, "packages": [_package_trace(network, p) for p in packages]}
    return Plan(outcome, scenario, packages, trace)


def _package_trace(network: Network, p: PlannedPackage) -> dict:
    return {"location": network.sites[p.location_id].code if p.location_id in network.sites else None,
            "state": p.state, "items": {d.sku: q for d, q in p.lines},
            "transfers": [{"source": network.sites[t.source_id].code, "items": {d.sku: q for d, q in t.lines}}
                          for t in p.transfers]}
