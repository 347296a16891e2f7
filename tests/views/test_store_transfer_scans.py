"""Transfers that lead on: each side scans its items like picking, the receiver is taken to the
package that is now to prepare, the sender sees what it has in transit, and the Transfers tab
opens on the side that has work."""

from __future__ import annotations

import re

from sqlalchemy import select

from app.extensions import db
from app.models import Package, TransferItem, TransitionLog
from tests.services.builders import make_transfer
from tests.views.test_store_queue import HX, login
from tests.views.test_store_transfers import reload, two_stores

SHIRT = "8690000000017"


def transfer_of_three(sender, receiver, state="waiting"):
    from tests import factories

    factories.product("TSHIRT-M", SHIRT, name="Cotton T-shirt, navy, M")
    factories.product("CAP-BLK", "8690000000024", name="Baseball cap, black")
    db.session.commit()
    return make_transfer(items=[("TSHIRT-M", 2), ("CAP-BLK", 1)], source=sender, destination=receiver, state=state)


def page_url(transfer, code="IST-01", tail=""):
    return f"/store/{code}/transfers/{transfer.id}{tail}"


def scanned(transfer, column="dispatch_scanned") -> dict[str, int]:
    db.session.rollback()
    rows = db.session.scalars(select(TransferItem).where(TransferItem.transfer_id == transfer.id))
    return {row.product.sku: getattr(row, column) for row in rows}


def logged(transfer, command) -> dict | None:
    db.session.rollback()
    return db.session.scalar(select(TransitionLog.params).where(
        TransitionLog.entity_type == "transfer", TransitionLog.entity_id == transfer.id,
        TransitionLog.command == command))


def button(body: str, command: str) -> str:
    return re.search(rf'<button[^>]*data-command="{command}"[^>]*>', body).group(0)


def test_the_sender_scans_what_it_sends_and_each_scan_counts_one_unit(app, client):
    sender, receiver = two_stores()
    transfer = transfer_of_three(sender, receiver)
    login(client, "sam")
    page = client.get(page_url(transfer)).get_data(as_text=True)
    assert f'action="/store/IST-01/transfers/{transfer.id}/scan"' in page and "data-scan-field" in page
    assert "Counted <strong>0</strong> of <strong>3</strong>" in page
    # Scanning is the next step; the whole-transfer buttons stay, outlined.
    assert "btn-primary" not in button(page, "ready_for_dispatch") and "btn-primary" not in button(page, "dispatch")

    first = client.post(page_url(transfer, tail="/scan"), data={"barcode": SHIRT}, headers=HX)
    body = first.get_data(as_text=True)
    assert first.status_code == 200 and body.lstrip().startswith('<p id="scan-feedback"')
    assert "data-scan-ok" in body and "Counted Cotton T-shirt, navy, M (1 of 2)." in body
    shirt_id = next(ti.id for ti in transfer.items if ti.product.sku == "TSHIRT-M")
    assert f'id="transfer-item-{shirt_id}"' in body and 'hx-swap-oob="true"' in body
    assert "Counted <strong>1</strong> of <strong>3</strong>" in body
    assert scanned(transfer) == {"TSHIRT-M": 1, "CAP-BLK": 0}

    wrong = client.post(page_url(transfer, tail="/scan"), data={"barcode": "0000"}, headers=HX)
    assert wrong.status_code == 422 and "0000: This barcode is not in this transfer." in wrong.get_data(as_text=True)
    client.post(page_url(transfer, tail="/scan"), data={"barcode": SHIRT}, headers=HX)
    extra = client.post(page_url(transfer, tail="/scan"), data={"barcode": SHIRT}, headers=HX)
    assert extra.status_code == 422 and "Every unit of TSHIRT-M is already counted." in extra.get_data(as_text=True)
    last = client.post(page_url(transfer, tail="/scan"), data={"barcode": "8690000000024"}, headers=HX)
    assert "btn-primary" in button(last.get_data(as_text=True), "ready_for_dispatch")  # all counted: next step
    assert scanned(transfer) == {"TSHIRT-M": 2, "CAP-BLK": 1}
    assert reload(transfer).version == transfer.version  # scans are not version-guarded steps

    done = client.post(page_url(transfer, tail="/commands/dispatch"), data={"version": transfer.version}, headers=HX)
    assert done.status_code == 200 and reload(transfer).state == "in_transit"
    assert logged(transfer, "dispatch") == {}  # nothing unscanned to note


def test_dispatch_and_receive_still_take_the_whole_transfer_and_note_what_was_not_scanned(app, client):
    sender, receiver = two_stores()
    transfer = transfer_of_three(sender, receiver)
    login(client, "sam")
    client.post(page_url(transfer, tail="/scan"), data={"barcode": SHIRT}, headers=HX)
    client.post(page_url(transfer, tail="/commands/dispatch"), data={"version": transfer.version}, headers=HX)
    assert reload(transfer).state == "in_transit"
    assert logged(transfer, "dispatch") == {"unscanned": 2}
    client.post("/logout")
    login(client, "rita")
    client.post(page_url(transfer, "IST-02", "/commands/receive"), data={"version": reload(transfer).version},
                headers=HX)
    assert reload(transfer).state == "received" and logged(transfer, "receive") == {"unscanned": 3}


