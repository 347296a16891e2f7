"""Store transfers: Expected and Dispatch lists, the transfer page, each side's commands, scope."""

from __future__ import annotations

from app.extensions import db
from app.models import Package, Transfer
from tests import factories
from tests.factories import PASSWORD
from tests.services.builders import make_transfer
from tests.views.test_store_queue import HX, login


def two_stores():
    sender = factories.location("IST-01", name="Sender Store")
    receiver = factories.location("IST-02", name="Receiver Store")
    factories.user("sam", "staff", [sender])
    factories.user("rita", "staff", [receiver])
    db.session.commit()
    return sender, receiver


def reload(transfer) -> Transfer:
    db.session.rollback()  # end the test's read transaction: see what the requests committed
    return db.session.get(Transfer, transfer.id)


def test_expected_and_dispatch_lists_show_each_side_its_transfers(app, client):
    sender, receiver = two_stores()
    transfer = make_transfer(source=sender, destination=receiver)
    login(client, "sam")
    dispatch = client.get("/store/IST-01/transfers?direction=dispatch")
    assert dispatch.status_code == 200 and b"<html" in dispatch.data and transfer.number.encode() in dispatch.data
    assert b"To Receiver Store" in dispatch.data
    expected = client.get("/store/IST-01/transfers?direction=expected", headers=HX)
    assert b"<html" not in expected.data and transfer.number.encode() not in expected.data
    assert "HX-Request" in expected.headers["Vary"] and expected.data.lstrip().startswith(b'<section id="transfers"')
    client.post("/logout")
    login(client, "rita")
    incoming = client.get("/store/IST-02/transfers").get_data(as_text=True)  # Expected is the default
    assert transfer.number in incoming and "From Sender Store" in incoming


def test_transfer_page_shows_only_this_sides_buttons(app, client):
    sender, receiver = two_stores()
    transfer = make_transfer(source=sender, destination=receiver, state="in_transit")
    login(client, "sam")
    page = client.get(f"/store/IST-01/transfers/{transfer.id}")
    assert page.status_code == 200 and b"<html" in page.data
    assert b'data-command="receive"' not in page.data  # the receiver does that
    fragment = client.get(f"/store/IST-01/transfers/{transfer.id}", headers=HX)
    assert b"<html" not in fragment.data and fragment.data.lstrip().startswith(b'<section id="transfer"')
    # Posting the other side's command anyway is refused with a message.
    response = client.post(f"/store/IST-01/transfers/{transfer.id}/commands/receive",
                           data={"version": transfer.version}, headers=HX)
    assert response.status_code == 409 and b"The other store does this step" in response.data
    assert reload(transfer).state == "in_transit"
    client.post("/logout")
    login(client, "rita")
    page = client.get(f"/store/IST-02/transfers/{transfer.id}")
    assert b'data-command="receive"' in page.data and b'data-command="dispatch"' not in page.data


def test_sender_readies_and_dispatches_and_receiver_receives(app, client):
    sender, receiver = two_stores()
    factories.cargo_company("demo")
    db.session.commit()
    transfer = make_transfer(source=sender, destination=receiver)
    login(client, "sam")
    ready = client.post(f"/store/IST-01/transfers/{transfer.id}/commands/ready_for_dispatch",
                        data={"version": transfer.version, "tracking_number": "TR-55"}, headers=HX)
    assert ready.status_code == 200 and b"Ready for dispatch. Tap Dispatch when the goods leave." in ready.data
    assert reload(transfer).tracking_number == "TR-55"
    # Plain POST, no JavaScript: 303 back to the transfer.
    dispatched = client.post(f"/store/IST-01/transfers/{transfer.id}/commands/dispatch",
                             data={"version": reload(transfer).version})
    assert dispatched.status_code == 303 and dispatched.headers["Location"].endswith(f"/transfers/{transfer.id}")
    assert reload(transfer).state == "in_transit"
    client.post("/logout")
    client.post("/login", data={"username": "rita", "password": PASSWORD})
    received = client.post(f"/store/IST-02/transfers/{transfer.id}/commands/receive",
                           data={"version": reload(transfer).version}, headers=HX)
    assert received.status_code == 200 and b"Received. The goods are in your stock for the package." in received.data
    again = client.post(f"/store/IST-02/transfers/{transfer.id}/commands/receive",
                        data={"version": transfer.version + 2}, headers=HX)
    assert again.status_code == 200 and "Already done" in again.get_data(as_text=True)
    db.session.expire_all()
    assert reload(transfer).state == "received"
    assert db.session.get(Package, transfer.package_id).state == "waiting"


def test_sender_reports_missing_units_of_a_transfer(app, client):
    sender, receiver = two_stores()
    transfer = make_transfer(items=[("TSHIRT-M", 2)], source=sender, destination=receiver)
    item, version = transfer.items[0], transfer.version
    login(client, "sam")
    page = client.get(f"/store/IST-01/transfers/{transfer.id}").get_data(as_text=True)
    assert f'name="quantity-{item.id}"' in page
    response = client.post(f"/store/IST-01/transfers/{transfer.id}/commands/report_missing",
                           data={"version": version, f"quantity-{item.id}": "1"}, headers=HX)
    assert response.status_code == 200, response.data
    assert reload(transfer).version == version + 1


def test_a_third_store_cannot_see_or_touch_the_transfer(app, client):
    sender, receiver = two_stores()
    other = factories.location("ANK-01")
    factories.user("olga", "staff", [other])
    db.session.commit()
    transfer = make_transfer(source=sender, destination=receiver)
    login(client, "olga")
    for url in (f"/store/ANK-01/transfers/{transfer.id}", f"/store/IST-01/transfers/{transfer.id}"):
        assert client.get(url).status_code == 404
        assert client.post(f"{url}/commands/dispatch", data={"version": transfer.version}).status_code == 404
    assert transfer.number.encode() not in client.get("/store/ANK-01/transfers?direction=dispatch").data
    assert reload(transfer).state == "waiting"
