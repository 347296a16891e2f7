"""Batch picking: one walk picks many packages, each unit scanned once into the right tote, and
every package change is the package's own command (prepare, pick, report_missing, refuse, packing)."""

from __future__ import annotations

import io

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from app.extensions import db
from app.models import Package, PickBatch, ScenarioRule, Shipment, TransitionLog
from app.services import batches, shipments
from app.services.errors import Conflict, NotFound, ValidationFailed
from app.services.packages import run_package_command
from tests import factories
from tests.services.builders import (
    get_product,
    live_packages,
    make_package,
    make_scenario,
    set_stock,
    staff,
    stock_of,
)

SHIRT, CAP, SOCKS = "8690000000017", "8690000000024", "8690000000048"


@pytest.fixture
def floor(app):
    """Store A with three waiting packages whose products overlap (oldest first):
    P1 = 2 T-shirts + 1 cap, P2 = 1 cap + 1 socks, P3 = 1 T-shirt. Store B can take re-planned units."""
    a = factories.location(code="A", priority=1)
    b = factories.location(code="B", priority=2)
    wh = factories.location(code="WH", priority=9)
    make_scenario(wh, allow_split=True, max_packages=2)
    factories.product("TSHIRT-M", SHIRT, name="Cotton T-shirt")
    factories.product("CAP-BLK", CAP, name="Baseball cap")
    factories.product("SOCKS-3", SOCKS, name="Socks")
    for sku, units in (("TSHIRT-M", 3), ("CAP-BLK", 2), ("SOCKS-3", 1)):
        set_stock(a, get_product(sku), units)  # exactly what the three packages hold
        set_stock(b, get_product(sku), 10)
    db.session.commit()
    p1 = make_package("waiting", location=a, items=[("TSHIRT-M", 2), ("CAP-BLK", 1)], spare=0)
    p2 = make_package("waiting", location=a, items=[("CAP-BLK", 1), ("SOCKS-3", 1)], spare=0)
    p3 = make_package("waiting", location=a, items=[("TSHIRT-M", 1)], spare=0)
    return a, b, [p1.id, p2.id, p3.id]


def started(floor) -> tuple:
    a, _, ids = floor
    result = batches.start_batch(a.id, list(reversed(ids)), staff(a))
    return a, result.batch_id


def state_of(package_id: int) -> str:
    db.session.expire_all()
    return db.session.get(Package, package_id).state


def test_starting_a_batch_prepares_each_package_with_its_own_command_oldest_in_tote_1(floor):
    a, _, ids = floor
    result = batches.start_batch(a.id, list(reversed(ids)), staff(a))
    assert (result.number, result.skipped) == (1, [])
    board = batches.board(a.id, result.batch_id)
    assert board.batch.state == "picking"
    assert board.batch.created_by == "user:ayse"
    assert [(s.slot, s.package.id, s.status) for s in board.slots] == [
        (1, ids[0], "to_pick"), (2, ids[1], "to_pick"), (3, ids[2], "to_pick")]
    logs = db.session.scalars(select(TransitionLog).where(TransitionLog.entity_type == "package",
                                                          TransitionLog.command == "prepare")).all()
    assert sorted((log.entity_id, log.from_state, log.to_state, log.actor) for log in logs) == [
        (pid, "waiting", "preparing", "user:ayse") for pid in sorted(ids)]


def test_packages_someone_else_started_meanwhile_are_skipped_and_named(floor):
    a, _, ids = floor
    run_package_command(ids[1], "prepare", None, staff(a, name="mehmet"))
    result = batches.start_batch(a.id, ids, staff(a))
    numbers = {pid: db.session.get(Package, pid).number for pid in ids}
    assert result.skipped == [numbers[ids[1]]]
    board = batches.board(a.id, result.batch_id)
    assert [(s.slot, s.package.id) for s in board.slots] == [(1, ids[0]), (2, ids[2])]
    with pytest.raises(Conflict, match="Someone else started these packages"):
        batches.start_batch(a.id, [ids[1]], staff(a))
    assert db.session.scalar(select(PickBatch.id).where(PickBatch.number == 2)) is None


def test_a_batch_needs_a_choice_of_at_most_30_packages(floor):
    a, _, _ = floor
    with pytest.raises(ValidationFailed, match="Tick the packages"):
        batches.start_batch(a.id, [], staff(a))
    with pytest.raises(ValidationFailed, match="up to 30 packages"):
        batches.start_batch(a.id, list(range(1, 32)), staff(a))


def test_next_oldest_starts_the_oldest_waiting_packages_and_numbers_batches_per_store(floor):
    a, _, ids = floor
    first = batches.start_next_oldest(a.id, staff(a), count=2)
    second = batches.start_next_oldest(a.id, staff(a), count=2)
    assert (first.number, second.number) == (1, 2)
    assert [s.package.id for s in batches.board(a.id, first.batch_id).slots] == ids[:2]
    assert [s.package.id for s in batches.board(a.id, second.batch_id).slots] == ids[2:]
    with pytest.raises(ValidationFailed, match="Nothing is waiting"):
        batches.start_next_oldest(a.id, staff(a))


