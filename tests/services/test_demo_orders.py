"""First run: the demo brand comes with orders, placed through the real services, so a new staff
user at IST-KDK sees work in every tab; seeding stays fast and changes nothing the second time."""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.models import Order, Package, StockLocation, Transfer, TransitionLog
from app.services import queues_store
from app.services.demo import seed_demo
from app.services.order_status import derive_order_status
from tests.services.builders import row_counts


def _location(code: str) -> StockLocation:
    return db.session.scalar(select(StockLocation).where(StockLocation.code == code))


def test_a_new_staff_user_at_kadikoy_finds_work_in_every_tab(app):
    created = seed_demo()
    assert created["orders"] >= 12

    kdk = _location("IST-KDK")
    tabs = queues_store.tab_counts(kdk.id)
    assert {tab: n for tab, n in tabs.items() if not n} == {"out_of_stock": 0}  # parked at the warehouse
    assert queues_store.tab_counts(_location("WH-IST").id)["out_of_stock"] >= 1
    incoming = db.session.scalars(select(Transfer).where(Transfer.destination_id == kdk.id)).all()
    outgoing = db.session.scalars(select(Transfer).where(Transfer.source_id == kdk.id)).all()
    assert [t.state for t in incoming] == ["in_transit"]  # to receive
    assert [t.state for t in outgoing] == ["waiting"]  # to send
    assert queues_store.transfer_counts(kdk.id)


def test_demo_work_was_made_by_the_services_so_states_and_history_agree(app):
    seed_demo()
    for order in db.session.scalars(select(Order)):
        assert order.status == derive_order_status(order), order.number
    preparing = db.session.scalar(select(Package).where(Package.state == "preparing"))
    actors = set(db.session.scalars(select(TransitionLog.actor).where(TransitionLog.entity_type == "package",
                                                                      TransitionLog.entity_id == preparing.id)))
    assert "user:staff-ist-kdk" in actors
    assert sum(i.picked_quantity for i in preparing.items) == 1
    # every reservation of an open package is backed by stock
    assert db.session.scalar(select(func.count()).select_from(Package).where(Package.state == "waiting")) >= 3


def test_seeding_the_demo_again_changes_nothing(app):
    seed_demo()
    before = row_counts()
    again = seed_demo()
    assert again["orders"] == 0 and row_counts() == before
