"""The planning algorithm of SPEC §6 on in-memory snapshots (no database access here).

`plan(order, scenarios, network)` returns a `Plan` (packages, transfers, outcome) and its trace,
and takes the planned units out of `network` so the next order of a batch sees what is left.
Only locations that hold some stock of the order are looked at per order (`candidates` builds,
filters and sorts them); the static part of a rule's filter is computed once per snapshot.
"""

from __future__ import annotations

from app.services.planning.candidates import (
    Row,
    effective_sort,
    key_value,
    prepare,
    rank,
    sort_order,
    stock_pool,
    supply_of,
)
from app.services.planning.model import (
    INF,
    Demand,
    Network,
    OpenPackage,
    OrderView,
    Plan,
    PlannedPackage,
    PlannedTransfer,
    RuleView,
    ScenarioView,
    Site,
)
from app.services.planning.trace import CONDITION_NAMES, NONE
from app.services.planning.trace import VERDICT_CHOSEN as CHOSEN
from app.services.planning.trace import VERDICT_NOT_NEEDED as NOT_NEEDED
from app.services.planning.trace import VERDICT_PART as PART
from app.services.planning.trace import VERDICT_SHORT as SHORT
from app.services.said import N_, said

TRACE_VERSION = 2
TRACE_CANDIDATE_LIMIT = 10
TRACE_RUNNERS_UP = 2
CONDITION_FIELDS = (("channels", "channel"), ("delivery_types", "delivery_type"),
                    ("payment_types", "payment_type"), ("cargo_companies", "cargo_company"))


# --- scenario ------------------------------------------------------------------------------

def scenario_mismatch(scenario: ScenarioView, order: OrderView) -> list[dict]:
    """Why the scenario's conditions do not match the order (empty list = it matches), each a
    message (services/said.py) the trace's reader gets in their language."""
    reasons = []
    for cond, attr in CONDITION_FIELDS:
        allowed = (scenario.conditions or {}).get(cond) or []
        value = getattr(order, attr)
        if allowed and value not in allowed:
            reasons.append(said(N_("%(field)s %(value)s is not one of %(allowed)s"), field=said(CONDITION_NAMES[attr]),
                                value=value or said(NONE), allowed=list(allowed)))
    return reasons


def choose_scenario(scenarios: list[ScenarioView], order: OrderView) -> tuple[ScenarioView | None, list[dict]]:
    considered = []
    for sc in sorted(scenarios, key=lambda s: (s.priority, s.id or 0)):
        reasons = scenario_mismatch(sc, order)
        considered.append({"id": sc.id, "name": sc.name, "matched": not reasons, "reasons": reasons})
        if not reasons:
            return sc, considered
    return None, considered


# --- choosing ------------------------------------------------------------------------------

def _single(cands: list[Row], demands: list[Demand]) -> int | None:
    """Index of the first candidate that has every item (supplies are capped at the demand)."""
    need = [d.quantity for d in demands]
    for n, c in enumerate(cands):
        if c[2] == need:
            return n
    return None


SPLIT_SEARCH_BUDGET = 100_000  # supply figures (candidates × order lines) looked at per rule by the search


def _split(cands: list[Row], demands: list[Demand], max_packages: int) -> list[tuple[int, list[int]]] | None:
    """Split over the fewest locations (at most `max_packages`), in sort order (SPEC §7).

    Greedy set cover first (the candidate that covers most of what is still missing, ties to the
    earlier one); two locations cannot be beaten once one alone did not do. Greedy can miss a
    smaller cover, or any cover within the limit: a big first pick may leave what remains spread
    over two more locations while two others would have covered everything. Then an exact search
    looks for the first set in sort order of 2, 3 … locations (fewer than greedy's), within
    `SPLIT_SEARCH_BUDGET` figures looked at for all sizes together (beyond it, the greedy answer stands).
    Among sets as small as greedy's, greedy's stands. Returns (index in `cands`, units taken per
    demand) per chosen candidate."""
    need = [d.quantity for d in demands]
    greedy = _greedy_split(cands, need, max_packages)
    if greedy is not None and len(greedy) <= 2:
        return greedy
    if any(sum(c[2][i] for c in cands) < q for i, q in enumerate(need)):
        return None  # all the candidates together do not hold the order
    supplies = [c[2] for c in cands]
    # The last candidate that holds any of each line: past it, that line cannot be covered.
    last = [max((n for n, s in enumerate(supplies) if s[i] > 0), default=-1) for i in range(len(need))]
    most = max(sum(min(s, q) for s, q in zip(sup, need, strict=True)) for sup in supplies)
    budget = [SPLIT_SEARCH_BUDGET]
    for size in range(2, (len(greedy) if greedy is not None else max_packages + 1)):
        found = _first_cover(supplies, last, most, need, size, budget)
        if found is _OUT_OF_BUDGET:
            break
        if found is not None:
            return _take_in_order(cands, need, found)
    return greedy


