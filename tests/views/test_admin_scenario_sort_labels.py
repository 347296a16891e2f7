"""The scenario editor's hidden labels for a sort row name what the two lists are — the key and its
direction — in one sentence each: never "Order 1" ("Sipariş 1", a customer's order, in Turkish)."""

from __future__ import annotations

from app.extensions import db
from tests import factories
from tests.views.test_auth import login


def test_the_sort_rows_labels_say_key_and_direction_in_turkish(app, client):
    factories.location("WH-01")
    factories.user("root", "admin")
    db.session.commit()
    db.session.execute(db.text("UPDATE users SET language = 'tr' WHERE username = 'root'"))
    db.session.commit()
    login(client, "root")
    page = client.get("/admin/scenarios/new").get_data(as_text=True)
    assert 'class="sr-only">Sıralama ölçütü 1</label>' in page
    assert 'class="sr-only">Sıralama yönü 1</label>' in page
    assert "Sipariş 1<" not in page