def test_the_receiver_scans_while_the_goods_are_on_the_road_and_the_sender_no_longer_can(app, client):
    sender, receiver = two_stores()
    transfer = transfer_of_three(sender, receiver, state="in_transit")
    login(client, "sam")
    assert "data-scan-field" not in client.get(page_url(transfer)).get_data(as_text=True)
    late = client.post(page_url(transfer, tail="/scan"), data={"barcode": SHIRT}, headers=HX)
    assert late.status_code == 409 and late.headers["HX-Retarget"] == "#transfer"
    assert "That is not possible now (it is in transit)." in late.get_data(as_text=True)
    client.post("/logout")
    login(client, "rita")
    page = client.get(page_url(transfer, "IST-02")).get_data(as_text=True)
    assert "Scan each item as you unpack it" in page and "btn-primary" not in button(page, "receive")
    client.post(page_url(transfer, "IST-02", "/scan"), data={"barcode": SHIRT}, headers=HX)
    assert scanned(transfer, "receive_scanned") == {"TSHIRT-M": 1, "CAP-BLK": 0}
    assert scanned(transfer, "dispatch_scanned") == {"TSHIRT-M": 0, "CAP-BLK": 0}


def test_a_scan_without_javascript_is_a_plain_post_that_comes_back_with_a_message(app, client):
    sender, receiver = two_stores()
    transfer = transfer_of_three(sender, receiver)
    login(client, "sam")
    response = client.post(page_url(transfer, tail="/scan"), data={"barcode": SHIRT})
    assert response.status_code == 303 and response.headers["Location"].endswith(page_url(transfer))
    page = client.get(page_url(transfer)).get_data(as_text=True)
    assert f"Counted {SHIRT}." in page and "Counted <strong>1</strong> of <strong>3</strong>" in page


def test_after_receiving_the_page_leads_to_the_package_now_to_prepare(app, client):
    sender, receiver = two_stores()
    transfer = transfer_of_three(sender, receiver, state="in_transit")
    package_id = transfer.package_id
    login(client, "rita")
    before = client.get(page_url(transfer, "IST-02")).get_data(as_text=True)
    assert f'href="/store/IST-02/packages/{package_id}"' in before  # the package is a link, not plain text
    done = client.post(page_url(transfer, "IST-02", "/commands/receive"), data={"version": transfer.version},
                       headers=HX)
    body = done.get_data(as_text=True)
    assert done.status_code == 200 and "Nothing to do here right now" not in body
    assert "It is now in To prepare." in body
    link = re.search(r'<a class="btn btn-big btn-primary" href="([^"]+)">Prepare package', body)
    assert link and link.group(1) == f"/store/IST-02/packages/{package_id}"
    db.session.rollback()
    assert db.session.get(Package, package_id).state == "waiting"
    # The sender's page says where the goods are instead of "nothing to do".
    client.post("/logout")
    login(client, "sam")
    sender_page = client.get(page_url(transfer)).get_data(as_text=True)
    assert "Received by Receiver Store." in sender_page and "/packages/" not in sender_page


def test_the_sender_sees_its_transfers_in_transit(app, client):
    sender, receiver = two_stores()
    on_road = make_transfer(source=sender, destination=receiver, state="in_transit")
    to_send = make_transfer(source=sender, destination=receiver)
    login(client, "sam")
    sent = client.get("/store/IST-01/transfers?direction=sent").get_data(as_text=True)
    assert on_road.number in sent and to_send.number not in sent
    assert "Goods you sent that have not arrived yet." in sent
    assert re.search(r'direction=sent"[^>]*aria-current="page"', sent)
    dispatch = client.get("/store/IST-01/transfers?direction=dispatch").get_data(as_text=True)
    assert to_send.number in dispatch and on_road.number not in dispatch
    home = client.get("/store/IST-01/").get_data(as_text=True)
    assert re.search(r'<span class="num">1</span><span class="label">Sent, in transit', home)


def current_tab(client, code) -> str:
    body = client.get(f"/store/{code}/transfers").get_data(as_text=True)
    return re.search(r'direction=(\w+)"[^>]*aria-current="page"', body).group(1)


def test_the_transfers_tab_opens_on_the_side_that_has_work(app, client):
    sender, receiver = two_stores()
    make_transfer(source=sender, destination=receiver)  # the sender must dispatch it
    login(client, "sam")
    assert current_tab(client, "IST-01") == "dispatch"
    client.post("/logout")
    login(client, "rita")
    assert current_tab(client, "IST-02") == "expected"  # only incoming: nothing else to show
    make_transfer(source=receiver, destination=sender)  # now rita has something to dispatch...
    assert current_tab(client, "IST-02") == "dispatch"  # ...and nothing to receive yet
    make_transfer(source=sender, destination=receiver, state="in_transit")
    assert current_tab(client, "IST-02") == "expected"  # goods to receive come first
    assert "aria-current" in client.get("/store/IST-02/transfers?direction=sent").get_data(as_text=True)


def test_marking_a_transfer_out_of_stock_asks_on_the_page_first(app, client):
    sender, receiver = two_stores()
    transfer = make_transfer(source=sender, destination=receiver)
    login(client, "sam")
    page = client.get(page_url(transfer)).get_data(as_text=True)
    assert re.search(r'name="confirm" value="1" disabled data-js-confirmed', page)  # enabled by store.js
    asked = client.post(page_url(transfer, tail="/commands/out_of_stock"), data={"version": transfer.version})
    body = asked.get_data(as_text=True)
    assert asked.status_code == 200 and "<html" in body and "Mark this transfer out of stock?" in body
    assert reload(transfer).state == "waiting"
    form = re.search(r'<div id="confirm-step".*?</form>', body, re.S).group(0)
    assert 'name="confirm" value="1"' in form and f'name="version" value="{transfer.version}"' in form
    done = client.post(page_url(transfer, tail="/commands/out_of_stock"),
                       data={"version": transfer.version, "confirm": "1"})
    assert done.status_code == 303 and reload(transfer).state == "out_of_stock"