def _greedy_split(cands: list[Row], need: list[int], max_packages: int) -> list[tuple[int, list[int]]] | None:
    remaining = list(need)
    chosen: list[tuple[int, list[int]]] = []
    used: set[int] = set()
    while any(remaining) and len(chosen) < max_packages:
        best, best_units, most = None, 0, sum(remaining)
        for n, c in enumerate(cands):
            if c[1].id in used:
                continue
            units = 0
            for s, r in zip(c[2], remaining, strict=True):
                units += s if s < r else r
            if units > best_units:
                best, best_units = n, units
                if units == most:
                    break  # nothing later can cover more, and ties go to the earlier one
        if best is None:
            break
        take = [min(s, r) for s, r in zip(cands[best][2], remaining, strict=True)]
        remaining = [r - t for r, t in zip(remaining, take, strict=True)]
        used.add(cands[best][1].id)
        chosen.append((best, take))
    return chosen if not any(remaining) else None


_OUT_OF_BUDGET: list[int] = []


def _first_cover(supplies: list[list[int]], last: list[int], most: int, need: list[int], size: int,
                 budget: list[int]) -> list[int] | None:
    """Indexes of the first `size` candidates, in sort order (i1 < i2 < …, compared from the
    first), that together hold `need`; None if there is none; `_OUT_OF_BUDGET` when the search
    gave up. `last[i]`: the last candidate holding any of line i; `most`: the most one candidate
    holds of the order; `budget`: the supply figures the searches of every size may still look at."""
    width = len(need)

    def search(start: int, left: int, remaining: list[int]) -> list[int] | None:
        if sum(remaining) > left * most or any(r and last[i] < start for i, r in enumerate(remaining)):
            return None
        for n in range(start, len(supplies) - left + 1):
            budget[0] -= width
            if budget[0] < 0:
                raise _GiveUp
            supply = supplies[n]
            rest = [r - s if s < r else 0 for s, r in zip(supply, remaining, strict=True)]
            if rest == remaining:
                continue  # holds nothing still missing
            if not any(rest):
                return [n]
            if left > 1:
                found = search(n + 1, left - 1, rest)
                if found is not None:
                    return [n, *found]
        return None

    try:
        return search(0, size, list(need))
    except _GiveUp:
        return _OUT_OF_BUDGET


class _GiveUp(Exception):
    pass


def _take_in_order(cands: list[Row], need: list[int], chosen: list[int]) -> list[tuple[int, list[int]]]:
    remaining = list(need)
    parts = []
    for n in chosen:
        take = [min(s, r) for s, r in zip(cands[n][2], remaining, strict=True)]
        remaining = [r - t for r, t in zip(remaining, take, strict=True)]
        parts.append((n, take))
    return parts


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
        values = [key_value(by, network, site, supply, origin) for by, _ in sort]
        ranked.append((sort_order(values, sort, site.id), site, supply, values))
    ranked.sort(key=lambda c: c[0])
    remaining = list(missing)
    transfers = []
    trace["sources"] = []
    for _, site, supply, values in ranked:
        keys = {by: v for v, (by, _) in zip(values, sort, strict=True)}
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


def _key_value(v):
    return None if v == INF else round(v, 3) if isinstance(v, float) else v


def _clean(keys: dict) -> dict:
    return {k: _key_value(v) for k, v in keys.items()}


def _trace_candidates(t: dict, rule: RuleView, cands: list[Row], hit: int | None = None,
                      parts: list[tuple[int, list[int]]] | None = None) -> None:
    """The first candidates in sort order with their verdicts: every one up to the last chosen
    (at most TRACE_CANDIDATE_LIMIT), then at most TRACE_RUNNERS_UP that were not needed — enough
    to read "why this location and not the next ones" without storing every candidate.

    Stored compactly (trace version 2): `t["keys"]` names the sort keys once, each candidate is
    `[code, units per trace item, key values, verdict code]` (+ the units taken for PART), and
    `trace.expand` rebuilds the sentences. `hit` is the index of the single chosen candidate,
    `parts` the split's chosen (index, units taken); the others shown before the last chosen are
    SHORT (no candidate before a hit, and none at all without one, has every item)."""
    shown = cands[:TRACE_CANDIDATE_LIMIT]
    taken = dict(parts) if parts else {}
    last_chosen = hit if hit is not None else max((n for n in taken if n < TRACE_CANDIDATE_LIMIT), default=None)
    if last_chosen is not None and last_chosen < TRACE_CANDIDATE_LIMIT:
        shown = shown[:last_chosen + 1 + TRACE_RUNNERS_UP]
    t["keys"] = [by for by, _ in effective_sort(rule)]
    rows = []
    for n, (_, site, supply, values) in enumerate(shown):
        if len(values) == 1:
            v = values[0]
            keys = [None if v == INF else round(v, 3) if isinstance(v, float) else v]
        else:
            keys = [_key_value(v) for v in values]
        if hit is not None:
            rows.append([site.code, supply, keys, SHORT if n < hit else CHOSEN if n == hit else NOT_NEEDED])
        elif n in taken:
            rows.append([site.code, supply, keys, PART, taken[n]])
        else:
            rows.append([site.code, supply, keys, SHORT])
    t["candidates"] = rows


