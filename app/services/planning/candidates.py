"""Candidate locations for one rule: the rule's filters, what each location can supply, and
the multi-key sort (SPEC §6.2). Pure functions on a `Network` snapshot."""

from __future__ import annotations

import math
from math import asin, sin, sqrt
from operator import itemgetter

from app.services.planning.geo import EARTH_RADIUS_KM, normalise
from app.services.planning.model import INF, Demand, Network, OrderView, RuleView, Site
from app.services.said import N_, said

# Why a location is dropped: a catalogue message id (services/said.py), or (id, ((name, value),
# ...)) when it has values — hashable, as drops are grouped by reason; `_said` stores it.
Reason = str | tuple


# A location not of the rule's type, by type (whole sentences: the type's word changes with it).
NOT_OF_TYPE = {"store": N_("not a store"), "warehouse": N_("not a warehouse")}


def _said(reason: Reason) -> dict:
    if isinstance(reason, tuple):
        return said(reason[0], **dict(reason[1]))
    return said(reason)


def static_sites(network: Network, rule: RuleView) -> dict[int, Reason | None]:
    """location id -> None when the rule's fixed filters keep it, else the reason it is dropped."""
    key = ("static", rule.position, tuple(rule.locations), tuple(rule.exclude), rule.location_type)
    cached = network._static_cache.get(key)
    if cached is not None:
        return cached  # type: ignore[return-value]
    wanted, unwanted = set(rule.locations), set(rule.exclude)
    out: dict[int, Reason | None] = {}
    for site in network.sites.values():
        if not site.active or not site.packaging:
            out[site.id] = N_("not an active packaging center")
        elif wanted and site.code not in wanted:
            out[site.id] = N_("not in the rule's location list")
        elif site.code in unwanted:
            out[site.id] = N_("excluded by the rule")
        elif rule.location_type and site.type != rule.location_type:
            out[site.id] = NOT_OF_TYPE.get(rule.location_type) or (N_("not a %(type)s"),
                                                                   (("type", rule.location_type),))
        else:
            out[site.id] = None
    network._static_cache[key] = out  # type: ignore[assignment]
    return out


def _allowed_codes(network: Network, rule: RuleView, static: dict[int, Reason | None]) -> list[tuple[str, int]]:
    """(code, id) of the locations the rule's fixed filters keep, by code; cached like `static_sites`."""
    key = ("allowed", rule.position, tuple(rule.locations), tuple(rule.exclude), rule.location_type)
    cached = network._static_cache.get(key)
    if cached is None:
        cached = sorted((network.sites[sid].code, sid) for sid, reason in static.items() if reason is None)
        network._static_cache[key] = cached  # type: ignore[assignment]
    return cached  # type: ignore[return-value]


# The stock pool holds only locations with some of the order: the rest never become candidates.
# The trace says so, naming the first few by code and counting the others.
NO_STOCK = "has none of these items"  # trace.render words it per count
NO_STOCK_SHOWN = 5


def _no_stock_drop(network: Network, rule: RuleView, static: dict[int, Reason | None], pool: dict,
                   kept_from_pool: int) -> dict | None:
    allowed = _allowed_codes(network, rule, static)
    absent = len(allowed) - kept_from_pool
    if absent <= 0:
        return None
    codes = []
    for code, site_id in allowed:
        if site_id not in pool:
            codes.append(code)
            if len(codes) == NO_STOCK_SHOWN:
                break
    drop: dict = {"reason": NO_STOCK, "locations": codes}
    if absent > len(codes):
        drop["more"] = absent - len(codes)
    return drop


def dynamic_drop(network: Network, rule: RuleView, site: Site, order: OrderView,
                  demands: list[Demand], city_key: str) -> Reason | None:
    if rule.same_city and site.city_key != city_key:
        if order.city:
            return N_("not in %(city)s"), (("city", order.city),)
        return N_("not in the customer city")
    if network.exclusions and all((d.order_item_id, site.id) in network.exclusions for d in demands):
        return N_("refused or missed these items before")
    if rule.use_quota and site.max_quota is not None and network.open_packages.get(site.id, 0) >= site.max_quota:
        return N_("full: %(open)s open packages, quota %(quota)s"), (("open", network.open_packages.get(site.id, 0)),
                                                                   ("quota", site.max_quota))
    return None


