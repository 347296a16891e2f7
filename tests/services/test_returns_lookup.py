"""The counter finds a shipped order the way staff type it: the number in any case, the customer's
name without Turkish letters or in capitals."""

from __future__ import annotations

from app.extensions import db
from app.services.returns.lookup import find_shipped_orders
from tests.services.builders import make_package


def test_the_counter_finds_an_order_by_number_in_any_case_and_by_a_name_typed_without_turkish_letters(app):
    package = make_package("delivered")
    order = package.order
    order.number, order.customer_name = "DEMO-1008", "Burak Koç"
    unshipped = make_package("waiting").order
    unshipped.number, unshipped.customer_name = "DEMO-1009", "Burak Koç"
    db.session.commit()
    for typed in ("DEMO-1008", "demo-1008", " demo-1008 ", "koc", "BURAK KOC", "koç", "burak koç"):
        assert [o.id for o in find_shipped_orders(typed)] == [order.id], typed
    assert find_shipped_orders("DEMO-100") == []  # numbers are matched whole
    assert find_shipped_orders("ayse") == []
