"""A cargo parcel packed and then cancelled (the order was cancelled) is not shipped: its page
offers no label to print and says to unpack it and put the items back, not "Nothing to do"."""

from __future__ import annotations

from app.extensions import db
from app.services.orders import cancel_order
from tests import factories
from tests.services.builders import make_package, supervisor
from tests.views.test_store_queue import login


def test_a_packed_parcel_whose_order_was_cancelled_says_unpack_and_offers_no_label(app, client):
    package = make_package("packed", items=[("SKU-A", 2)])
    package.shipment.label_pdf = b"%PDF-1.4 label"
    factories.user("ayse", "staff", [package.location])
    db.session.commit()
    login(client)
    url = f"/store/{package.location.code}/packages/{package.id}"
    assert "Print label" in client.get(url).get_data(as_text=True)  # packed: the label is offered

    cancel_order(package.order_id, {"reason": "customer"}, supervisor())
    db.session.commit()
    db.session.refresh(package)
    assert package.state == "cancelled"
    body = client.get(url).get_data(as_text=True)
    assert "Print label" not in body
    assert "/label.pdf" not in body and "/label.zpl" not in body
    assert "Cancelled: do not ship this package. Unpack it if it was packed" in body
    assert "Nothing to do here right now." not in body


def test_a_cancelled_parcel_in_turkish_says_the_same(app, client):
    package = make_package("cancelled", items=[("SKU-A", 1)])
    factories.user("ayse", "staff", [package.location])
    db.session.execute(db.text("UPDATE users SET language = 'tr' WHERE username = 'ayse'"))
    db.session.commit()
    login(client)
    body = client.get(f"/store/{package.location.code}/packages/{package.id}").get_data(as_text=True)
    assert "İptal edildi: bu paketi kargolamayın." in body
    assert "Etiketi yazdır" not in body
    assert "Nothing to do" not in body and "Şu anda burada yapılacak bir şey yok." not in body
