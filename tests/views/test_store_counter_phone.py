"""The return counter finds a customer's order by phone whatever the format typed or stored:
"0532 123 45 67", "+90 532 123 4567", "5321234567" (and dashes, brackets) are one number."""

from __future__ import annotations

import pytest

from app.extensions import db
from tests import factories
from tests.services.builders import make_package
from tests.views.test_store_queue import login

TYPED = ("0532 123 45 67", "+90 532 123 4567", "5321234567", "+905321234567", "(0532) 123-45-67", "532.123.45.67")


@pytest.mark.parametrize("stored", ["0532 123 45 67", "+90 532 123 4567", "5321234567"])
def test_the_counter_finds_the_order_by_phone_in_any_format(app, client, stored):
    package = make_package("delivered", items=[("SKU-A", 1)])
    package.order.customer_phone = stored
    other = make_package("delivered", items=[("SKU-B", 1)])
    other.order.customer_phone = "0533 765 43 21"
    factories.user("ayse", "staff", [package.location])
    db.session.commit()
    login(client)
    for typed in TYPED:
        body = client.get(f"/store/{package.location.code}/returns/new", query_string={"q": typed}).get_data(as_text=True)
        assert package.order.number in body, typed
        assert other.order.number not in body, typed


def test_a_few_digits_or_another_number_find_no_phone(app, client):
    package = make_package("delivered", items=[("SKU-A", 1)])
    package.order.customer_phone = "0532 123 45 67"
    factories.user("ayse", "staff", [package.location])
    db.session.commit()
    login(client)
    for typed in ("4567", "0532 123 45 68", "532-999-45-67"):
        body = client.get(f"/store/{package.location.code}/returns/new", query_string={"q": typed}).get_data(as_text=True)
        assert package.order.number not in body, typed
