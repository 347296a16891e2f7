"""Stock effects as the commands use them: every change is in the ledger, nothing goes negative."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import Reservation
from app.services import stock
from tests import factories
from tests.services.builders import ledger_sums, make_package, set_stock, stock_of


@pytest.fixture
def shelf(app):
    loc, prod = factories.location(), factories.product(sku="SKU-S")
    set_stock(loc, prod, 5)
    package = make_package("out_of_stock", items=[("SKU-S", 3)], location=loc, spare=2)  # no reservations
    return loc, prod, package.items[0]


def _reserve_three(loc, prod, item) -> None:
    stock.reserve([stock.Need(loc.id, prod.id, 3, package_item_id=item.id)], "system:test", "REF")


def _holds(loc, on_hand: int, reserved: int) -> None:
    """The stock row and the ledger's sums both say (on hand, reserved)."""
    assert stock_of(loc, "SKU-S") == (on_hand, reserved)
    assert ledger_sums(loc, "SKU-S") == (on_hand, reserved)


def test_reserve_takes_available_units_and_writes_the_ledger(shelf):
    loc, prod, item = shelf
    _reserve_three(loc, prod, item)
    db.session.commit()
    _holds(loc, 5, 3)


def test_reserve_never_oversells(shelf):
    loc, prod, item = shelf
    _reserve_three(loc, prod, item)
    with pytest.raises(stock.InsufficientStock) as exc:
        _reserve_three(loc, prod, item)
    assert (exc.value.location_id, exc.value.product_id, exc.value.quantity) == (loc.id, prod.id, 3)
    db.session.rollback()
    assert stock_of(loc, "SKU-S") == (5, 0)


def test_partial_release_shrinks_the_reservation(shelf):
    loc, prod, item = shelf
    _reserve_three(loc, prod, item)
    released = stock.release("system:test", "REF", package_item_ids=[item.id], quantity_by_package_item={item.id: 2})
    db.session.commit()
    assert released == 2
    assert stock_of(loc, "SKU-S") == (5, 1)
    assert db.session.scalar(select(Reservation.quantity)) == 1
    assert ledger_sums(loc, "SKU-S") == (5, 1)


def test_consume_drops_on_hand_and_reserved(shelf):
    loc, prod, item = shelf
    _reserve_three(loc, prod, item)
    assert stock.consume("system:test", "REF", package_item_ids=[item.id]) == 3
    db.session.commit()
    _holds(loc, 2, 0)


def test_receive_for_a_package_item_reserves_the_arrivals(shelf):
    _, prod, item = shelf
    other = factories.location()
    stock.receive(other.id, prod.id, 2, "system:test", "T1", package_item_id=item.id)
    db.session.commit()
    assert stock_of(other, "SKU-S") == (2, 2)
    assert ledger_sums(other, "SKU-S") == (2, 2)


def test_correct_missing_never_writes_off_units_reserved_for_others(shelf):
    loc, prod, item = shelf
    _reserve_three(loc, prod, item)
    assert stock.correct_missing(loc.id, prod.id, 4, "system:test", "REF") == 2
    db.session.commit()
    _holds(loc, 3, 3)


def test_on_hand_cannot_be_set_below_what_is_reserved(shelf):
    loc, prod, item = shelf
    _reserve_three(loc, prod, item)
    with pytest.raises(ValueError):
        stock.set_on_hand(loc.id, prod.id, 2, "system:test")