def _try_rule(network: Network, rule: RuleView, order: OrderView, demands: list[Demand],
              pool: dict[int, list[int]], t: dict) -> tuple[str, list[PlannedPackage]] | None:
    cands = rank(network, rule, order, demands, pool, t)
    t["candidates_total"] = len(cands)
    hit = _single(cands, demands)
    if hit is not None:
        site = cands[hit][1]
        _trace_candidates(t, rule, cands, hit=hit)
        t["result"] = said(N_("%(location)s has every item"), location=site.code)
        return "planned", [PlannedPackage(site.id, "waiting", [(d, d.quantity) for d in demands])]
    if rule.allow_split and rule.max_packages > 1:
        chosen = _split(cands, demands, rule.max_packages)
        if chosen:
            _trace_candidates(t, rule, cands, parts=chosen)
            t["result"] = said(N_("split over %(count)s locations: %(locations)s"), count=len(chosen),
                               locations=[cands[n][1].code for n, _ in chosen])
            return "split", [PlannedPackage(cands[n][1].id, "waiting",
                                            [(d, q) for d, q in zip(demands, take, strict=True) if q])
                             for n, take in chosen]
        t["split"] = said(N_("cannot cover the order with at most %(count)s locations"), count=rule.max_packages)
    if rule.transferable:
        # The packing location is the first candidate overall, stock or not.
        # A location missing from the pool holds none of the order: its supply is all zeros.
        n = len(demands)
        everyone = rank(network, rule, order, demands,
                        {s: pool[s] if s in pool else [0] * n for s in network.sites}, {})
        if network.exclusions:
            everyone = [c for c in everyone
                        if not any((d.order_item_id, c[1].id) in network.exclusions for d in demands)]
        if everyone:
            _, pack, pack_supply, _ = everyone[0]
            missing = [d.quantity - s for d, s in zip(demands, pack_supply, strict=True)]
            tt: dict = {"packing_location": pack.code}
            sources = {s for s in _source_sites(network, rule, pack.id)
                       if not any((d.order_item_id, s) in network.exclusions for d in demands)}
            transfers = _sources_for(network, rule, pack, demands, missing, sources, tt)
            t["transfer"] = tt
            if transfers is not None:
                _trace_candidates(t, rule, cands)
                t["result"] = said(N_("pack at %(location)s, bring the missing units from %(sources)s"),
                                   location=pack.code, sources=[network.sites[x.source_id].code for x in transfers])
                package = PlannedPackage(pack.id, "waiting_for_transfer",
                                         [(d, d.quantity) for d in demands], transfers)
                return "transfer", [package]
            tt["problem"] = said(N_("the transfer sources do not hold the missing units"))
    _trace_candidates(t, rule, cands)
    t["result"] = said(N_("no location fits this rule")) if not cands else said(N_("no single location has every item"))
    return None


def _click_and_collect(network: Network, scenario: ScenarioView, order: OrderView, demands: list[Demand],
                       pool: dict[int, list[int]], trace: dict) -> tuple[str, list[PlannedPackage]] | None:
    pickup = network.sites.get(order.pickup_location_id or -1)
    if pickup is None:
        trace["click_and_collect"] = {"problem": said(N_("the pickup location is unknown"))}
        return None
    supply = supply_of(network, pickup.id, demands)
    cc: dict = {"pickup_location": pickup.code,
                "availability": {d.sku: s for d, s in zip(demands, supply, strict=True)}}
    trace["click_and_collect"] = cc
    missing = [d.quantity - s for d, s in zip(demands, supply, strict=True)]
    lines = [(d, d.quantity) for d in demands]
    if not any(missing):
        cc["result"] = said(N_("%(location)s has every item: packed there"), location=pickup.code)
        return "click_and_collect", [PlannedPackage(pickup.id, "waiting", lines)]
    # The pickup location is the transfer destination; each rule, in order, names the sources.
    for rule in scenario.rules:
        rt: dict = {"position": rule.position, "name": rule.name}
        trace["rules"].append(rt)
        if rule.transferable and rule.transfer_sources:
            sources = _source_sites(network, rule, pickup.id)
        else:
            sources = {c[1].id for c in rank(network, rule, order, demands, pool, rt)
                       if c[1].transfer_source and c[1].id != pickup.id}
        sources = {s for s in sources if not any((d.order_item_id, s) in network.exclusions for d in demands)}
        transfers = _sources_for(network, rule, pickup, demands, missing, sources, rt)
        if transfers is not None:
            rt["result"] = said(N_("transfers into the pickup location from %(sources)s"),
                                sources=[network.sites[x.source_id].code for x in transfers])
            return "click_and_collect", [PlannedPackage(pickup.id, "waiting_for_transfer", lines, transfers)]
        rt["result"] = said(N_("the rule's sources do not hold the missing units"))
    return None