_NONE: dict[int, int] = {}
_TWO_R = 2 * EARTH_RADIUS_KM
_UNKNOWN = "unknown location"


def supply_of(network: Network, site_id: int, demands: list[Demand]) -> list[int]:
    """Units of each demand this location can give (0 where it is excluded for that item)."""
    available, excluded = network.available, network.exclusions
    if len(demands) == 1 and not excluded:
        d = demands[0]
        units = available.get(d.product_id, _NONE).get(site_id, 0)
        return [d.quantity if units >= d.quantity else max(0, units)]
    out, used = [], {}
    for d in demands:
        if excluded and (d.order_item_id, site_id) in excluded:
            out.append(0)
            continue
        # Two order items of one SKU share the location's units.
        taken = used.get(d.product_id, 0)
        units = max(0, min(d.quantity, available.get(d.product_id, _NONE).get(site_id, 0) - taken))
        used[d.product_id] = taken + units
        out.append(units)
    return out



def prepare(origin: tuple[float, float] | None) -> tuple | None:
    """The origin with its trigonometry computed once per ranking."""
    if origin is None:
        return None
    lat = math.radians(origin[0])
    return (lat, math.radians(origin[1]), math.cos(lat))


def distance(site: Site, origin: tuple | None) -> float:
    """Great-circle km (haversine) from a `_prepare`d origin."""
    if origin is None or site.latitude is None or site.longitude is None:
        return INF
    rad = _site_radians.get(site.id)
    if rad is None or rad[0] != site.latitude or rad[1] != site.longitude:
        lat2 = math.radians(site.latitude)
        rad = _site_radians[site.id] = (site.latitude, site.longitude, lat2, math.radians(site.longitude),
                                        math.cos(lat2))
    lat1, lon1, cos1 = origin
    a = math.sin((rad[2] - lat1) / 2) ** 2 + cos1 * rad[4] * math.sin((rad[3] - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


_site_radians: dict[int, tuple[float, float, float, float, float]] = {}


def key_value(by: str, network: Network, site: Site, supply: list[int], origin) -> float:
    if by == "distance":
        return distance(site, origin)
    if by == "priority":
        return site.priority
    if by == "stock":
        return sum(supply)
    return network.load(site)


def effective_sort(rule: RuleView) -> list[tuple[str, str]]:
    return rule.sort or [("priority", "asc")]


def sort_order(values, sort: list[tuple[str, str]], site_id: int) -> tuple:
    """The sort tuple of one candidate: each key (negated when descending), then the site id."""
    if len(values) == 1:  # the common case, without the generator
        return (-values[0] if sort[0][1] == "desc" else values[0], site_id)
    return tuple(-v if o == "desc" else v for v, (_, o) in zip(values, sort, strict=True)) + (site_id,)


# A ranked candidate is a plain tuple (cheap to build ~40 times per rule): (order, site, supply, values)
# with `order` the sort tuple (`sort_order`), `supply` the units per demand and `values` the sort
# key values in `effective_sort(rule)` order.
ORDER, SITE, SUPPLY, VALUES = 0, 1, 2, 3
Row = tuple  # (tuple, Site, list[int], tuple[float, ...])


def _distances(network: Network, origin: tuple | None) -> dict[int, float]:
    """Great-circle km from one origin to each site, computed at most once per site: the rules
    of one order share them. Kept on the network (one per chunk or request, never shared
    between threads), keyed by the prepared origin's identity (see `_prepared`)."""
    cached = network.__dict__.get("_km")
    if cached is None or cached[0] is not origin:
        cached = network.__dict__["_km"] = (origin, {})
    return cached[1]


def rank(network: Network, rule: RuleView, order: OrderView, demands: list[Demand],
         pool: dict[int, list[int] | None], trace_rule: dict, origin=None) -> list[Row]:
    """The rule's candidates among `pool` (location -> its supply, or None to compute it), as
    sorted `(order, site, supply, values)` rows; drops are recorded in `trace_rule`."""
    static = static_sites(network, rule)
    sort = effective_sort(rule)
    city_key = normalise(order.city) if rule.same_city else ""
    raw_origin = order.coords if origin is None else origin
    origin = _prepared(network, raw_origin)
    dynamic = rule.same_city or rule.use_quota or bool(network.exclusions)
    dropped: dict[Reason, list[str]] = {}
    sites = network.sites
    only_distance = len(sort) == 1 and sort[0][0] == "distance"
    desc = sort[0][1] == "desc"
    km = _distances(network, origin)
    lat1, lon1, cos1 = origin if origin is not None else (0.0, 0.0, 0.0)
    scored = []
    dropped_here = 0  # pool locations the fixed filters keep but this order's filters drop
    if only_distance and not dynamic and origin is not None:
        # The batch's common case, as one tight loop: distance is the only key, no per-order filter.
        static_get, km_get, radians_get, append = static.get, km.get, _site_radians.get, scored.append
        for site_id, supply in pool.items():
            reason = static_get(site_id, _UNKNOWN)
            if reason is not None:
                if reason is not _UNKNOWN:
                    dropped.setdefault(reason, []).append(sites[site_id].code)
                continue
            site = sites[site_id]
            if supply is None:
                supply = supply_of(network, site_id, demands)
            d = km_get(site_id)
            if d is None:
                rad = radians_get(site_id)
                if rad is None or rad[0] != site.latitude or rad[1] != site.longitude:
                    d = distance(site, origin)  # also fills _site_radians
                else:  # distance(), inlined: this is the innermost loop of batch planning
                    a = sin((rad[2] - lat1) / 2) ** 2 + cos1 * rad[4] * sin((rad[3] - lon1) / 2) ** 2
                    d = _TWO_R * asin(min(1.0, sqrt(a)))
                km[site_id] = d
            append(((-d if desc else d, site_id), site, supply, (d,)))
    else:
        for site_id, supply in pool.items():
            reason = static.get(site_id, _UNKNOWN)
            if reason is None:
                if dynamic:
                    reason = dynamic_drop(network, rule, sites[site_id], order, demands, city_key)
                    dropped_here += reason is not None
            elif reason is _UNKNOWN:
                continue  # not a known location
            if reason:
                dropped.setdefault(reason, []).append(sites[site_id].code)
                continue
            site = sites[site_id]
            if supply is None:
                supply = supply_of(network, site_id, demands)
            if only_distance:
                d = km.get(site_id)
                if d is None:
                    d = km[site_id] = distance(site, origin)
                scored.append(((-d if desc else d, site_id), site, supply, (d,)))
            else:
                values = tuple([key_value(by, network, site, supply, origin) for by, _ in sort])
                scored.append((sort_order(values, sort, site_id), site, supply, values))
    scored.sort(key=_first_item)  # the sort tuples end with the site id: no two are equal
    trace_rule["dropped"] = [{"reason": _said(r), "locations": sorted(codes)} for r, codes in dropped.items()]
    # Pool locations the fixed filters kept: the candidates plus those dropped for this order only.
    kept = len(scored) + dropped_here
    no_stock = _no_stock_drop(network, rule, static, pool, kept)
    if no_stock is not None:
        trace_rule["dropped"].append(no_stock)
    return scored


_first_item = itemgetter(0)


def _prepared(network: Network, origin: tuple[float, float] | None) -> tuple | None:
    """`prepare`, memoised on the network for the last origin, so that the same tuple object
    comes back for every rule of one order (the distance cache is keyed by its identity)."""
    if origin is None:
        return None
    hit = network.__dict__.get("_origin")
    if hit is not None and hit[0] == origin:
        return hit[1]
    prepared = prepare(origin)
    network.__dict__["_origin"] = (origin, prepared)
    return prepared


def stock_pool(network: Network, demands: list[Demand]) -> dict[int, list[int]]:
    """Every location holding some of the order, with what it can supply of each demand —
    built per product from the stock index rather than per location."""
    n = len(demands)
    if network.exclusions or len({d.product_id for d in demands}) != n:
        locations: set[int] = set()
        for d in demands:
            locations.update(loc for loc, qty in network.available.get(d.product_id, _NONE).items() if qty > 0)
        return {loc: supply_of(network, loc, demands) for loc in locations}
    table: dict[int, list[int]] = {}
    for i, d in enumerate(demands):
        q = d.quantity
        for loc, units in network.available.get(d.product_id, _NONE).items():
            if units > 0:
                vec = table.get(loc)
                if vec is None:
                    vec = table[loc] = [0] * n
                vec[i] = q if units >= q else units
    return table
