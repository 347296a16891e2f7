"""Transfers over the API: visible to both sides, invisible to everyone else; commands and history."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models import Channel, Order, OrderItem, Transfer, TransitionLog
from app.models.base import utcnow
from app.services import workorders
from tests import factories
from tests.api.helpers import auth


def setup_transfer():
    """A package at DEST waiting for one unit that SOURCE sends; OTHER is an unrelated store."""
    source, dest, other = factories.location("SRC"), factories.location("DEST"), factories.location("OTHER")
    shirt = factories.product("TSHIRT-M")
    factories.stock(source, shirt, on_hand=5)
    channel = factories.channel("web")
    order = Order(number="WEB-9", channel=channel, placed_at=utcnow(), status="planned", delivery_type="cargo",
                  ship_city="Istanbul", items=[OrderItem(product=shirt, quantity=1)])
    db.session.add(order)
    db.session.flush()
    package = workorders.create_package(order, dest.id, [workorders.Line(order.items[0], 1)],
                                        "waiting_for_transfer", "test", reserve=False)
    transfer = workorders.create_transfer(package, source.id, [(package.items[0], 1)], "test")
    db.session.commit()
    return source, dest, other, transfer.id


def test_both_sides_see_a_transfer_and_other_stores_get_404(app, client):
    source, dest, other, transfer_id = setup_transfer()
    for headers in (auth("src", "staff", [source]), auth("dst", "staff", [dest])):
        assert client.get(f"/api/v1/transfers/{transfer_id}", headers=headers).status_code == 200
        assert client.get("/api/v1/transfers", headers=headers).get_json()["count"] == 1
    outsider = auth("out", "staff", [other])
    assert client.get("/api/v1/transfers", headers=outsider).get_json()["count"] == 0
    for response in (client.get(f"/api/v1/transfers/{transfer_id}", headers=outsider),
                     client.get(f"/api/v1/transfers/{transfer_id}/history", headers=outsider),
                     client.post(f"/api/v1/transfers/{transfer_id}/commands/dispatch", headers=outsider)):
        assert response.status_code == 404
    db.session.commit()
    assert db.session.get(Transfer, transfer_id).state == "waiting"


def test_transfer_filters(app, client):
    _source, _dest, _other, transfer_id = setup_transfer()
    admin = auth("erp")

    def ids(query: str) -> list[int]:
        return [t["id"] for t in client.get(f"/api/v1/transfers?{query}", headers=admin).get_json()["results"]]

    assert ids("source=SRC") == [transfer_id] and ids("source=DEST") == []
    assert ids("destination=DEST") == [transfer_id] and ids("destination=SRC") == []
    assert ids("location=SRC") == ids("location=DEST") == [transfer_id]
    assert ids("location=OTHER") == []
    assert ids("state=waiting") == [transfer_id] and ids("state=in_transit") == []


def test_dispatch_and_receive_move_the_transfer_and_log_history(app, client):
    source, dest, _other, transfer_id = setup_transfer()
    sender, receiver = auth("src", "staff", [source]), auth("dst", "staff", [dest])
    body = client.get(f"/api/v1/transfers/{transfer_id}", headers=sender).get_json()
    assert body["allowed_commands"] == ["ready_for_dispatch", "dispatch", "report_missing", "out_of_stock"]
    dispatched = client.post(f"/api/v1/transfers/{transfer_id}/commands/dispatch", headers=sender)
    assert dispatched.status_code == 200 and dispatched.get_json()["state"] == "in_transit"
    again = client.post(f"/api/v1/transfers/{transfer_id}/commands/dispatch", headers=sender)
    assert again.status_code == 409
    assert again.get_json()["error"]["details"]["state"] == "in_transit"
    received = client.post(f"/api/v1/transfers/{transfer_id}/commands/receive", headers=receiver)
    assert received.status_code == 200 and received.get_json()["state"] == "received"
    history = client.get(f"/api/v1/transfers/{transfer_id}/history", headers=receiver).get_json()["results"]
    assert [h["command"] for h in history] == ["plan", "dispatch", "receive"]
    assert history[2]["actor"].startswith("token:dst#")


def test_bad_transfer_commands_change_nothing(app, client):
    source, _dest, _other, transfer_id = setup_transfer()
    sender = auth("src", "staff", [source])
    db.session.commit()
    before = db.session.scalar(select(func.count()).select_from(TransitionLog))
    unknown = client.post(f"/api/v1/transfers/{transfer_id}/commands/fly", headers=sender)
    assert unknown.status_code == 404 and "dispatch" in unknown.get_json()["error"]["details"]["commands"]
    invalid = client.post(f"/api/v1/transfers/{transfer_id}/commands/report_missing", json={"items": []},
                          headers=sender)
    assert invalid.status_code == 422 and "items" in invalid.get_json()["error"]["details"]
    assert client.post(f"/api/v1/transfers/{transfer_id}/commands/cancel", json={},
                       headers=sender).status_code == 403
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(TransitionLog)) == before
    assert db.session.get(Transfer, transfer_id).state == "waiting"
    assert db.session.scalar(select(Channel.code)) == "web"