def _resource(network: Network, scenario: ScenarioView, order: OrderView, demands: list[Demand],
              into: OpenPackage, trace: dict) -> tuple[str, list[PlannedPackage]] | None:
    """Bring units an open package lost (a transfer that will not come, items reported missing)
    back into that same package: from its own location's stock when it has them now (and is not
    excluded for the item), else by transfers into it from each rule's sources, rule by rule
    (click & collect: the same sources `_click_and_collect` would use)."""
    pack = network.sites.get(into.location_id)
    rt: dict = {"into": pack.code if pack else None, "sources": []}
    trace["resource"] = rt
    if pack is None:
        rt["result"] = said(N_("the package's location is not active"))
        return None
    lines = [(d, d.quantity) for d in demands]
    supply = supply_of(network, pack.id, demands)
    missing = [d.quantity - s for d, s in zip(demands, supply, strict=True)]
    if not any(missing):
        rt["result"] = said(N_("%(location)s has the units now"), location=pack.code)
        return "planned", [PlannedPackage(pack.id, "waiting", lines, into=into.id)]
    pool = stock_pool(network, demands)
    for rule in scenario.rules:
        if order.delivery_type == "click_and_collect" and not (rule.transferable and rule.transfer_sources):
            sources = {c[1].id for c in rank(network, rule, order, demands, pool, {})
                       if c[1].transfer_source and c[1].id != pack.id}
        elif rule.transferable:
            sources = _source_sites(network, rule, pack.id)
        else:
            continue
        sources = {s for s in sources if not any((d.order_item_id, s) in network.exclusions for d in demands)}
        tried: dict = {}
        transfers = _sources_for(network, rule, pack, demands, missing, sources, tried)
        if transfers is not None:
            rt["sources"] = tried["sources"]
            rt["result"] = said(N_("rule %(position)s '%(name)s' brings the missing units to %(location)s from "
                                   "%(sources)s"), position=rule.position, name=rule.name, location=pack.code,
                                sources=[network.sites[x.source_id].code for x in transfers])
            return "transfer", [PlannedPackage(pack.id, "waiting_for_transfer", lines, transfers, into=into.id)]
    rt["result"] = said(N_("no rule can bring the missing units to %(location)s"), location=pack.code)
    return None


def plan(order: OrderView, scenarios: list[ScenarioView], network: Network,
         into: OpenPackage | None = None) -> Plan:
    """Plan `order.demands`; takes the planned units out of `network`.

    `into`: the order's open package that lost these units. They go back into it when its
    location or a rule's transfer sources can supply them; otherwise only a rule that allows
    splitting may put them in a new package, and else they are parked out of stock."""
    demands = [d for d in order.demands if d.quantity > 0]
    trace: dict = {
        "version": TRACE_VERSION,
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
    if into is not None:
        result = _resource(network, scenario, order, demands, into, trace)
    if result is not None or (into is not None and order.delivery_type == "click_and_collect"):
        pass  # re-sourced, or a click & collect order's units can only go to its pickup package
    elif order.delivery_type == "click_and_collect":
        result = _click_and_collect(network, scenario, order, demands, pool, trace)
    else:
        for rule in scenario.rules:
            rt: dict = {"position": rule.position, "name": rule.name}
            trace["rules"].append(rt)
            if into is not None and not rule.allow_split:
                rt["result"] = said(N_("the order already has a package and this rule does not split orders"))
                continue
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
            if p.into is None:
                network.open_packages[p.location_id] = network.open_packages.get(p.location_id, 0) + 1
    trace["decision"] = {"outcome": outcome, "packages": [_package_trace(network, p) for p in packages]}
    return Plan(outcome, scenario, packages, trace)


def _package_trace(network: Network, p: PlannedPackage) -> dict:
    return {"location": network.sites[p.location_id].code if p.location_id in network.sites else None,
            "state": p.state, "items": {d.sku: q for d, q in p.lines},
            "transfers": [{"source": network.sites[t.source_id].code, "items": {d.sku: q for d, q in t.lines}}
                          for t in p.transfers]}
