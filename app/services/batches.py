"""Batch picking (SPEC §16): many small packages picked in one walk, then packed one by one.

A batch only groups packages and gives each a slot (its tote on the cart). The packages keep
their own states and commands: every change goes through `packages.run_package_command`
(`prepare`, `pick`, `report_missing`, `refuse`, the packing commands), so stock, the transition
log, events and re-planning are exactly those of single-package work. That function is itself a
transaction edge, so the public functions here are sequences of package commands plus the
batch's own short write transactions (create it, move its state), each safe on its own: a
package prepared for a batch that then could not be created is an ordinary preparing package.
Private helpers only read or flush.

The batch's state follows its packages: `picking` until no package has units left to pick,
`packing` until every package still in the batch is packed, then `done`; staff may `cancel` it
(its packages then go on one by one). A package that leaves (refused, cancelled, its units
re-planned elsewhere) stays listed as removed.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from flask_babel import gettext as _
from pypdf import PdfReader, PdfWriter
from pypdf.errors import PdfReadError
from sqlalchemy import func, select

from app.extensions import db
from app.models import Package, PickBatch, PickBatchPackage, ProductBarcode
from app.models.base import utcnow
from app.models.batches import ACTIVE_BATCH_STATES
from app.services import batch_boards, shipments
from app.services.actors import Actor
from app.services.batch_boards import Board, Slot
from app.services.db import begin_write, committed
from app.services.errors import Conflict, NotFound, ServiceError, ValidationFailed
from app.services.packages import run_package_command
from app.services.transitions import NOT_HOLDING_ITEM_STATES, allowed_package_commands

MAX_PACKAGES = 30  # totes on one cart
NEXT_OLDEST = 10
PACKING_COMMANDS = ("complete_packing", "complete_packing_channel", "complete_packing_without_shipment")
# Package commands staff run from the batch page; everything rarer stays on the package page.
BATCH_COMMANDS = (*PACKING_COMMANDS, "refuse")
MISSING_REASONS = ("not_found", "wrong_product", "defective")
RECENT_FINISHED = 10


@dataclass(frozen=True)
class ScanResult:
    slot: int
    package_number: str
    product_name: str
    sku: str
    in_tote: int  # units of this product now in the tote
    for_tote: int  # units of this product the tote needs


@dataclass(frozen=True)
class MissingResult:
    reported: list[tuple[int, str, int]]  # (slot, package number, units)
    problems: list[str]


def board(location_id: int, batch_id: int) -> Board:
    """The batch with its totes and pick list. A batch whose packages were finished elsewhere
    (packed or refused from their own pages) is recorded as packing or done on the way."""
    batch = batch_boards.load(location_id, batch_id)
    current = batch_boards.board_of(batch)
    if current.phase != batch.state:
        _settle(location_id, batch_id)
        current = batch_boards.board_of(batch_boards.load(location_id, batch_id))
    return current


@dataclass(frozen=True)
class Listing:
    open: list[Board]
    finished: list[Board]


def batch_list(location_id: int) -> Listing:
    """Open batches (oldest first) and the most recently finished ones."""
    def boards(query) -> list[Board]:
        return [board(location_id, batch_id) for batch_id in db.session.scalars(query)]

    open_ids = (select(PickBatch.id).where(PickBatch.location_id == location_id,
                                           PickBatch.state.in_(ACTIVE_BATCH_STATES)).order_by(PickBatch.id))
    open_boards = boards(open_ids)
    finished_ids = (select(PickBatch.id).where(PickBatch.location_id == location_id,
                                               PickBatch.state.not_in(ACTIVE_BATCH_STATES))
                    .order_by(PickBatch.id.desc()).limit(RECENT_FINISHED))
    still_open = [b for b in open_boards if b.active]
    return Listing(still_open, boards(finished_ids))


# --- starting a batch -----------------------------------------------------------------------

@dataclass(frozen=True)
class Started:
    batch_id: int
    number: int
    skipped: list[str]  # package numbers another person or command took first


def _create(location_id: int, package_ids: list[int], actor_label: str) -> PickBatch:
    number = (db.session.scalar(select(func.max(PickBatch.number)).where(PickBatch.location_id == location_id))
              or 0) + 1
    batch = PickBatch(location_id=location_id, number=number, state="picking", created_by=actor_label,
                      created_at=utcnow())
    batch.packages = [PickBatchPackage(package_id=pid, slot=n) for n, pid in enumerate(package_ids, 1)]
    db.session.add(batch)
    db.session.flush()
    return batch


def _prepare_all(packages: Sequence[Package], actor: Actor) -> tuple[list[int], list[str]]:
    """Run `prepare` on each package (oldest first); those someone else started meanwhile are skipped."""
    prepared, skipped = [], []
    for package_id, number in [(p.id, p.number) for p in packages]:
        try:
            run_package_command(package_id, "prepare", None, actor)
            prepared.append(package_id)
        except ServiceError:
            skipped.append(number)
    return prepared, skipped


def _record(location_id: int, prepared: list[int], skipped: list[str], actor: Actor) -> Started:
    if not prepared:
        raise Conflict(_('Someone else started these packages meanwhile: choose again from To prepare.'),
                       code="nothing_to_batch")
    for attempt in range(3):
        try:
            batch = committed(_create, location_id, prepared, actor.label)
            return Started(batch.id, batch.number, skipped)
        except Conflict:  # another batch took the same number at the same moment
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _waiting(location_id: int, package_ids: Sequence[int] | None = None, exclude: Sequence[int] = (),
             limit: int | None = None) -> list[Package]:
    query = select(Package).where(Package.location_id == location_id, Package.state == "waiting")
    if package_ids is not None:
        query = query.where(Package.id.in_(list(package_ids)))
    if exclude:
        query = query.where(Package.id.not_in(list(exclude)))
    return list(db.session.scalars(query.order_by(Package.created_at, Package.id).limit(limit)))


def start_batch(location_id: int, package_ids: Sequence[int], actor: Actor) -> Started:
    """Start picking the chosen packages of the location together, oldest in tote 1.

    Each is started with `prepare`; packages no longer waiting (a colleague started one, it
    was refused) are skipped and named. Raises ValidationFailed for an empty or too large
    choice and Conflict when none of them could be started."""
    ids = list(dict.fromkeys(package_ids))
    if not ids:
        message = _('Tick the packages to pick together, or use Next 10 oldest.')
        raise ValidationFailed(message, {"package_id": message})
    if len(ids) > MAX_PACKAGES:
        message = _('A batch holds up to %(max_packages)s packages (one tote each): tick fewer.', max_packages=MAX_PACKAGES)
        raise ValidationFailed(message, {"package_id": message})
    packages = _waiting(location_id, ids)
    listed = {p.id for p in packages}
    skipped_before = [number for number in db.session.scalars(
        select(Package.number).where(Package.id.in_([i for i in ids if i not in listed]),
                                     Package.location_id == location_id).order_by(Package.id))]
    prepared, skipped = _prepare_all(packages, actor)
    return _record(location_id, prepared, skipped_before + skipped, actor)


def start_next_oldest(location_id: int, actor: Actor, count: int = NEXT_OLDEST) -> Started:
    """Start a batch of the `count` oldest packages waiting at the location. A package a
    colleague starts at the same moment is replaced by the next oldest."""
    prepared: list[int] = []
    tried: list[int] = []
    while len(prepared) < count:
        packages = _waiting(location_id, exclude=tried, limit=count - len(prepared))
        if not packages:
            break
        tried += [p.id for p in packages]
        done, _unused = _prepare_all(packages, actor)
        prepared += done
    if not prepared and not tried:
        raise ValidationFailed(_('Nothing is waiting in To prepare right now.'), {})
    return _record(location_id, prepared, [], actor)


# --- the walk: scans and missing units ---------------------------------------------------------

def _active(location_id: int, batch_id: int) -> Board:
    current = board(location_id, batch_id)
    if not current.active:
        raise Conflict(_('Batch %(number)s is %(state)s: nothing more to do in it.', number=current.batch.number, state=current.batch.state),
                       code="batch_closed", details={"state": current.batch.state})
    return current


def _product_of(barcode: str) -> int | None:
    return db.session.scalar(select(ProductBarcode.product_id).where(ProductBarcode.barcode == barcode))


def _needing(current: Board, product_id: int) -> Slot | None:
    """The first tote (slot order) whose package still needs a unit of the product."""
    for s in current.slots:
        if s.status == "to_pick" and any(
                i.product_id == product_id and i.state not in NOT_HOLDING_ITEM_STATES
                and i.picked_quantity < i.quantity for i in s.package.items):
            return s
    return None


def scan(location_id: int, batch_id: int, barcode: str, actor: Actor) -> ScanResult:
    """Count one scanned unit for the first tote that still needs it (the package's `pick`).

    ValidationFailed when no package of the batch still needs the product; Conflict when the
    batch is closed. When a colleague took the last unit a tote needed meanwhile, the next tote
    that needs it gets the unit."""
    product_id = _product_of(barcode)
    last_error: ServiceError | None = None
    for _unused in range(5):
        current = _active(location_id, batch_id)
        target = _needing(current, product_id) if product_id else None
        if target is None:
            line = next((line for line in current.lines if line.product.id == product_id), None)
            if line is not None:
                message = _('Every unit of %(sku)s in this batch is picked already. Put this one back.', sku=line.product.sku)
            else:
                message = _('This product is not in this batch. Put it back, or check the barcode.')
            raise ValidationFailed(message, {"barcode": message})
        try:
            package = run_package_command(target.package.id, "pick", {"barcode": barcode}, actor)
        except (ValidationFailed, Conflict) as exc:  # someone changed that package meanwhile: look again
            last_error = exc
            db.session.expire_all()
            continue
        items = [i for i in package.items if i.product_id == product_id and i.state not in NOT_HOLDING_ITEM_STATES]
        result = ScanResult(target.slot, package.number, items[0].product.name, items[0].product.sku,
                            sum(i.picked_quantity for i in items), sum(i.quantity for i in items))
        _settle_if_moved(location_id, batch_id)
        return result
    assert last_error is not None
    raise last_error


def report_missing(location_id: int, batch_id: int, product_id: int, quantity: int, reason: str,
                   actor: Actor) -> MissingResult:
    """Units of a product that cannot be found for the batch: each affected package reports them
    with its own `report_missing` (they leave it and are re-planned elsewhere, stock corrected),
    taken from the last totes first so the oldest packages stay whole."""
    current = _active(location_id, batch_id)
    line = next((line for line in current.lines if line.product.id == product_id), None)
    if line is None or line.remaining == 0:
        raise ValidationFailed(_('Every unit of this product is picked already: nothing is missing.'), {})
    if reason not in MISSING_REASONS:
        raise ValidationFailed(_('Choose why the units are missing.'), {"reason": _('Choose a reason.')})
    if not 1 <= quantity <= line.remaining:
        message = _('Enter between 1 and %(remaining)s: that many units of %(sku)s are still to pick.', remaining=line.remaining, sku=line.product.sku)
        raise ValidationFailed(message, {"quantity": message})
    left, plan = quantity, []
    for s in reversed(current.slots):
        if not left or s.status != "to_pick":
            continue
        lines = []
        for item in s.package.items:
            short = item.quantity - item.picked_quantity
            if item.product_id == product_id and item.state not in NOT_HOLDING_ITEM_STATES and short > 0 and left:
                take = min(left, short)
                lines.append({"item_id": item.id, "quantity": take, "reason": reason})
                left -= take
        if lines:
            plan.append((s.slot, s.package.id, s.package.number, lines))
    reported, problems = [], []
    for slot, package_id, number, lines in plan:
        try:
            run_package_command(package_id, "report_missing", {"items": lines}, actor)
            reported.append((slot, number, sum(line["quantity"] for line in lines)))
        except ServiceError as exc:
            problems.append(f"{number}: {exc.message}")
    _settle_if_moved(location_id, batch_id)
    return MissingResult(reported, problems)


# --- packing, refusing, cancelling ---------------------------------------------------------------

def run_command(location_id: int, batch_id: int, package_id: int, command: str, params: dict | None,
                actor: Actor, expected_version: int | None = None) -> Package:
    """Run a packing command or `refuse` on a package of the batch, exactly as on its own page."""
    current = board(location_id, batch_id)
    if command not in BATCH_COMMANDS or current.slot_of(package_id) is None:
        raise NotFound(_("This package is not in this batch, or that is done on the package's own page."))
    package = run_package_command(package_id, command, params, actor, expected_version=expected_version)
    _settle_if_moved(location_id, batch_id)
    return package


def cancel(location_id: int, batch_id: int, actor: Actor) -> PickBatch:
    """Give the batch up: its packages stay as they are and are worked on one by one."""
    def work() -> PickBatch:
        batch = _locked(location_id, batch_id)
        if batch.state not in ACTIVE_BATCH_STATES:
            raise Conflict(_('Batch %(number)s is %(state)s already.', number=batch.number, state=batch.state), code="stale")
        batch.state, batch.finished_at = "cancelled", utcnow()
        db.session.flush()
        return batch

    return committed(work)


def packing_commands(slot: Slot, manager: bool) -> list[str]:
    """The packing commands allowed for the package in `slot` now (table order)."""
    return [c for c in allowed_package_commands(slot.package, manager=manager) if c in PACKING_COMMANDS]


def _locked(location_id: int, batch_id: int) -> PickBatch:
    batch = db.session.scalar(select(PickBatch).where(PickBatch.id == batch_id, PickBatch.location_id == location_id)
                              .with_for_update().execution_options(populate_existing=True))
    if batch is None:
        raise NotFound(_('This batch does not exist at this store.'))
    return batch


def _settle(location_id: int, batch_id: int) -> None:
    """Record the state the batch's packages put it in (its own short write transaction)."""
    begin_write()
    try:
        _locked(location_id, batch_id)
        batch = batch_boards.load(location_id, batch_id)
        now = batch_boards.board_of(batch).phase
        if now != batch.state:
            batch.state = now
            if now == "done":
                batch.finished_at = utcnow()
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


def _settle_if_moved(location_id: int, batch_id: int) -> None:
    batch = batch_boards.load(location_id, batch_id)
    if batch_boards.board_of(batch).phase != batch.state:
        _settle(location_id, batch_id)


# --- labels ---------------------------------------------------------------------------------------

def labels(location_id: int, batch_id: int, fmt: str, actor: Actor) -> shipments.Document:
    """Every label of the batch that is ready, in tote order, as one PDF or one ZPL stream."""
    current = board(location_id, batch_id)
    documents = []
    for s in current.slots:
        if s.status == "packed" and s.label == "ready":
            try:
                documents.append(shipments.label_document(s.package.id, fmt, actor))
            except NotFound:
                continue  # its label is printed from the sales channel or is being made again
    if not documents:
        raise NotFound(_('No label of batch %(number)s is ready yet. Labels arrive a moment after packing; this page shows them as they do.', number=current.batch.number), code="no_label")
    name = f"labels-batch-{current.batch.number}"
    if fmt == "zpl":
        return shipments.Document(b"\n".join(d.content.rstrip(b"\n") for d in documents) + b"\n",
                                  "text/plain; charset=utf-8", f"{name}.zpl")
    writer = PdfWriter()
    for document in documents:
        try:
            writer.append(PdfReader(io.BytesIO(document.content)))
        except PdfReadError:
            continue  # a carrier sent something that is not a PDF: print it from its package page
    out = io.BytesIO()
    writer.write(out)
    return shipments.Document(out.getvalue(), "application/pdf", f"{name}.pdf")
