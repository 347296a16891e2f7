"""The in-memory shapes the planner works on: no database access happens through these."""

from __future__ import annotations

from dataclasses import dataclass, field

INF = float("inf")


@dataclass(slots=True)
class Site:
    """A stock location as the planner sees it."""

    id: int
    code: str
    type: str
    city_key: str
    latitude: float | None
    longitude: float | None
    priority: int
    max_quota: int | None
    packaging: bool
    transfer_source: bool
    pickup: bool
    active: bool


@dataclass(slots=True)
class Demand:
    """Units of one order item still to be planned."""

    order_item_id: int
    product_id: int
    sku: str
    quantity: int


@dataclass
class OrderView:
    id: int | None
    number: str
    channel: str
    delivery_type: str
    payment_type: str | None
    cargo_company: str | None
    pickup_location_id: int | None
    city: str | None
    district: str | None
    coords: tuple[float, float] | None
    coords_source: str
    demands: list[Demand]


@dataclass
class RuleView:
    position: int
    name: str
    locations: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    location_type: str | None = None
    same_city: bool = False
    use_quota: bool = False
    sort: list[tuple[str, str]] = field(default_factory=list)
    allow_split: bool = False
    max_packages: int = 1
    transferable: bool = False
    transfer_sources: list[str] = field(default_factory=list)


@dataclass
class ScenarioView:
    id: int | None
    name: str
    priority: int
    conditions: dict
    default_location_id: int
    rules: list[RuleView]


@dataclass
class Network:
    """Locations, available stock, open packages and exclusions — mutated as plans take stock,
    so one snapshot can serve a whole batch of orders."""

    sites: dict[int, Site]
    available: dict[int, dict[int, int]]  # product_id -> {location_id: available units}
    open_packages: dict[int, int]
    exclusions: set[tuple[int, int]]  # (order_item_id, location_id)

    def __post_init__(self) -> None:
        self.by_code = {s.code: s.id for s in self.sites.values()}
        self._static_cache: dict[tuple, list[int]] = {}

    def avail(self, location_id: int, product_id: int) -> int:
        return self.available.get(product_id, {}).get(location_id, 0)

    def take(self, location_id: int, product_id: int, quantity: int) -> None:
        per_loc = self.available.setdefault(product_id, {})
        per_loc[location_id] = per_loc.get(location_id, 0) - quantity

    def load(self, site: Site) -> float:
        if not site.max_quota:
            return 0.0 if site.max_quota is None else INF
        return self.open_packages.get(site.id, 0) / site.max_quota


@dataclass(frozen=True)
class OpenPackage:
    """An open package of the order (its id and location) that units may be re-sourced into."""

    id: int
    location_id: int


@dataclass
class PlannedTransfer:
    source_id: int
    lines: list[tuple[Demand, int]]


@dataclass
class PlannedPackage:
    location_id: int
    state: str  # waiting | waiting_for_transfer | out_of_stock
    lines: list[tuple[Demand, int]]  # units packed here (for waiting_for_transfer: all units)
    transfers: list[PlannedTransfer] = field(default_factory=list)
    into: int | None = None  # an existing package's id: the units join it instead of a new package

    @property
    def reserve_here(self) -> list[tuple[Demand, int]]:
        """Units reserved at the packing location itself (the rest arrives by transfer)."""
        incoming: dict[int, int] = {}
        for t in self.transfers:
            for d, q in t.lines:
                incoming[d.order_item_id] = incoming.get(d.order_item_id, 0) + q
        out = []
        for d, q in self.lines:
            here = q - incoming.get(d.order_item_id, 0)
            if here > 0:
                out.append((d, here))
        return out


@dataclass
class Plan:
    outcome: str  # planned | split | transfer | click_and_collect | out_of_stock | no_scenario | nothing_to_plan
    scenario: ScenarioView | None
    packages: list[PlannedPackage]
    trace: dict
