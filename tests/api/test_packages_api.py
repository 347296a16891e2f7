"""Packages over the API: scoped lists and reads, commands with the service's error contract, history."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app.extensions import db
from app.models import Order, OrderItem, OutboxEvent, Package, StockLedger, TransitionLog
from app.models.base import utcnow
from app.services import workorders
from tests import factories
from tests.api.helpers import auth


def make_package(location, product, number: str, quantity: int = 1, state: str = "waiting") -> Package:
    channel = db.session.scalar(select(factories.Channel).where(factories.Channel.code == "web")) \
        or factories.channel("web")
    order = Order(number=number, channel=channel, placed_at=utcnow(), status="planned", delivery_type="cargo",
                  ship_city="Istanbul", items=[OrderItem(product=product, quantity=quantity)])
    db.session.add(order)
    db.session.flush()
    package = workorders.create_package(order, location.id, [workorders.Line(order.items[0], quantity)], state,
                                        "test", reserve=state != "out_of_stock")
    db.session.commit()
    return package


def counts() -> tuple[int, int, int]:
    db.session.commit()  # a fresh snapshot: on SQLite an open read transaction sees old rows
    return tuple(db.session.scalar(select(func.count()).select_from(m)) for m in (TransitionLog, OutboxEvent,
                                                                                 StockLedger))


def two_stores():
    a, b = factories.location("IST-A"), factories.location("IST-B")
    shirt = factories.product("TSHIRT-M", barcode="8690000000017")
    factories.stock(a, shirt, on_hand=10)
    factories.stock(b, shirt, on_hand=10)
    factories.cargo_company("demo")
    db.session.commit()
    return a, b, shirt


def test_staff_of_store_a_never_see_or_touch_store_b_packages(app, client):
    a, b, shirt = two_stores()
    mine, theirs = make_package(a, shirt, "WEB-1"), make_package(b, shirt, "WEB-2")
    staff = auth("ayse", "staff", [a])
    listing = client.get("/api/v1/packages", headers=staff).get_json()
    assert [p["number"] for p in listing["results"]] == [mine.number] and listing["count"] == 1
    assert client.get("/api/v1/packages?location=IST-B", headers=staff).get_json()["count"] == 0
    before = counts()
    for response in (client.get(f"/api/v1/packages/{theirs.id}", headers=staff),
                     client.get(f"/api/v1/packages/{theirs.id}/history", headers=staff),
                     client.post(f"/api/v1/packages/{theirs.id}/commands/prepare", headers=staff),
                     client.post(f"/api/v1/packages/{theirs.id}/commands/refuse", json={"reason": "damaged"},
                                 headers=staff)):
        assert response.status_code == 404
        assert response.get_json()["error"]["code"] == "not_found"
    assert counts() == before
    assert client.get(f"/api/v1/packages/{mine.id}", headers=staff).status_code == 200


def test_a_command_moves_the_package_and_answers_with_it(app, client):
    a, _b, shirt = two_stores()
    package = make_package(a, shirt, "WEB-1", quantity=2)
    staff = auth("ayse", "staff", [a])
    response = client.post(f"/api/v1/packages/{package.id}/commands/prepare", headers=staff)
    assert response.status_code == 200
    body = response.get_json()
    assert body["state"] == "preparing" and body["location"] == "IST-A"
    assert "pick" in body["allowed_commands"] and "cancel" not in body["allowed_commands"]  # staff view
    picked = client.post(f"/api/v1/packages/{package.id}/commands/pick", json={"barcode": "8690000000017"},
                         headers=staff)
    assert picked.status_code == 200 and picked.get_json()["items"][0]["picked_quantity"] == 1
    admin = auth("erp")
    assert "cancel" in client.get(f"/api/v1/packages/{package.id}", headers=admin).get_json()["allowed_commands"]
    history = client.get(f"/api/v1/packages/{package.id}/history", headers=staff).get_json()
    assert [(h["from_state"], h["to_state"], h["command"]) for h in history["results"]][:2] == [
        (None, "waiting", "plan"), ("waiting", "preparing", "prepare")]
    assert history["results"][1]["actor"].startswith("token:ayse#") and history["results"][1]["at"].endswith("Z")


def test_unknown_disallowed_forbidden_and_invalid_commands_change_nothing(app, client):
    a, _b, shirt = two_stores()
    package = make_package(a, shirt, "WEB-1")
    staff = auth("ayse", "staff", [a])
    before = counts()
    unknown = client.post(f"/api/v1/packages/{package.id}/commands/teleport", headers=staff)
    assert unknown.status_code == 404
    assert "prepare" in unknown.get_json()["error"]["details"]["commands"]
    not_now = client.post(f"/api/v1/packages/{package.id}/commands/ship", headers=staff)
    assert not_now.status_code == 409
    details = not_now.get_json()["error"]["details"]
    assert details["state"] == "waiting" and "prepare" in details["allowed_commands"]
    assert client.post(f"/api/v1/packages/{package.id}/commands/cancel", json={"reason": "x"},
                       headers=staff).status_code == 403
    assert counts() == before
    assert client.post(f"/api/v1/packages/{package.id}/commands/prepare", headers=staff).status_code == 200
    after_prepare = counts()
    invalid = client.post(f"/api/v1/packages/{package.id}/commands/pick", json={"quantity": 0, "colour": "red"},
                          headers=staff)
    assert invalid.status_code == 422
    assert {"barcode", "quantity", "colour"} <= set(invalid.get_json()["error"]["details"])
    assert client.post(f"/api/v1/packages/{package.id}/commands/pick", data="[1,",
                       headers={**staff, "Content-Type": "application/json"}).status_code == 400
    assert client.post(f"/api/v1/packages/{package.id}/commands/pick", json=[1],
                       headers=staff).status_code == 422
    assert client.post("/api/v1/packages/999999/commands/prepare", headers=staff).status_code == 404
    assert counts() == after_prepare and after_prepare[0] > before[0]


def test_if_match_with_an_old_version_is_stale(app, client):
    a, _b, shirt = two_stores()
    package = make_package(a, shirt, "WEB-1")
    admin = auth("erp")
    etag = client.get(f"/api/v1/packages/{package.id}", headers=admin).headers["ETag"]
    first = client.post(f"/api/v1/packages/{package.id}/commands/prepare", headers={**admin, "If-Match": etag})
    assert first.status_code == 200
    assert first.headers["ETag"] != etag
    second = client.post(f"/api/v1/packages/{package.id}/commands/block", json={"reason": "Audit"},
                         headers={**admin, "If-Match": etag})
    assert second.status_code == 409 and second.get_json()["error"]["code"] == "stale"


def test_a_replayed_command_runs_once(app, client):
    a, _b, shirt = two_stores()
    package = make_package(a, shirt, "WEB-1")
    staff = auth("ayse", "staff", [a])
    headers = {**staff, "Idempotency-Key": "tap-1"}
    first = client.post(f"/api/v1/packages/{package.id}/commands/prepare", headers=headers)
    before = counts()
    again = client.post(f"/api/v1/packages/{package.id}/commands/prepare", headers=headers)
    assert again.status_code == 200 and again.get_json() == first.get_json()
    assert counts() == before


def test_package_filters(app, client):
    a, b, shirt = two_stores()
    p1 = make_package(a, shirt, "WEB-1")
    p2 = make_package(b, shirt, "WEB-2")
    p3 = make_package(a, shirt, "WEB-3", state="out_of_stock")
    db.session.execute(Package.__table__.update().where(Package.id == p1.id).values(
        created_at=utcnow() - timedelta(days=2)))
    db.session.commit()
    admin = auth("erp")

    def numbers(query: str) -> list[str]:
        response = client.get(f"/api/v1/packages?{query}", headers=admin)
        assert response.status_code == 200, response.get_json()
        return [p["number"] for p in response.get_json()["results"]]

    assert numbers("") == [p1.number, p2.number, p3.number]
    assert numbers("state=out_of_stock") == [p3.number]
    assert numbers("state=out_of_stock&state=waiting") == [p1.number, p2.number, p3.number]
    assert numbers("location=IST-B") == [p2.number]
    assert numbers("order=WEB-3") == [p3.number]
    assert numbers(f"order={p2.order_id}") == [p2.number]
    yesterday = (utcnow() - timedelta(days=1)).isoformat() + "Z"
    assert numbers(f"created_after={yesterday}") == [p2.number, p3.number]
    assert numbers(f"created_before={yesterday}") == [p1.number]
    assert numbers("page_size=1&page=2") == [p2.number]
    bad = client.get("/api/v1/packages?created_after=yesterday", headers=admin)
    assert bad.status_code == 422 and "created_after" in bad.get_json()["error"]["details"]


def test_requests_without_a_token_get_401(app, client):
    a, _b, shirt = two_stores()
    package = make_package(a, shirt, "WEB-1")
    assert client.get("/api/v1/packages").status_code == 401
    assert client.post(f"/api/v1/packages/{package.id}/commands/prepare").status_code == 401
    db.session.commit()  # a fresh snapshot: on SQLite an open read transaction sees old rows
    assert db.session.get(Package, package.id).state == "waiting"
