"""Store batch screens over HTTP: start from the queue, page and fragment, scans with and without
htmx, missing units, refuse, pack next with the unscanned question, labels, and scope."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import Package, PickBatch, Shipment
from tests import factories
from tests.services.builders import get_product, make_package, set_stock
from tests.views.test_store_queue import HX, login, store_with_staff

SHIRT, CAP = "8690000000017", "8690000000024"


def small_orders(store):
    factories.product("TSHIRT-M", SHIRT, name="Cotton T-shirt")
    factories.product("CAP-BLK", CAP, name="Baseball cap")
    set_stock(store, get_product("TSHIRT-M"), 3)
    set_stock(store, get_product("CAP-BLK"), 1)
    db.session.commit()
    first = make_package("waiting", location=store, items=[("TSHIRT-M", 1), ("CAP-BLK", 1)], spare=0)
    second = make_package("waiting", location=store, items=[("TSHIRT-M", 2)], spare=0)
    return first.id, second.id


def state_of(package_id: int) -> str:
    db.session.rollback()
    return db.session.get(Package, package_id).state


def version_of(package_id: int) -> int:
    db.session.rollback()
    return db.session.get(Package, package_id).version


def first_batch_id() -> int:
    db.session.rollback()  # see what the requests committed
    return db.session.scalar(select(PickBatch.id))


def start(client, ids) -> str:
    response = client.post("/store/IST-KDK/batches", data={"package_id": [str(i) for i in ids], "from": "queue"})
    assert response.status_code == 303
    return response.headers["Location"]


def test_the_to_prepare_tab_offers_ticking_packages_for_one_walk_and_other_tabs_do_not(app, client):
    store = store_with_staff()
    ids = small_orders(store)
    login(client)
    body = client.get("/store/IST-KDK/packages?tab=waiting").get_data(as_text=True)
    assert 'id="batch-select"' in body and "Next 10 oldest" in body
    for package_id in ids:
        assert f'form="batch-select" name="package_id" value="{package_id}"' in body
    other = client.get("/store/IST-KDK/packages?tab=preparing").get_data(as_text=True)
    assert 'batch-select' not in other
    assert 'href="/store/IST-KDK/batches"' in body  # the Batches nav entry


def test_ticked_packages_start_a_batch_and_its_page_is_a_page_and_a_fragment(app, client):
    store = store_with_staff()
    ids = small_orders(store)
    login(client)
    location = start(client, ids)
    batch_id = first_batch_id()
    assert location.endswith(f"/store/IST-KDK/batches/{batch_id}")
    assert [state_of(i) for i in ids] == ["preparing", "preparing"]
    page = client.get(location)
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "<html" in body and "HX-Request" in page.headers["Vary"]
    assert "Batch 1 started." in body and "Batch 1" in body and "data-scan-field" in body
    assert "2 → tote 2" in body and "1 → tote 1" in body  # T-shirts: one for tote 1, two for tote 2
    assert "Picked <strong>0</strong> of <strong>4</strong>" in body
    assert page.headers["Cache-Control"] == "no-store"
    fragment = client.get(location, headers=HX).get_data(as_text=True)
    assert "<html" not in fragment and fragment.lstrip().startswith("{#") is False
    assert '<section id="batch"' in fragment


def test_an_htmx_start_navigates_to_the_batch_and_an_empty_choice_says_what_to_do(app, client):
    store = store_with_staff()
    small_orders(store)
    login(client)
    response = client.post("/store/IST-KDK/batches", data={"from": "queue"}, headers=HX)
    assert response.headers["HX-Redirect"] == "/store/IST-KDK/packages?tab=waiting"
    queue = client.get("/store/IST-KDK/packages?tab=waiting").get_data(as_text=True)
    assert "Tick the packages to pick together, or use Next 10 oldest." in queue
    response = client.post("/store/IST-KDK/batches", data={"next_oldest": "1"}, headers=HX)
    batch_id = first_batch_id()
    assert response.headers["HX-Redirect"] == f"/store/IST-KDK/batches/{batch_id}"


def test_a_scan_says_the_tote_in_big_letters_with_htmx_and_in_a_message_without(app, client):
    store = store_with_staff()
    ids = small_orders(store)
    login(client)
    location = start(client, ids)
    answer = client.post(f"{location}/scan", data={"barcode": SHIRT}, headers=HX).get_data(as_text=True)
    assert '<strong class="tote-big">Tote 1</strong>' in answer and "data-scan-ok" in answer
    assert 'id="batch-progress" class="progress-box" hx-swap-oob="true"' in answer
    assert "hx-swap-oob" in answer and 'id="pick-line-' in answer
    answer = client.post(f"{location}/scan", data={"barcode": SHIRT}, headers=HX).get_data(as_text=True)
    assert '<strong class="tote-big">Tote 2</strong>' in answer
    plain = client.post(f"{location}/scan", data={"barcode": SHIRT})
    assert plain.status_code == 303
    page = client.get(location).get_data(as_text=True)
    numbers = [db.session.get(Package, i).number for i in ids]
    assert "flash-tote" in page and f"Tote 2 · Cotton T-shirt · 2 of 2 for {numbers[1]}" in page
    wrong = client.post(f"{location}/scan", data={"barcode": SHIRT}, headers=HX)
    assert wrong.status_code == 422
    assert "Every unit of TSHIRT-M in this batch is picked already. Put this one back." in wrong.get_data(as_text=True)
    empty = client.post(f"{location}/scan", data={"barcode": " "}, headers=HX)
    assert empty.status_code == 422 and "Scan a barcode or type it" in empty.get_data(as_text=True)


def test_packing_next_with_units_not_in_the_tote_asks_first_and_then_packs(app, client):
    store = store_with_staff()
    ids = small_orders(store)
    login(client)
    location = start(client, ids)
    version = version_of(ids[0])
    url = f"{location}/packages/{ids[0]}/commands/complete_packing_without_shipment"
    asked = client.post(url, data={"version": version}, headers=HX).get_data(as_text=True)
    assert "Only 0 of 2 items were scanned. Pack anyway?" in asked and 'name="confirm_unscanned" value="1"' in asked
    assert state_of(ids[0]) == "preparing"
    done = client.post(url, data={"version": version, "confirm_unscanned": "1"}, headers=HX)
    assert "Tote 1 packed" in done.get_data(as_text=True)
    assert state_of(ids[0]) == "packed"


def test_missing_units_of_a_product_are_reported_from_the_batch_page(app, client):
    store = store_with_staff()
    ids = small_orders(store)
    login(client)
    location = start(client, ids)
    cap = get_product("CAP-BLK")
    form = client.get(f"{location}/missing/{cap.id}").get_data(as_text=True)
    assert "Can't find: Baseball cap" in form and "1 for tote 1" in form
    bad = client.post(f"{location}/missing/{cap.id}", data={"quantity": "5", "reason": "not_found"}, headers=HX)
    assert bad.status_code == 422 and "Enter between 1 and 1" in bad.get_data(as_text=True)
    response = client.post(f"{location}/missing/{cap.id}", data={"quantity": "1", "reason": "not_found"})
    assert response.status_code == 303
    number = db.session.get(Package, ids[0]).number
    assert f"Reported missing: 1 from tote 1 ({number})" in client.get(location).get_data(as_text=True)


def test_refusing_from_the_batch_is_a_confirmation_page_then_the_refuse_command(app, client):
    store = store_with_staff()
    factories.denial_reason("damaged", title="Item damaged")
    ids = small_orders(store)
    login(client)
    location = start(client, ids)
    page = client.get(f"{location}/packages/{ids[1]}/refuse").get_data(as_text=True)
    assert "Refuse " in page and "Item damaged" in page and "This cannot be undone." in page
    url = f"{location}/packages/{ids[1]}/commands/refuse"
    version = version_of(ids[1])
    missing = client.post(url, data={"version": version}, headers=HX)
    assert missing.status_code == 422 and "Choose why you refuse this package." in missing.get_data(as_text=True)
    assert state_of(ids[1]) == "preparing"
    done = client.post(url, data={"version": version, "reason": "damaged"})
    assert done.status_code == 303 and state_of(ids[1]) == "refused"
    body = client.get(location).get_data(as_text=True)
    assert "it leaves this batch" in body and "Removed: refused" in body


def test_other_commands_and_other_stores_get_404(app, client):
    store = store_with_staff()
    ids = small_orders(store)
    other = factories.location("ANK-01")
    factories.user("mehmet", "staff", [other])
    db.session.commit()
    login(client)
    location = start(client, ids)
    assert client.post(f"{location}/packages/{ids[0]}/commands/block", data={"reason": "x"}).status_code == 404
    client.post("/logout")
    login(client, "mehmet")
    assert client.get(location).status_code == 404
    batch_id = location.rsplit("/", 1)[1]
    assert client.get(f"/store/ANK-01/batches/{batch_id}").status_code == 404
    assert client.get(f"/store/ANK-01/batches/{batch_id}/labels.pdf").status_code == 404


def test_batch_labels_before_any_label_exists_say_so_in_plain_words(app, client):
    store = store_with_staff()
    ids = small_orders(store)
    login(client)
    location = start(client, ids)
    response = client.get(f"{location}/labels.pdf")
    assert response.status_code == 404
    assert "No label of batch 1 is ready yet." in response.get_data(as_text=True)


def test_giving_up_a_batch_leaves_its_packages_preparing(app, client):
    store = store_with_staff()
    ids = small_orders(store)
    login(client)
    location = start(client, ids)
    response = client.post(f"{location}/cancel", headers=HX)
    assert "Batch given up." in response.get_data(as_text=True)
    assert "data-scan-field" not in response.get_data(as_text=True)
    assert [state_of(i) for i in ids] == ["preparing", "preparing"]
    again = client.post(f"{location}/cancel", headers=HX)
    assert "Already done — here is the current state." in again.get_data(as_text=True)


def test_the_batch_zpl_says_its_charset_once(app, client):
    from app.services import batches, shipments
    from app.services.actors import Actor

    store = store_with_staff()
    ids = small_orders(store)
    login(client)
    location = start(client, ids)
    actor = Actor(label="user:ayse", role="staff", location_ids=frozenset({store.id}))
    batch_id = first_batch_id()
    for code in (SHIRT, CAP, SHIRT, SHIRT):
        batches.scan(store.id, batch_id, code, actor)
    for package_id in ids:
        batches.run_command(store.id, batch_id, package_id, "complete_packing", {"boxes": 1}, actor)
    for shipment_id in db.session.scalars(select(Shipment.id).order_by(Shipment.id)).all():
        shipments.request_label(shipment_id)
    response = client.get(f"{location}/labels.zpl")
    assert response.status_code == 200 and response.get_data().count(b"^XA") == 2
    assert response.headers["Content-Type"] == "text/plain; charset=utf-8"


def test_the_scan_label_is_one_sentence_in_turkish(app, client):
    store = store_with_staff()
    ids = small_orders(store)
    db.session.execute(db.text("UPDATE users SET language = 'tr' WHERE username = 'ayse'"))
    db.session.commit()
    login(client)
    page = client.get(start(client, ids)).get_data(as_text=True)
    assert '<label for="scan-field">Her ürünü bir kez okutun: sayfa hangi kasaya gideceğini söyler.</label>' in page
