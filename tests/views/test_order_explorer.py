"""The order explorer: filters combine, keyset pages, location scoping, bad filters named (never a
500), bulk actions with a confirmation step, and the CSV export matching the screen."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import Order, Package
from tests import factories
from tests.services.builders import make_package
from tests.views.test_auth import login


def numbers(html: str) -> set[str]:
    return {part.split('"')[0] for part in html.split('data-order="')[1:]}


def csv_numbers(response) -> list[str]:
    text = response.get_data(as_text=True).lstrip("\ufeff")
    return [row["number"] for row in csv.DictReader(io.StringIO(text))]


def _world():
    ist, ank = factories.location("IST-01"), factories.location("ANK-01", target_packaging_minutes=60)
    a = make_package("waiting", location=ist, channel="web")
    b = make_package("out_of_stock", location=ank, channel="trendyol")
    c = make_package("waiting", location=ank, channel="web", delivery_type="click_and_collect")
    a.order.number, b.order.number, c.order.number = "WEB-A", "TY-B", "WEB-C"
    a.order.customer_name, b.order.customer_name, c.order.customer_name = "Ayse Kaya", "Mehmet Demir", "Zeynep Ak"
    a.order.placed_at = datetime(2026, 11, 1, 10)
    b.order.placed_at = datetime(2026, 11, 5, 10)
    c.order.placed_at = datetime(2026, 11, 9, 10)
    c.created_at = datetime.now() - timedelta(hours=3)  # noqa: DTZ005 - naive UTC on purpose
    db.session.commit()
    return ist, ank, a, b, c


def test_filters_combine_and_every_filter_narrows_the_list(app, client):
    ist, ank, a, b, c = _world()
    factories.user("sup", "supervisor")
    db.session.commit()
    login(client, "sup")
    get = lambda query: numbers(client.get(f"/reports/orders/?{query}").get_data(as_text=True))  # noqa: E731
    assert get("") == {"WEB-A", "TY-B", "WEB-C"}
    assert get("channel=web") == {"WEB-A", "WEB-C"}
    assert get("channel=web&location=ANK-01") == {"WEB-C"}
    assert get("location=ANK-01&out_of_stock=1") == {"TY-B"}
    assert get("delivery_type=click_and_collect") == {"WEB-C"}
    assert get("from=2026-11-02&to=2026-11-08") == {"TY-B"}
    assert get("from=2026-11-01&to=2026-11-01") == {"WEB-A"}
    assert get("q=mehmet") == {"TY-B"}
    assert get("q=WEB-") == {"WEB-A", "WEB-C"}
    assert get(f"q={c.number}") == {"WEB-C"}  # a package number
    barcode = a.items[0].product.barcodes[0].barcode if a.items[0].product.barcodes else None
    if barcode:
        assert get(f"q={barcode}") >= {"WEB-A"}
    assert get("overdue=1") == {"WEB-C"}
    assert get("overdue=1&channel=trendyol") == set()
    assert get(f"status={b.order.status}&channel=trendyol") == {"TY-B"}


def test_keyset_pages_walk_every_order_once_newest_first(app, client):
    loc = factories.location("IST-01")
    for i in range(7):
        p = make_package("waiting", location=loc, spare=20)
        p.order.number = f"N-{i}"
        p.order.placed_at = datetime(2026, 11, 1) + timedelta(hours=i // 2)  # ties on placed_at
    factories.user("sup", "supervisor")
    db.session.commit()
    login(client, "sup")
    seen, url = [], "/reports/orders/?size=3"
    while url:
        html = client.get(url).get_data(as_text=True)
        seen += [part.split('"')[0] for part in html.split('data-order="')[1:]]
        url = html.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&") \
            if 'rel="next"' in html else None
    assert sorted(seen) == sorted(f"N-{i}" for i in range(7)) and len(seen) == 7
    assert seen[0] == "N-6" or seen[0] == "N-5"


def test_a_supervisor_with_some_locations_sees_and_exports_only_theirs(app, client):
    ist, ank, a, b, c = _world()
    factories.user("sup", "supervisor", [ist])
    db.session.commit()
    login(client, "sup")
    assert numbers(client.get("/reports/orders/").get_data(as_text=True)) == {"WEB-A"}
    response = client.get("/reports/orders/?location=ANK-01")
    assert response.status_code == 422 and "No location ANK-01 among yours" in response.get_data(as_text=True)
    assert csv_numbers(client.get("/reports/orders.csv")) == ["WEB-A"]
    # Bulk actions on an order outside the scope do nothing.
    response = client.post("/reports/orders/bulk", data={"action": "cancel", "reason": "x", "order": [str(b.order_id)],
                                                         "confirm": "1"})
    assert response.status_code == 303
    db.session.commit()  # a fresh snapshot (SQLite)
    assert db.session.get(Order, b.order_id).status != "cancelled"


def test_staff_cannot_open_the_explorer_nor_export(app, client):
    loc = factories.location("IST-01")
    factories.user("ayse", "staff", [loc])
    db.session.commit()
    login(client, "ayse")
    assert client.get("/reports/orders/").status_code == 403
    assert client.get("/reports/orders.csv").status_code == 403
    assert client.get("/reports/ledger/").status_code == 403
    assert client.post("/reports/orders/bulk", data={"action": "replan"}).status_code == 403


def test_bad_filters_are_named_and_nothing_breaks(app, client):
    _world()
    factories.user("sup", "supervisor")
    db.session.commit()
    login(client, "sup")
    cases = {
        "status=lost": "Unknown value",
        "from=2026-11-09&to=2026-11-01": "The end date is before the start date",
        "from=yesterday": "Enter a date as YYYY-MM-DD",
        "from=1900-01-01": "between 2000 and 2100",
        "size=100000": "Show 1 to 200 rows per page",
        "size=-1": "Show 1 to 200 rows per page",
        "after=garbage!!": "This page link is broken",
        "q=" + "x" * 300: "at most 200 characters",
        "channel=nope": "Unknown value",
    }
    for query, message in cases.items():
        response = client.get(f"/reports/orders/?{query}")
        assert response.status_code == 422, query
        assert message in response.get_data(as_text=True), query
        assert 'data-order="' not in response.get_data(as_text=True)
        if not query.startswith(("size=", "after=")):  # an export has no pages
            exported = client.get(f"/reports/orders.csv?{query}")
            exported.get_data()
            assert exported.status_code == 422 and exported.mimetype == "text/html", query
    assert client.get("/reports/orders/?page=99999999999999999999&unknown=1").status_code == 200


def test_the_csv_streams_the_same_orders_as_the_screen_in_the_same_order(app, client):
    _world()
    factories.user("sup", "supervisor")
    db.session.commit()
    login(client, "sup")
    screen = client.get("/reports/orders/?channel=web").get_data(as_text=True)
    on_screen = [part.split('"')[0] for part in screen.split('data-order="')[1:]]
    response = client.get("/reports/orders.csv?channel=web")
    assert response.is_streamed and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert csv_numbers(response) == on_screen == ["WEB-C", "WEB-A"]
    packages = client.get("/reports/packages.csv?channel=web").get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.DictReader(io.StringIO(packages)))
    assert sorted(r["order"] for r in rows) == ["WEB-A", "WEB-C"]
    assert client.get("/reports/unknown.csv").status_code == 404


def test_bulk_cancel_asks_first_then_cancels_each_order(app, client):
    ist, ank, a, b, c = _world()
    factories.user("sup", "supervisor")
    db.session.commit()
    login(client, "sup")
    ids = [str(a.order_id), str(c.order_id)]
    # Without a reason: asked for one, nothing changes.
    response = client.post("/reports/orders/bulk", data={"action": "cancel", "order": ids})
    assert response.status_code == 422 and "Give a reason" in response.get_data(as_text=True)
    # The question: nothing changes yet.
    response = client.post("/reports/orders/bulk", data={"action": "cancel", "reason": "Customer called", "order": ids})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Cancel these orders?" in html and 'name="confirm" value="1"' in html
    seen = html.split('name="seen" value="')[1].split('"')[0]
    db.session.commit()  # a fresh snapshot (SQLite)
    assert db.session.get(Order, a.order_id).status != "cancelled"
    response = client.post("/reports/orders/bulk", data={"action": "cancel", "reason": "Customer called",
                                                         "order": ids, "confirm": "1", "seen": seen,
                                                         "back": "channel=web"})
    assert response.status_code == 303 and response.headers["Location"].endswith("/reports/orders/?channel=web")
    db.session.commit()  # a fresh snapshot (SQLite)
    assert db.session.get(Order, a.order_id).status == "cancelled"
    assert db.session.get(Order, c.order_id).status == "cancelled"
    assert db.session.get(Order, b.order_id).status != "cancelled"
    assert "2 of 2 orders done" in client.get("/reports/orders/").get_data(as_text=True)


def test_bulk_block_and_replan_report_each_order(app, client):
    ist, ank, a, b, c = _world()
    factories.user("sup", "supervisor")
    db.session.commit()
    login(client, "sup")
    ids = [str(a.order_id), str(b.order_id)]
    seen = client.post("/reports/orders/bulk", data={"action": "block", "reason": "Fraud check", "order": ids}) \
        .get_data(as_text=True).split('name="seen" value="')[1].split('"')[0]
    client.post("/reports/orders/bulk", data={"action": "block", "reason": "Fraud check", "order": ids,
                                              "confirm": "1", "seen": seen})
    db.session.commit()  # a fresh snapshot (SQLite)
    assert db.session.get(Package, a.id).state == "blocked"
    # The out-of-stock package cannot be blocked: reported, the other order went on.
    html = client.get("/reports/orders/").get_data(as_text=True)
    assert "1 of 2 orders done" in html and "Order TY-B" in html
    # A colleague's change between question and answer is not applied blindly.
    response = client.post("/reports/orders/bulk", data={"action": "replan", "order": ids, "confirm": "1",
                                                         "seen": "stale"})
    assert response.status_code == 409 and "changed meanwhile" in response.get_data(as_text=True)


def test_bulk_refuses_bad_selections(app, client):
    _world()
    factories.user("sup", "supervisor")
    db.session.commit()
    login(client, "sup")
    for data, message in (({"action": "explode", "order": ["1"]}, "Choose what to do"),
                          ({"action": "replan"}, "Select at least one order"),
                          ({"action": "replan", "order": ["x1"]}, "The selection is not valid"),
                          ({"action": "replan", "order": [str(i) for i in range(1, 300)]}, "Select at most 200")):
        response = client.post("/reports/orders/bulk", data=data)
        assert response.status_code == 303
        assert message in client.get(response.headers["Location"]).get_data(as_text=True)
    assert db.session.scalar(select(Order).where(Order.status == "cancelled")) is None



def test_a_bad_package_state_in_the_packages_export_is_named(app, client):
    _world()
    factories.user("sup", "supervisor")
    db.session.commit()
    login(client, "sup")
    response = client.get("/reports/packages.csv?state=lost")
    assert response.status_code == 422 and "Unknown value" in response.get_data(as_text=True)
    rows = client.get("/reports/packages.csv?state=out_of_stock").get_data(as_text=True).lstrip("\ufeff")
    assert [r["order"] for r in csv.DictReader(io.StringIO(rows))] == ["TY-B"]


def test_a_forged_return_address_cannot_break_the_redirect(app, client):
    _world()
    factories.user("sup", "supervisor")
    db.session.commit()
    login(client, "sup")
    response = client.post("/reports/orders/bulk", data={"action": "replan", "back": "q=a\r\nSet-Cookie: x=1"})
    assert response.status_code == 303 and "\n" not in response.headers["Location"]
    assert response.headers["Location"].startswith("/reports/orders/")


def test_search_is_turkish_aware_and_numbers_match_in_any_case(app, client):
    ist, ank, a, b, c = _world()
    a.order.customer_name, b.order.customer_name = "Ali Şahin", "Gül Öztürk Çelik"
    a.order.customer_email = "ali.sahin@example.com"
    factories.user("sup", "supervisor")
    db.session.commit()
    login(client, "sup")
    get = lambda query: numbers(client.get("/reports/orders/", query_string={"q": query}).get_data(as_text=True))  # noqa: E731
    for typed in ("Şahin", "ŞAHİN", "şahin", "sahin", "SAHIN"):
        assert get(typed) == {"WEB-A"}, typed
    for typed in ("Öztürk", "ozturk", "ÇELİK", "celik"):
        assert get(typed) == {"TY-B"}, typed
    assert get("web-") == {"WEB-A", "WEB-C"}
    assert get("ty-b") == {"TY-B"}
    assert get("ALI.SAHIN@example.com") == {"WEB-A"}