def test_the_pick_list_has_one_line_per_product_with_the_units_each_tote_needs(floor):
    a, batch_id = started(floor)
    board = batches.board(a.id, batch_id)
    assert [(line.product.sku, line.required, line.picked, line.totes) for line in board.lines] == [
        ("CAP-BLK", 2, 0, [(1, 1), (2, 1)]),
        ("SOCKS-3", 1, 0, [(2, 1)]),
        ("TSHIRT-M", 3, 0, [(1, 2), (3, 1)]),
    ]
    assert (board.picked, board.required, board.can_scan) == (0, 6, True)


def test_each_scan_is_counted_once_for_the_first_tote_that_still_needs_it(floor):
    a, batch_id = started(floor)
    totes = [batches.scan(a.id, batch_id, code, staff(a)).slot
             for code in (SHIRT, CAP, SHIRT, CAP, SHIRT, SOCKS)]
    assert totes == [1, 1, 1, 2, 3, 2]
    board = batches.board(a.id, batch_id)
    assert [(s.slot, s.picked, s.required, s.status) for s in board.slots] == [
        (1, 3, 3, "picked"), (2, 2, 2, "picked"), (3, 1, 1, "picked")]
    assert board.batch.state == "packing"  # nothing left to pick
    picks = db.session.scalars(select(TransitionLog).where(TransitionLog.command == "pick")).all()
    assert len(picks) == 6  # each scan is the package's own pick, logged once


def test_a_scan_no_package_of_the_batch_needs_is_refused_and_changes_nothing(floor):
    a, batch_id = started(floor)
    batches.scan(a.id, batch_id, SOCKS, staff(a))
    with pytest.raises(ValidationFailed, match="Every unit of SOCKS-3 in this batch is picked already"):
        batches.scan(a.id, batch_id, SOCKS, staff(a))
    with pytest.raises(ValidationFailed, match="not in this batch"):
        batches.scan(a.id, batch_id, "0000000000000", staff(a))
    factories.product("SCARF", "8690000000099")
    db.session.commit()
    with pytest.raises(ValidationFailed, match="not in this batch"):
        batches.scan(a.id, batch_id, "8690000000099", staff(a))
    assert batches.board(a.id, batch_id).picked == 1


def test_missing_units_are_reported_from_the_last_tote_and_replanned_as_on_a_single_package(floor):
    a, b, ids = floor
    _, batch_id = started(floor)
    cap = get_product("CAP-BLK")
    result = batches.report_missing(a.id, batch_id, cap.id, 1, "not_found", staff(a))
    p2 = db.session.get(Package, ids[1])
    assert result.reported == [(2, p2.number, 1)] and result.problems == []
    # As report_missing on P2 alone: the cap leaves it, A's stock is written off, B sends it.
    assert live_packages(p2.order_id) == [("A", "preparing", [("SOCKS-3", 1)]), ("B", "waiting", [("CAP-BLK", 1)])]
    assert stock_of(a, "CAP-BLK") == (1, 1)  # 2 on hand, 1 written off; P1's cap still reserved
    board = batches.board(a.id, batch_id)
    cap_line = next(line for line in board.lines if line.product.sku == "CAP-BLK")
    assert (cap_line.required, cap_line.totes) == (1, [(1, 1)])
    log = db.session.scalars(select(TransitionLog).where(TransitionLog.command == "report_missing")).one()
    assert log.entity_id == ids[1]


def test_missing_units_beyond_what_is_still_to_pick_are_refused(floor):
    a, batch_id = started(floor)
    cap = get_product("CAP-BLK")
    batches.scan(a.id, batch_id, CAP, staff(a))
    with pytest.raises(ValidationFailed, match="between 1 and 1"):
        batches.report_missing(a.id, batch_id, cap.id, 2, "not_found", staff(a))
    with pytest.raises(ValidationFailed, match="Choose why"):
        batches.report_missing(a.id, batch_id, cap.id, 1, "lost", staff(a))


def test_a_package_whose_units_all_go_elsewhere_leaves_the_batch_and_is_shown_removed(floor):
    a, _, ids = floor
    rule = db.session.scalars(select(ScenarioRule)).one()
    rule.allow_split = False
    db.session.commit()
    _, batch_id = started(floor)
    batches.report_missing(a.id, batch_id, get_product("SOCKS-3").id, 1, "defective", staff(a))
    assert state_of(ids[1]) == "cancelled"  # the order may not be split: the whole package moves to B
    board = batches.board(a.id, batch_id)
    assert [s.status for s in board.slots] == ["to_pick", "removed", "to_pick"]
    assert [line.product.sku for line in board.lines] == ["CAP-BLK", "TSHIRT-M"]


