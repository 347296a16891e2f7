"""The movements board, a location's drill-down, the ageing list and location scope."""

from __future__ import annotations

from datetime import timedelta

from app.extensions import db
from app.models.base import utcnow
from tests import factories
from tests.services.builders import make_package, make_transfer
from tests.views.test_auth import login


def _backdate(package, minutes: int) -> None:
    package.created_at = utcnow() - timedelta(minutes=minutes)
    db.session.commit()


def test_board_shows_a_card_per_location_with_state_counts_quota_and_transfers(app, client):
    ist = factories.location("IST-01", name="Kadikoy", max_quota=5)
    ank = factories.location("ANK-01", name="Kizilay")
    factories.user("sup", "supervisor")
    make_package("waiting", location=ist)
    make_package("preparing", location=ist)
    make_package("packed", location=ank)
    make_transfer(source=ank, destination=ist)
    login(client, "sup")
    html = client.get("/supervisor/").get_data(as_text=True)
    ist_card = html.split('data-location="IST-01"')[1].split("</section>")[0]
    # waiting, preparing and the package waiting for the transfer are open: 3 of 5
    assert "<strong class=\"num\">3</strong>" in ist_card and "of 5" in ist_card
    assert "Waiting for transfer" in ist_card and "in · waiting" in ist_card
    ank_card = html.split('data-location="ANK-01"')[1].split("</section>")[0]
    assert "Packed" in ank_card and "out · waiting" in ank_card
    assert 'href="/supervisor/locations/IST-01/"' in html


def test_the_board_separates_open_work_from_what_is_done_so_far(app, client):
    ist = factories.location("IST-01", name="Kadikoy")
    factories.user("sup", "supervisor")
    make_package("waiting", location=ist)
    make_package("blocked", location=ist)
    for state in ("shipped", "delivered", "delivered", "cancelled"):
        make_package(state, location=ist)
    login(client, "sup")
    html = client.get("/supervisor/").get_data(as_text=True)
    card = html.split('data-location="IST-01"')[1].split("</section>")[0]
    work = card.split('<dl class="mini work">')[1].split("</dl>")[0]
    assert ">Waiting</a></dt><dd>1</dd>" in work and ">Blocked</a></dt><dd>1</dd>" in work
    for finished in ("Shipped", "Delivered", "Cancelled"):
        assert finished not in work
    so_far = " ".join(card.split('<p class="so-far">')[1].split("</p>")[0].split())
    assert "So far:" in so_far
    assert ">1 shipped</a>" in so_far and ">2 delivered</a>" in so_far and ">1 cancelled</a>" in so_far


def test_state_names_on_the_board_and_drill_down_read_as_in_the_store(app, client):
    ist = factories.location("IST-01")
    factories.user("sup", "supervisor")
    package = make_package("waiting_cargo_label", location=ist)
    login(client, "sup")
    board = client.get("/supervisor/").get_data(as_text=True)
    drill = client.get("/supervisor/locations/IST-01/?state=waiting_cargo_label").get_data(as_text=True)
    page = client.get(f"/supervisor/packages/{package.id}/").get_data(as_text=True)
    from app.services.state_labels import state_label
    from app.views.store import state_label as store_label

    assert store_label("waiting_cargo_label") == state_label("waiting_cargo_label") == "Waiting cargo label"
    for html in (board, drill, page):
        assert "Waiting cargo label" in html
        assert "waiting cargo label" not in html.replace("Waiting cargo label", "")


def test_drill_down_lists_a_locations_packages_by_state(app, client):
    ist = factories.location("IST-01")
    factories.user("sup", "supervisor")
    waiting = make_package("waiting", location=ist)
    preparing = make_package("preparing", location=ist)
    login(client, "sup")
    html = client.get("/supervisor/locations/IST-01/?state=preparing").get_data(as_text=True)
    assert preparing.number in html and waiting.number not in html


def test_ageing_lists_only_packages_past_their_locations_target_oldest_first(app, client):
    slow = factories.location("IST-01", target_packaging_minutes=60)
    other = factories.location("ANK-01", target_packaging_minutes=600)
    factories.user("sup", "supervisor")
    late = make_package("waiting", location=slow)
    later = make_package("preparing", location=slow)
    fresh = make_package("waiting", location=slow)
    within = make_package("waiting", location=other)
    packed = make_package("packed", location=slow)
    _backdate(late, 90)
    _backdate(later, 180)
    _backdate(within, 120)
    _backdate(packed, 500)
    login(client, "sup")
    html = client.get("/supervisor/ageing").get_data(as_text=True)
    assert later.number in html and late.number in html
    assert html.index(later.number) < html.index(late.number)  # oldest first
    for number in (fresh.number, within.number, packed.number):
        assert number not in html
    filtered = client.get("/supervisor/ageing?location=ANK-01").get_data(as_text=True)
    assert late.number not in filtered


def test_ageing_list_is_paginated(app, client):
    loc = factories.location("IST-01", target_packaging_minutes=10)
    factories.user("sup", "supervisor")
    for n in range(55):
        _backdate(make_package("waiting", location=loc, items=[(f"SKU-{n}", 1)]), 30)
    login(client, "sup")
    first = client.get("/supervisor/ageing").get_data(as_text=True)
    assert "Page 1 of 2" in first and "55 in all" in first
    second = client.get("/supervisor/ageing?page=2").get_data(as_text=True)
    assert second.count("data-package=") == 5


def test_supervisor_with_a_subset_sees_only_her_locations(app, client):
    mine = factories.location("IST-01")
    theirs = factories.location("ANK-01")
    factories.user("sup", "supervisor", [mine])
    hidden = make_package("out_of_stock", location=theirs)
    login(client, "sup")
    board = client.get("/supervisor/").get_data(as_text=True)
    assert "IST-01" in board and "ANK-01" not in board
    assert hidden.number not in client.get("/supervisor/out-of-stock").get_data(as_text=True)
    assert client.get(f"/supervisor/packages/{hidden.id}/").status_code == 404
    assert client.get(f"/supervisor/orders/{hidden.order_id}/").status_code == 404
    assert client.get("/supervisor/locations/ANK-01/").status_code == 404


def test_board_is_a_fragment_for_htmx_polling(app, client):
    factories.location("IST-01")
    factories.user("sup", "supervisor")
    db.session.commit()
    login(client, "sup")
    response = client.get("/supervisor/", headers={"HX-Request": "true"})
    assert response.status_code == 200 and "<html" not in response.get_data(as_text=True)
    assert "HX-Request" in response.headers["Vary"]


def test_overdue_counts_follow_each_locations_own_target_in_one_query_per_target(app, client):
    from sqlalchemy import event

    stores = [factories.location(f"T{n:02d}", target_packaging_minutes=30 if n % 2 else 90) for n in range(6)]
    factories.location("NO-TARGET")
    factories.user("sup", "supervisor")
    for store in stores:
        _backdate(make_package("waiting", location=store), 60)  # past 30 minutes, within 90
        _backdate(make_package("delivered", location=store), 600)  # done: never overdue
    login(client, "sup")
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        if "count(" in statement.lower() and "created_at <" in statement:
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        html = client.get("/supervisor/").get_data(as_text=True)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
    for n in range(6):
        card = html.split(f'data-location="T{n:02d}"')[1].split("</section>")[0]
        assert ("1 overdue" in card) == bool(n % 2)
    assert "overdue" not in html.split('data-location="NO-TARGET"')[1].split("</section>")[0]
    assert len(statements) == 2  # one per distinct target (30 and 90 minutes), not one per location
