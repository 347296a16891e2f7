"""The return counter never offers another customer's order for a number that is only the end of
theirs: fewer than ten digits typed match only a stored number of exactly those digits."""

from __future__ import annotations

from app.extensions import db
from tests import factories
from tests.services.builders import make_package
from tests.views.test_store_queue import login


def _found(client, code: str, typed: str) -> str:
    return client.get(f"/store/{code}/returns/new", query_string={"q": typed}).get_data(as_text=True)


def test_seven_digits_do_not_find_the_number_they_end(app, client):
    other = make_package("delivered", items=[("SKU-A", 1)])
    other.order.customer_phone = "0544 123 45 67"
    short = make_package("delivered", items=[("SKU-B", 1)])
    short.order.customer_phone = "123 45 67"
    factories.user("ayse", "staff", [other.location])
    db.session.commit()
    login(client)
    for typed in ("123 45 67", "1234567", "4 123 45 67", "44 123 45 67"):
        body = _found(client, other.location.code, typed)
        assert other.order.number not in body, typed
    # A stored number of exactly the typed digits is still found, in any format.
    for typed in ("123 45 67", "123-45-67"):
        assert short.order.number in _found(client, other.location.code, typed), typed
    # The full number still finds it.
    for typed in ("0544 123 45 67", "+90 544 123 4567", "5441234567"):
        body = _found(client, other.location.code, typed)
        assert other.order.number in body and short.order.number not in body, typed
