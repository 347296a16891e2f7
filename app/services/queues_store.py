"""Read-only queries behind the store app: the package queue, transfer lists and object lookups.

Nothing here writes. Every query is scoped to one location, so a view that loaded the location
with its own access check can never list or open another store's work.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import Order, Package, PackageItem, ProductBarcode, Transfer
from app.models.base import utcnow
from app.models.packages import OPEN_PACKAGE_STATES
from app.services import text_search
from app.services.pagination import Page, PageArgs, paginate
from app.services.transitions import ACTIVE_TRANSFER_STATES, OPEN_TRANSFER_STATES, OUT_WITH_CARRIER

PAGE_SIZE = 25
FIRST_PAGE = PageArgs(size=PAGE_SIZE)

# Queue tabs, in the order staff work through them: (key, label, states).
# The label is translated when the template shows it (lazy).
PACKAGE_TABS: tuple[tuple[str, LazyString, tuple[str, ...]], ...] = (
    ("waiting", _l("To prepare"), ("waiting",)),
    ("preparing", _l("Preparing"), ("preparing",)),
    ("waiting_for_transfer", _l("Awaiting transfer"), ("waiting_for_transfer",)),
    ("packed", _l("Packed"), ("waiting_cargo_label", "packed")),
    ("ready_for_pickup", _l("Ready for pickup"), ("ready_for_pickup",)),
    ("blocked", _l("Blocked"), ("blocked",)),
    ("out_of_stock", _l("Out of stock"), ("out_of_stock",)),
    ("shipped", _l("Shipped"), OUT_WITH_CARRIER),
)
TAB_STATES = {key: states for key, _, states in PACKAGE_TABS}
DEFAULT_TAB = "waiting"
# A "new" package is one staff must start on.
NEW_WORK_STATES = ("waiting", "waiting_for_transfer")

TRANSFER_DIRECTIONS = {
    # Expected: coming to us. Dispatch: we send it. Sent: we sent it and it is on the road.
    "expected": ACTIVE_TRANSFER_STATES,
    "dispatch": OPEN_TRANSFER_STATES,
    "sent": ("in_transit",),
}


@dataclass
class Queue:
    tab: str
    search: str
    packages: Page[Package]
    counts: dict[str, int] = field(default_factory=dict)
    newest_id: int = 0
    overdue_ids: set[int] = field(default_factory=set)


def _package_loads():
    return (
        selectinload(Package.order).selectinload(Order.channel),
        selectinload(Package.items).selectinload(PackageItem.product),
    )


def tab_counts(location_id: int) -> dict[str, int]:
    """Packages per queue tab at the location (one grouped query)."""
    rows = db.session.execute(
        select(Package.state, func.count()).where(Package.location_id == location_id).group_by(Package.state)
    )
    by_state = dict(rows.all())
    return {key: sum(by_state.get(s, 0) for s in states) for key, _, states in PACKAGE_TABS}


def newest_package_id(location_id: int) -> int:
    return db.session.scalar(select(func.max(Package.id)).where(Package.location_id == location_id)) or 0


def count_new_since(location_id: int, since_id: int) -> int:
    """Packages that arrived at the location after `since_id` and still wait for someone."""
    return db.session.scalar(
        select(func.count()).where(
            Package.location_id == location_id, Package.id > since_id, Package.state.in_(NEW_WORK_STATES)
        )
    ) or 0


def _search_filter(search: str):
    term = search.strip()
    by_barcode = (
        select(PackageItem.package_id)
        .join(ProductBarcode, ProductBarcode.product_id == PackageItem.product_id)
        .where(ProductBarcode.barcode == term)
    )
    return or_(
        text_search.starts_with(Package.number, term),
        text_search.starts_with(Order.number, term),
        text_search.contains(Order.customer_name, term),
        Package.id.in_(by_barcode),
    )


def package_queue(location_id: int, tab: str = DEFAULT_TAB, search: str = "",
                  page: PageArgs = FIRST_PAGE, target_minutes: int | None = None) -> Queue:
    """One page of the location's queue, oldest first.

    With `search` (order number, package number, a product barcode, or part of the customer's
    name) every state is searched, because staff scanning a parcel rarely know its tab.
    """
    tab = tab if tab in TAB_STATES else DEFAULT_TAB
    counts = tab_counts(location_id)
    query = select(Package).where(Package.location_id == location_id)
    if search.strip():
        query = query.join(Order, Order.id == Package.order_id).where(_search_filter(search))
        packages = paginate(query.options(*_package_loads()).order_by(Package.created_at, Package.id), page)
    else:
        # A tab's size is already in the grouped count (read from the (location, state, created)
        # index alone): no second count. Offsets stay small: a tab holds the location's open work.
        query = query.where(Package.state.in_(TAB_STATES[tab])).options(*_package_loads())
        items = db.session.scalars(query.order_by(Package.created_at, Package.id)
                                   .limit(page.size).offset(page.offset)).unique().all()
        packages = Page(items=list(items), total=counts[tab], page=page.page, size=page.size)
    overdue: set[int] = set()
    if target_minutes:
        cutoff = utcnow() - timedelta(minutes=target_minutes)
        overdue = {p.id for p in packages.items if p.state in OPEN_PACKAGE_STATES and p.created_at < cutoff}
    return Queue(tab=tab, search=search.strip(), packages=packages,
                 counts=counts, newest_id=newest_package_id(location_id), overdue_ids=overdue)


def _transfer_query(location_id: int, direction: str) -> Select:
    column = Transfer.destination_id if direction == "expected" else Transfer.source_id
    return select(Transfer).where(column == location_id, Transfer.state.in_(TRANSFER_DIRECTIONS[direction]))


def _count(query: Select) -> int:
    return db.session.scalar(select(func.count()).select_from(query.subquery())) or 0


def transfer_counts(location_id: int) -> dict[str, int]:
    """Transfers per list, plus `to_receive`: incoming ones on the road (the receiver's work now)."""
    counts = {direction: _count(_transfer_query(location_id, direction)) for direction in TRANSFER_DIRECTIONS}
    counts["to_receive"] = _count(select(Transfer).where(Transfer.destination_id == location_id,
                                                         Transfer.state == "in_transit"))
    return counts


def busiest_direction(counts: dict[str, int]) -> str:
    """The list Transfers opens on: incoming when something is to be received, else outgoing when
    something is to be dispatched, else whichever list holds anything (incoming first)."""
    if counts["to_receive"]:
        return "expected"
    if counts["dispatch"]:
        return "dispatch"
    return next((d for d in ("expected", "sent") if counts[d]), "expected")


def transfer_list(location_id: int, direction: str, page: PageArgs = FIRST_PAGE) -> Page[Transfer]:
    """Open transfers coming to (`expected`) or leaving (`dispatch`) the location, oldest first."""
    direction = direction if direction in TRANSFER_DIRECTIONS else "expected"
    query = _transfer_query(location_id, direction).options(
        selectinload(Transfer.items),
        selectinload(Transfer.source),
        selectinload(Transfer.destination),
        selectinload(Transfer.package),
    )
    return paginate(query.order_by(Transfer.created_at, Transfer.id), page)


def transfer_at(location_id: int, transfer_id: int) -> Transfer | None:
    """The transfer if the location sends or receives it; None otherwise (the caller answers 404)."""
    return db.session.scalar(
        select(Transfer)
        .where(Transfer.id == transfer_id,
               or_(Transfer.source_id == location_id, Transfer.destination_id == location_id))
        .options(selectinload(Transfer.items), selectinload(Transfer.source), selectinload(Transfer.destination))
    )
