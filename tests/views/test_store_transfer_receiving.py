"""Receiving an incoming transfer with a count on the store's receiving screen, without
JavaScript: the review page, refused counts (422, nothing changed), finishing, finishing twice,
and scope (issue 19)."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import StockLedger, Transfer
from tests import factories
from tests.services.builders import make_scenario, make_transfer, row_counts, stock_of
from tests.views.test_store_queue import HX, login


def _world():
    sender = factories.location("IST-01", name="Sender Store")
    receiver = factories.location("IST-02", name="Receiver Store")
    other = factories.location("IST-03", name="Other Store")
    warehouse = factories.location("WH-01", priority=9)
    factories.user("rita", "staff", [receiver])
    factories.user("otto", "staff", [other])
    make_scenario(warehouse)
    db.session.commit()
    transfer = make_transfer(items=[("SKU-A", 2)], source=sender, destination=receiver, state="in_transit", spare=0)
    return receiver, transfer


def test_the_review_page_is_prefilled_and_reached_from_the_transfer_page(app, client):
    receiver, transfer = _world()
    product_id = transfer.items[0].product_id
    login(client, "rita")
    page = client.get(f"/store/IST-02/transfers/{transfer.id}").get_data(as_text=True)
    assert f"/store/IST-02/receiving/transfers/{transfer.id}/finish" in page and 'data-command="review"' in page
    review = client.get(f"/store/IST-02/receiving/transfers/{transfer.id}/finish")
    assert review.status_code == 200 and b"<html" in review.data
    text = review.get_data(as_text=True)
    assert f'id="received-{product_id}"' in text and "2 sent" in text


def test_refused_counts_say_why_on_their_line_and_change_nothing(app, client):
    receiver, transfer = _world()
    product_id = transfer.items[0].product_id
    login(client, "rita")
    url = f"/store/IST-02/receiving/transfers/{transfer.id}/finish"
    for form, words in ((({f"received-{product_id}": "3"}), "were sent: say why"),
                        (({f"received-{product_id}": "1"}), "say why"),
                        (({f"received-{product_id}": "2", f"damaged-{product_id}": "1"}), "damaged"),
                        (({f"received-{product_id}": "-1"}), "whole number"),
                        (({f"received-{product_id}": "²"}), "whole number")):
        before = row_counts()
        answer = client.post(url, data={"version": str(transfer.version), **form}, headers=HX)
        assert answer.status_code == 422, form
        assert words in answer.get_data(as_text=True)
        assert row_counts() == before
    db.session.rollback()
    assert db.session.get(Transfer, transfer.id).state == "in_transit"


def test_finishing_books_once_and_a_second_finish_counts_nothing(app, client):
    receiver, transfer = _world()
    product_id = transfer.items[0].product_id
    login(client, "rita")
    url = f"/store/IST-02/receiving/transfers/{transfer.id}/finish"
    form = {"version": str(transfer.version), f"received-{product_id}": "2", f"damaged-{product_id}": "1",
            f"note-{product_id}": "Wet box"}
    done = client.post(url, data=form)
    assert done.status_code == 303 and done.headers["Location"].endswith("/store/IST-02/receiving")
    db.session.rollback()
    assert db.session.get(Transfer, transfer.id).state == "received"
    assert stock_of(receiver, "SKU-A") == (1, 1)
    assert db.session.scalars(select(StockLedger.note).where(StockLedger.reason == "write_off")).all() == [
        "1 unit(s): Wet box"]
    before = row_counts()
    again = client.post(url, data=form)
    assert again.status_code == 303 and again.headers["Location"].endswith(f"/transfers/{transfer.id}")
    assert row_counts() == before


def test_staff_of_another_store_get_404(app, client):
    receiver, transfer = _world()
    login(client, "otto")
    assert client.get(f"/store/IST-03/receiving/transfers/{transfer.id}/finish").status_code == 404
    assert client.get(f"/store/IST-02/receiving/transfers/{transfer.id}/finish").status_code in (403, 404)
