"""`status_class`: a package command skips re-deriving its order's status while the package's
state stays in one class. That is only sound if two states of one class give every order the
same status, whatever its other packages: checked here against `status_from` itself."""

from __future__ import annotations

from itertools import product

from app.models.packages import PACKAGE_STATES
from app.services.order_status import status_class, status_from


def test_two_states_of_one_class_give_every_order_the_same_status():
    others = [()] + [(s,) for s in PACKAGE_STATES] + list(product(PACKAGE_STATES, repeat=2))
    pairs = [(a, b) for a, b in product(PACKAGE_STATES, repeat=2) if a != b and status_class(a) == status_class(b)]
    assert ("preparing", "packed") in pairs  # packing a one-package order keeps it in progress
    for (a, b), rest, current, cancelled in product(pairs, others, ("new", "on_hold", "planned"), (False, True)):
        assert status_from(current, cancelled, [a, *rest]) == status_from(current, cancelled, [b, *rest]), (a, b, rest)


def test_states_that_move_an_order_are_in_different_classes():
    for a, b in (("waiting", "preparing"), ("packed", "shipped"), ("shipped", "delivered"),
                 ("preparing", "cancelled"), ("waiting", "out_of_stock"), ("preparing", "packed_for_refund")):
        assert status_class(a) != status_class(b), (a, b)
        assert status_from("planned", False, [a]) != status_from("planned", False, [b]), (a, b)
