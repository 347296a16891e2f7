"""A counter return refused for its count (0 units) keeps the search: the form posts to the address
with q and order, so the re-drawn form — and a reload of it — still shows the order found."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

from app.extensions import db
from tests import factories
from tests.services.builders import make_package
from tests.views.test_store_queue import login


def _post_action(body: str) -> str:
    found = re.search(r'<form method="post" action="([^"]+)" class="finish-form">', body)
    assert found is not None, body
    return found.group(1).replace("&amp;", "&")


def test_a_refused_count_keeps_the_search_in_the_address(app, client):
    package = make_package("delivered", items=(("SKU-A", 2),), spare=0)
    counter = factories.location("IST-BSK")
    factories.user("ayse", "staff", [counter])
    db.session.commit()
    order_id, number = package.order_id, package.order.number
    login(client)
    page = client.get("/store/IST-BSK/returns/new", query_string={"q": number, "order": order_id})
    action = _post_action(page.get_data(as_text=True))
    assert parse_qs(urlsplit(action).query) == {"q": [number], "order": [str(order_id)]}

    refused = client.post(action, data={"q": number, "order": order_id,
                                        f"quantity-{package.items[0].product_id}": "0"})
    assert refused.status_code == 422 and "at least one item" in refused.get_data(as_text=True)
    again = _post_action(refused.get_data(as_text=True))
    assert parse_qs(urlsplit(again).query) == {"q": [number], "order": [str(order_id)]}
    reloaded = client.get(again).get_data(as_text=True)
    assert f'value="{number}"' in reloaded and 'class="finish-form"' in reloaded
