"""The order page's history says what each command was given in the reader's language: a manual
plan as "2 × SKU → location", a refusal's reason as its title, missing units and a transfer's
count as units of a SKU — never a raw dict, list or code."""

from __future__ import annotations

from app.extensions import db
from app.models import Transfer
from app.services.demo import DENIAL_REASONS
from app.services.packages import run_package_command
from app.services.transfers import run_transfer_command
from tests import factories
from tests.services.builders import get_product, make_package, make_transfer, set_stock, supervisor
from tests.views.test_auth import login


def _history(client, order_id: int, language: str = "en") -> str:
    db.session.execute(db.text("UPDATE users SET language = :l WHERE username = 'sup'"), {"l": language})
    db.session.commit()
    body = client.get(f"/supervisor/orders/{order_id}/").get_data(as_text=True)
    marker = "<h2>Geçmiş</h2>" if language == "tr" else "<h2>History</h2>"
    return body.split(marker)[1].split("</table>")[0]


def _sup(client):
    factories.user("sup", "supervisor")
    db.session.commit()
    login(client, "sup")


def _raw(history: str) -> bool:
    return any(mark in history for mark in ("{", "[", "item_id", "&#39;", "not_found", "_"))


def test_a_manual_plan_reads_as_units_going_to_a_location(app, client):
    home = factories.location("WH-01")
    store = factories.location("IST-KDK")
    package = make_package("out_of_stock", location=home, items=[("BELT-BLA-85", 2), ("SKU-B", 1)], spare=0)
    set_stock(store, get_product("BELT-BLA-85"), 5)
    set_stock(home, get_product("SKU-B"), 1)
    db.session.commit()
    belt, other = package.items
    run_package_command(package.id, "manual_plan", {"assignments": [
        {"items": [{"item_id": belt.id, "quantity": 2}], "location": "IST-KDK"},
        {"item_ids": [other.id], "location": "WH-01"}]}, supervisor())
    _sup(client)
    english = _history(client, package.order_id)
    assert "Planned at: 2 × BELT-BLA-85 → IST-KDK, 1 × SKU-B → WH-01" in english
    assert not _raw(english), english
    turkish = _history(client, package.order_id, "tr")
    assert "2 × BELT-BLA-85 → IST-KDK" in turkish and "Assignments" not in turkish
    assert not _raw(turkish), turkish


def _refused_package():
    """A package refused as "not_found", with the demo's denial reasons (their titles are catalogue sentences)."""
    for code, title, priority in DENIAL_REASONS:
        factories.denial_reason(code, title=title, priority=priority)
    package = make_package("waiting")
    db.session.commit()
    run_package_command(package.id, "refuse", {"reason": "not_found"}, supervisor())
    return package


def test_a_refusal_says_the_denial_reasons_title_in_the_readers_language(app, client):
    package = _refused_package()
    _sup(client)
    english = _history(client, package.order_id)
    assert "Reason: Item not found in the store" in english and "not_found" not in english
    turkish = _history(client, package.order_id, "tr")
    assert "Ürün mağazada bulunamadı" in turkish and "not_found" not in turkish


def test_missing_units_read_as_units_of_a_sku_with_the_reason(app, client):
    package = make_package("preparing", items=[("SKU-A", 3)])
    item = package.items[0]
    run_package_command(package.id, "report_missing", {"items": [{"item_id": item.id, "quantity": 2,
                                                                  "reason": "not_found"}]}, supervisor())
    _sup(client)
    english = _history(client, package.order_id)
    assert "Items: 2 × SKU-A (Not found on the shelf)" in english
    assert not _raw(english), english


def test_a_transfers_count_reads_per_sku(app, client):
    transfer = make_transfer([("SKU-A", 2)], state="in_transit")
    run_transfer_command(transfer.id, "receive", {"lines": [{"sku": "SKU-A", "received": 2, "damaged": 1,
                                                             "note": "box crushed"}]}, supervisor())
    _sup(client)
    english = _history(client, db.session.get(Transfer, transfer.id).package.order_id)
    assert "Received: SKU-A: 2 arrived, 1 damaged “box crushed”" in english
    assert not _raw(english), english


def test_the_titles_of_many_refusals_are_read_in_one_statement(app, client):
    from app.models import TransitionLog
    from tests.statements import database_work

    package = _refused_package()
    for reason in ("damaged", "not_found", "damaged"):  # the same package refused again, as a long day goes
        db.session.add(TransitionLog(entity_type="package", entity_id=package.id, from_state="waiting",
                                     to_state="waiting", command="refuse", params={"reason": reason}, actor="user:x"))
    db.session.commit()
    _sup(client)
    with database_work() as seen:
        english = _history(client, package.order_id)
    assert english.count("Reason: Item not found in the store") == 2 and "not_found" not in english
    assert sum("FROM denial_reasons" in s for s in seen["statements"]) == 1, seen["statements"]
