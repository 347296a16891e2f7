"""Read-only counts for the store home and the supervisor board."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import and_, func, select

from app.extensions import db
from app.models.base import utcnow
from app.models.locations import StockLocation
from app.models.packages import OPEN_PACKAGE_STATES, PACKAGE_STATES, TERMINAL_PACKAGE_STATES, Package
from app.models.transfers import TRANSFER_STATES, Transfer
from app.services.transitions import ACTIVE_TRANSFER_STATES, OUT_WITH_CARRIER

# The board separates work someone at the location still has to do from what is done "so far"
# (with the carrier, or finished): counts that only grow would otherwise drown the open work.
WORK_STATES = tuple(s for s in PACKAGE_STATES if s not in TERMINAL_PACKAGE_STATES and s not in OUT_WITH_CARRIER)
SO_FAR_STATES = (*OUT_WITH_CARRIER, *TERMINAL_PACKAGE_STATES)
TRANSFER_SO_FAR_STATES = tuple(s for s in TRANSFER_STATES if s not in ACTIVE_TRANSFER_STATES)


@dataclass
class LocationSummary:
    location: StockLocation
    package_counts: dict[str, int] = field(default_factory=dict)
    incoming_transfers: dict[str, int] = field(default_factory=dict)
    outgoing_transfers: dict[str, int] = field(default_factory=dict)
    overdue: int = 0

    @property
    def open_packages(self) -> int:
        return sum(self.package_counts.get(s, 0) for s in OPEN_PACKAGE_STATES)

    @property
    def work(self) -> dict[str, int]:
        """Packages per state that still need someone here (non-zero only, in the order of the work)."""
        return {s: self.package_counts[s] for s in WORK_STATES if self.package_counts.get(s)}

    @property
    def so_far(self) -> dict[str, int]:
        """Packages with the carrier or finished: lifetime totals, not work."""
        return {s: self.package_counts[s] for s in SO_FAR_STATES if self.package_counts.get(s)}

    @property
    def transfer_work(self) -> list[tuple[str, str, int]]:
        """("out"|"in", state, count) for transfers still to send or to arrive."""
        return [(side, s, counts[s]) for side, counts in (("out", self.outgoing_transfers), ("in", self.incoming_transfers))
                for s in ACTIVE_TRANSFER_STATES if counts.get(s)]

    @property
    def transfers_so_far(self) -> dict[str, int]:
        """Transfers received, out of stock or cancelled, both directions together."""
        totals = {s: self.outgoing_transfers.get(s, 0) + self.incoming_transfers.get(s, 0)
                  for s in TRANSFER_SO_FAR_STATES}
        return {s: n for s, n in totals.items() if n}


def location_summary(location: StockLocation) -> LocationSummary:
    return location_summaries([location])[0]


def location_summaries(locations: list[StockLocation]) -> list[LocationSummary]:
    """Counts per state for many locations: three grouped queries, plus one per distinct packing target."""
    ids = [loc.id for loc in locations]
    summaries = {loc.id: LocationSummary(loc, dict.fromkeys(PACKAGE_STATES, 0)) for loc in locations}
    if not ids:
        return []
    rows = db.session.execute(
        select(Package.location_id, Package.state, func.count())
        .where(Package.location_id.in_(ids))
        .group_by(Package.location_id, Package.state)
    )
    for location_id, state, count in rows:
        summaries[location_id].package_counts[state] = count
    for column, attr in ((Transfer.destination_id, "incoming_transfers"), (Transfer.source_id, "outgoing_transfers")):
        rows = db.session.execute(
            select(column, Transfer.state, func.count()).where(column.in_(ids)).group_by(column, Transfer.state)
        )
        for location_id, state, count in rows:
            getattr(summaries[location_id], attr)[state] = count
    # Overdue open packages: one grouped query per distinct packing target (most brands have one
    # or two), not one per location — the board lists every location.
    now = utcnow()
    by_target: dict[int, list[int]] = {}
    for loc in locations:
        if loc.target_packaging_minutes:
            by_target.setdefault(loc.target_packaging_minutes, []).append(loc.id)
    for minutes, target_ids in by_target.items():
        rows = db.session.execute(
            select(Package.location_id, func.count())
            .where(
                and_(
                    Package.location_id.in_(target_ids),
                    Package.state.in_(OPEN_PACKAGE_STATES),
                    Package.created_at < now - timedelta(minutes=minutes),
                )
            )
            .group_by(Package.location_id)
        )
        for location_id, count in rows:
            summaries[location_id].overdue = count
    return [summaries[i] for i in ids]


__all__ = ["TRANSFER_STATES", "LocationSummary", "location_summaries", "location_summary"]
