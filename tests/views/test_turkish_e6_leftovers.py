"""Words the new-user tester found in English on Turkish pages: the board's transfer lines, the
location page's transfer headings, the webhook page's Turn off button, and a purchase order line's
"damaged more than arrived" error on the receiving screen."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import User
from app.models.webhooks import WebhookSubscription
from tests import factories
from tests.services.builders import make_transfer
from tests.services.inbound.helpers import purchase_order
from tests.views.test_auth import login
from tests.views.test_store_queue import HX
from tests.views.test_store_queue import login as store_login


def _turkish(username: str) -> None:
    db.session.scalars(select(User).where(User.username == username)).one().language = "tr"
    db.session.commit()


def test_board_and_location_page_say_transfers_in_turkish(app, client):
    source = factories.location("WH-01", type="warehouse")
    store = factories.location("IST-01")
    make_transfer(source=source, destination=store)
    factories.user("sup", "supervisor")
    db.session.commit()
    _turkish("sup")
    login(client, "sup")
    board = client.get("/supervisor/").get_data(as_text=True)
    assert "Giden transferler · " in board and "Gelen transferler · " in board
    assert "Transferler out" not in board and "Transferler in" not in board
    location = client.get("/supervisor/locations/WH-01/").get_data(as_text=True)
    assert '<h3 class="sub">Giden</h3>' in location and '<h3 class="sub">Gelen</h3>' in location
    assert "Outgoing" not in location and "Incoming" not in location


def test_webhook_turn_off_button_is_turkish(app, client):
    factories.user("root", "admin")
    sub = WebhookSubscription(url="https://93.184.215.14/h", events=["*"], secret="s", active=True,
                              retry_strategy="exponential", max_attempts=10)
    db.session.add(sub)
    db.session.commit()
    _turkish("root")
    login(client, "root")
    page = client.get(f"/admin/webhooks/{sub.id}").get_data(as_text=True)
    assert ">Kapat</button>" in page and "Turn off" not in page
    assert "<dd>Açık</dd>" in page


def test_purchase_order_damaged_more_than_arrived_is_said_in_turkish(app, client):
    warehouse = factories.location("WH-05", type="warehouse")
    shirt = factories.product("TSHIRT-L", "8690000000109")
    factories.user("ayse", "staff", [warehouse])
    po = purchase_order(warehouse, [(shirt, 5)])
    _turkish("ayse")
    store_login(client)
    url = f"/store/WH-05/receiving/purchase-orders/{po.id}"
    page = client.get(url).get_data(as_text=True)
    form = {"receipt_key": page.split('name="receipt_key" value="')[1].split('"')[0],
            "version": page.split('name="version" value="')[1].split('"')[0],
            "count-TSHIRT-L": "1", "damaged-TSHIRT-L": "3", "reason-TSHIRT-L": "yırtık", "action": "finish"}
    answer = client.post(url, data=form, headers=HX)
    body = answer.get_data(as_text=True)
    assert answer.status_code == 422
    assert "Damaged units cannot be more" not in body
    assert "Hasarlı adet, gelen adetten fazla olamaz." in body