def test_refusing_from_the_batch_is_the_refuse_command_and_the_batch_finishes_without_it(floor):
    a, b, ids = floor
    factories.denial_reason("damaged")
    db.session.commit()
    _, batch_id = started(floor)
    batches.run_command(a.id, batch_id, ids[2], "refuse", {"reason": "damaged"}, staff(a))
    assert state_of(ids[2]) == "refused"
    for code in (SHIRT, SHIRT, CAP, CAP, SOCKS):
        batches.scan(a.id, batch_id, code, staff(a))
    with pytest.raises(ValidationFailed, match="picked already"):
        batches.scan(a.id, batch_id, SHIRT, staff(a))  # tote 3 left the batch: no one needs it
    assert batches.board(a.id, batch_id).batch.state == "packing"
    for pid in ids[:2]:
        batches.run_command(a.id, batch_id, pid, "complete_packing", {"boxes": 1}, staff(a))
    board = batches.board(a.id, batch_id)
    assert [s.status for s in board.slots] == ["packed", "packed", "removed"]
    assert board.batch.state == "done" and board.batch.finished_at is not None
    with pytest.raises(Conflict, match="done"):
        batches.scan(a.id, batch_id, SHIRT, staff(a))


def test_only_packing_and_refusing_run_from_the_batch_and_only_for_its_packages(floor):
    a, _, ids = floor
    set_stock(a, get_product("SOCKS-3"), 2)
    other = make_package("waiting", location=a, items=[("SOCKS-3", 1)], spare=0)
    _, batch_id = started(floor)
    with pytest.raises(NotFound):
        batches.run_command(a.id, batch_id, ids[0], "block", {"reason": "x"}, staff(a))
    with pytest.raises(NotFound):
        batches.run_command(a.id, batch_id, other.id, "complete_packing", {"boxes": 1}, staff(a))
    assert state_of(other.id) == "waiting"


def test_another_store_cannot_open_the_batch(floor):
    a, b, _ = floor
    _, batch_id = started(floor)
    with pytest.raises(NotFound):
        batches.board(b.id, batch_id)
    with pytest.raises(NotFound):
        batches.scan(b.id, batch_id, SHIRT, staff(b))


def test_a_cancelled_batch_leaves_its_packages_preparing_one_by_one(floor):
    a, _, ids = floor
    _, batch_id = started(floor)
    batches.cancel(a.id, batch_id, staff(a))
    assert batches.board(a.id, batch_id).batch.state == "cancelled"
    assert [state_of(pid) for pid in ids] == ["preparing"] * 3
    with pytest.raises(Conflict):
        batches.cancel(a.id, batch_id, staff(a))
    with pytest.raises(Conflict, match="cancelled"):
        batches.scan(a.id, batch_id, SHIRT, staff(a))


def test_packages_packed_on_their_own_page_finish_the_batch_too(floor):
    a, _, ids = floor
    _, batch_id = started(floor)
    for pid in ids:
        run_package_command(pid, "complete_packing_without_shipment", None, staff(a))
    assert batches.board(a.id, batch_id).batch.state == "done"
    listing = batches.batch_list(a.id)
    assert (listing.open, [b.batch.id for b in listing.finished]) == ([], [batch_id])


def _pack_and_label(a, batch_id: int, ids: list[int]) -> None:
    for code in (SHIRT, CAP, SHIRT, CAP, SHIRT, SOCKS):
        batches.scan(a.id, batch_id, code, staff(a))
    for pid in ids:
        batches.run_command(a.id, batch_id, pid, "complete_packing", {"boxes": 1}, staff(a))
    for shipment_id in db.session.scalars(select(Shipment.id).order_by(Shipment.id)).all():
        shipments.request_label(shipment_id)


def test_batch_labels_are_one_pdf_and_one_zpl_stream_in_tote_order(floor):
    a, _, ids = floor
    _, batch_id = started(floor)
    with pytest.raises(NotFound, match="No label of batch 1 is ready yet"):
        batches.labels(a.id, batch_id, "pdf", staff(a))
    _pack_and_label(a, batch_id, ids)
    numbers = [db.session.get(Package, pid).number for pid in ids]

    pdf = batches.labels(a.id, batch_id, "pdf", staff(a))
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages]
    assert len(pages) == 3
    assert [next(n for n in numbers if f"Package: {n}\n" in text + "\n") for text in pages] == numbers
    assert pdf.filename == "labels-batch-1.pdf"

    zpl = batches.labels(a.id, batch_id, "zpl", staff(a)).content.decode()
    assert zpl.count("^XA") == 3 and zpl.count("^XZ") == 3
    assert [zpl.index(f"Package: {n}") for n in numbers] == sorted(zpl.index(f"Package: {n}") for n in numbers)
