"""The order page's own actions: plan now, cancel the order, cancel some units. Real forms with
CSRF; cancelling asks first; errors in plain words next to the fields; a repeated confirm never
cancels twice."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.extensions import db
from app.models import Order, Package
from app.services import workorders
from app.services.order_status import refresh_order_status
from app.services.planning import plan_order
from tests import factories
from tests.services.builders import get_product, make_order, make_package, make_scenario, set_stock, stock_of
from tests.views.test_auth import login

HX = {"HX-Request": "true"}


def _sup(client):
    factories.user("sup", "supervisor")
    db.session.commit()
    login(client, "sup")


def _order(order_id: int) -> Order:
    db.session.rollback()  # see what the request committed
    return db.session.get(Order, order_id)


def planned_order(shirts: int = 3, caps: int = 1) -> tuple[Order, object]:
    """A web order planned at one store that has everything."""
    store = factories.location("IST-01")
    set_stock(store, get_product("SHIRT"), 5)
    set_stock(store, get_product("CAP"), 5)
    make_scenario(store)
    order = make_order([("SHIRT", shirts), ("CAP", caps)], number="WEB-900")
    db.session.commit()
    plan_order(order.id, trigger="test")
    return _order(order.id), store


def test_plan_now_plans_a_new_order_and_says_what_happened(app, client):
    store = factories.location("IST-01")
    set_stock(store, get_product("SHIRT"), 5)
    make_scenario(store)
    order = make_order([("SHIRT", 2)], number="WEB-901")
    db.session.commit()
    _sup(client)
    page = client.get(f"/supervisor/orders/{order.id}/").get_data(as_text=True)
    assert f'action="/supervisor/orders/{order.id}/plan"' in page and 'name="csrf_token"' in page

    response = client.post(f"/supervisor/orders/{order.id}/plan")

    assert response.status_code == 303 and response.headers["Location"].endswith(f"/orders/{order.id}/")
    assert _order(order.id).status == "planned"
    assert stock_of(store, "SHIRT") == (5, 2)
    after = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Order WEB-901 was planned: Planned as one package." in after
    assert "WEB-901-P1" in after


def test_plan_now_with_htmx_answers_the_order_with_the_message(app, client):
    order, _ = planned_order()
    _sup(client)
    response = client.post(f"/supervisor/orders/{order.id}/plan", headers=HX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and html.lstrip().startswith('<div id="order"')
    assert "Nothing was left to plan." in html  # it was planned already: said so, nothing changes


def test_cancelling_the_order_asks_first_and_changes_nothing_until_confirmed(app, client):
    order, store = planned_order()
    _sup(client)

    asked = client.post(f"/supervisor/orders/{order.id}/cancel", data={"reason": "Customer called"}, headers=HX)

    html = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "Cancel order WEB-900?" in html and "Yes, cancel the order" in html
    assert _order(order.id).status == "planned" and stock_of(store, "SHIRT") == (5, 3)
    seen = re.search(r'name="seen" value="([^"]+)"', html).group(1)

    done = client.post(f"/supervisor/orders/{order.id}/cancel",
                       data={"reason": "Customer called", "confirm": "1", "seen": seen})

    assert done.status_code == 303
    cancelled = _order(order.id)
    assert cancelled.status == "cancelled" and cancelled.cancel_reason == "Customer called"
    assert stock_of(store, "SHIRT") == (5, 0)
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "Order WEB-900 is cancelled; its stock is released." in page
    assert 'data-action="cancel-order"' not in page and 'data-action="plan"' not in page


def test_cancelling_the_order_needs_a_reason_next_to_the_field(app, client):
    order, _ = planned_order()
    _sup(client)
    response = client.post(f"/supervisor/orders/{order.id}/cancel", data={"reason": "  "}, headers=HX)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    field = html.split('id="cancel-reason"')[1].split("</div>")[0]
    assert 'aria-invalid="true"' in field and "Give a reason: the customer service team reads it." in field
    assert _order(order.id).status == "planned"


def test_cancelling_some_units_asks_then_shrinks_the_package_and_releases_their_stock(app, client):
    order, store = planned_order(shirts=3, caps=1)
    shirt = next(i for i in order.items if i.sku == "SHIRT")
    _sup(client)

    asked = client.post(f"/supervisor/orders/{order.id}/cancel-units", data={f"units-{shirt.id}": "2"}, headers=HX)

    html = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "Cancel 2 × SHIRT of order WEB-900?" in html
    assert _order(order.id).items[0].cancelled_quantity == 0
    seen = re.search(r'name="seen" value="([^"]+)"', html).group(1)
    confirm = {f"units-{shirt.id}": "2", "confirm": "1", "seen": seen, "reason": ""}

    done = client.post(f"/supervisor/orders/{order.id}/cancel-units", data=confirm, headers=HX)
    again = client.post(f"/supervisor/orders/{order.id}/cancel-units", data=confirm, headers=HX)  # a second tap

    assert done.status_code == 200 and "2 units of order WEB-900 are cancelled" in done.get_data(as_text=True)
    assert again.status_code == 409 and "changed meanwhile" in again.get_data(as_text=True)
    order = _order(order.id)
    assert next(i for i in order.items if i.sku == "SHIRT").cancelled_quantity == 2
    package = db.session.scalar(select(Package).where(Package.order_id == order.id))
    assert sorted((i.sku, i.quantity) for i in package.items) == [("CAP", 1), ("SHIRT", 1)]
    assert stock_of(store, "SHIRT") == (5, 1)


def test_units_to_cancel_are_checked_in_plain_words_next_to_each_field(app, client):
    order, _ = planned_order(shirts=3, caps=1)
    shirt = next(i for i in order.items if i.sku == "SHIRT")
    cap = next(i for i in order.items if i.sku == "CAP")
    _sup(client)
    url = f"/supervisor/orders/{order.id}/cancel-units"

    nothing = client.post(url, data={f"units-{shirt.id}": "", f"units-{cap.id}": "0"}, headers=HX)
    assert nothing.status_code == 422
    assert "Enter how many units to cancel of at least one item." in nothing.get_data(as_text=True)

    wrong = client.post(url, data={f"units-{shirt.id}": "4", f"units-{cap.id}": "x"}, headers=HX)
    html = wrong.get_data(as_text=True)
    assert wrong.status_code == 422
    shirt_field = html.split(f'id="units-{shirt.id}"')[1].split("</div>")[0]
    cap_field = html.split(f'id="units-{cap.id}"')[1].split("</div>")[0]
    assert "Only 3 unit(s) of SHIRT can still be cancelled: cancel 3 or fewer." in shirt_field and 'value="4"' in shirt_field
    assert "Enter a whole number of units, 0 to 1." in cap_field
    assert all(i.cancelled_quantity == 0 for i in _order(order.id).items)


def test_a_shipped_order_offers_no_actions_and_a_part_shipped_one_only_units_still_here(app, client):
    shipped = make_package("shipped", items=[("SHIRT", 1)])
    store = factories.location("IST-02")
    order = make_order([("SHIRT", 1), ("CAP", 2)])
    shirt, cap = order.items
    set_stock(store, cap.product, 2)
    workorders.create_package(order, store.id, [workorders.Line(shirt, 1)], "shipped", "test", reserve=False)
    workorders.create_package(order, store.id, [workorders.Line(cap, 2)], "waiting", "test")
    refresh_order_status(order, "test")
    db.session.commit()
    _sup(client)
    page = client.get(f"/supervisor/orders/{shipped.order_id}/").get_data(as_text=True)
    assert 'data-action="plan"' not in page and 'data-action="cancel-units"' not in page
    page = client.get(f"/supervisor/orders/{order.id}/").get_data(as_text=True)
    assert 'data-status="partially_shipped"' in page
    assert 'data-action="cancel-order"' not in page and 'data-action="cancel-units"' in page
    assert f'id="units-{cap.id}"' in page and f'id="units-{shirt.id}"' not in page


def _token(html: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def test_order_actions_need_the_csrf_token(app, csrf_client):
    order, _ = planned_order()
    factories.user("sup", "supervisor")
    db.session.commit()
    page = csrf_client.get("/login").get_data(as_text=True)
    csrf_client.post("/login", data={"username": "sup", "password": factories.PASSWORD, "csrf_token": _token(page)})
    page = csrf_client.get(f"/supervisor/orders/{order.id}/").get_data(as_text=True)
    action = page.split(f'action="/supervisor/orders/{order.id}/plan"')[1].split("</form>")[0]
    assert 'name="csrf_token"' in action
    assert csrf_client.post(f"/supervisor/orders/{order.id}/plan").status_code == 400
    ok = csrf_client.post(f"/supervisor/orders/{order.id}/plan", data={"csrf_token": _token(action)})
    assert ok.status_code == 303


def test_staff_cannot_cancel_an_order(app, client):
    order, store = planned_order()
    factories.user("ayse", "staff", [store])
    db.session.commit()
    login(client, "ayse")
    response = client.post(f"/supervisor/orders/{order.id}/cancel", data={"reason": "x", "confirm": "1"})
    assert response.status_code in (302, 403) and _order(order.id).status == "planned"


# ------------------------------------------------------------------ a Turkish supervisor (SPEC §15)

def _turkish_sup(client):
    factories.user("sup", "supervisor").language = "tr"
    db.session.commit()
    login(client, "sup")


def _english_left(html: str) -> list[str]:
    """English words of the cancel forms left in the text people read (tags and attributes dropped)."""
    text = re.sub(r"<[^>]+>", " ", html)
    words = ("unit", "cancel", "Cancel", "Keep", "Yes", "stock", "Check", "order", "Reason")
    return [w for w in words if re.search(rf"\b{w}", text)]


def test_a_turkish_supervisor_reads_the_units_to_cancel_in_turkish_from_question_to_done(app, client):
    order, store = planned_order(shirts=3, caps=1)
    shirt = next(i for i in order.items if i.sku == "SHIRT")
    cap = next(i for i in order.items if i.sku == "CAP")
    _turkish_sup(client)
    url = f"/supervisor/orders/{order.id}/cancel-units"

    wrong = client.post(url, data={f"units-{shirt.id}": "4", f"units-{cap.id}": "x"}, headers=HX)
    html = wrong.get_data(as_text=True)
    assert wrong.status_code == 422
    shirt_field = html.split(f'id="units-{shirt.id}"')[1].split("</div>")[0]
    assert ("SHIRT ürününden yalnızca 3 adet daha iptal edilebilir: en fazla 3 adet iptal edin." in shirt_field)
    assert "İptal edilecek adetleri kontrol edin." in html
    form = html.split('id="order-actions"')[1]
    assert _english_left(form) == []

    asked = client.post(url, data={f"units-{shirt.id}": "2"}, headers=HX)
    html = asked.get_data(as_text=True)
    question = html.split('role="alertdialog"')[1].split("</section>")[0]
    assert "WEB-900 siparişinden 2 × SHIRT iptal edilsin mi?" in question
    assert "Evet, bu adetleri iptal et" in question and "Vazgeç" in question
    assert _english_left(question) == []
    seen = re.search(r'name="seen" value="([^"]+)"', html).group(1)

    done = client.post(url, data={f"units-{shirt.id}": "2", "confirm": "1", "seen": seen}, headers=HX)
    html = done.get_data(as_text=True)
    assert done.status_code == 200
    assert "WEB-900 siparişinin 2 adedi iptal edildi; stoğu serbest bırakıldı." in html
    assert "unit(s)" not in html and "cancelled; their" not in html
    assert next(i for i in _order(order.id).items if i.sku == "SHIRT").cancelled_quantity == 2
    assert stock_of(store, "SHIRT") == (5, 1)


def test_the_order_cancel_question_is_turkish_for_a_turkish_supervisor(app, client):
    order, _ = planned_order()
    _turkish_sup(client)
    asked = client.post(f"/supervisor/orders/{order.id}/cancel", data={"reason": "Müşteri aradı"}, headers=HX)
    question = asked.get_data(as_text=True).split('role="alertdialog"')[1].split("</section>")[0]
    assert "WEB-900 siparişi iptal edilsin mi?" in question and "“Müşteri aradı”" in question
    assert "Evet, siparişi iptal et" in question and "Siparişi koru" in question
    assert _english_left(question) == []


def test_the_cancel_service_says_its_problems_in_the_users_language(app):
    from flask_babel import force_locale

    from app.services import orders as orders_service
    from app.services.errors import Conflict, ValidationFailed
    from tests.services.builders import supervisor

    order, _ = planned_order(shirts=3, caps=1)
    shirt = next(i for i in order.items if i.sku == "SHIRT")
    order_id, shirt_id = order.id, shirt.id
    with app.test_request_context(), force_locale("tr"):
        try:
            orders_service.cancel_order(order_id, {"items": [{"item_id": shirt_id, "quantity": 4},
                                                             {"item_id": 999_999, "quantity": 1}]}, supervisor())
        except ValidationFailed as exc:
            details = exc.details
        else:
            raise AssertionError("cancelling more units than are left was accepted")
    db.session.rollback()
    assert details == {"items.0.quantity": "SHIRT ürününden yalnızca 3 adet daha iptal edilebilir: "
                                            "en fazla 3 adet iptal edin.",
                       "items.1.item_id": "Bu ürün bu siparişte yok: siparişin ürünlerinden birini seçin."}
    assert all(i.cancelled_quantity == 0 for i in _order(order_id).items)

    shipped = make_package("shipped", items=[("SHIRT", 1)])
    db.session.commit()
    item_id, shipped_order = shipped.items[0].order_item_id, shipped.order_id
    with app.test_request_context(), force_locale("tr"):
        try:
            orders_service.cancel_order(shipped_order, {"items": [{"item_id": item_id, "quantity": 1}]}, supervisor())
        except Conflict as exc:
            message = exc.message
        else:
            raise AssertionError("a shipped unit was cancelled")
    db.session.rollback()
    assert message == ("SHIRT ürününden 1 adet zaten gönderildi ve iptal edilemez: daha azını iptal edin "
                       "ya da bir iadeyle geri alın.")


def test_a_problem_the_service_finds_after_the_form_is_put_on_its_field_in_plain_turkish(app):
    from flask_babel import force_locale

    from app.views.supervisor_orders import _fields

    lines = [{"item_id": 7, "quantity": 2}, {"item_id": 9, "quantity": 1}]
    with app.test_request_context(), force_locale("tr"):
        fields = _fields({"items.1.quantity": "Input should be less than or equal to 1000000",
                          "reason": "String should have at most 500 characters", "items": "Field required"},
                         lines)
    assert fields == {"units-9": "1000000 ya da daha az girin.", "units-reason": "En fazla 500 karakter kullanın.",
                      "units": "Bu alan zorunlu. Lütfen doldurun."}
