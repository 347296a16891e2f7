"""The requisition job proposes what to order from reorder points and from parked out-of-stock
demand no inbound covers; a supervisor turns it into a quote and the quote into a purchase order."""

from __future__ import annotations

import pytest
from rq import Queue, SimpleWorker
from sqlalchemy import func, select

import app.tasks.inbound  # noqa: F401  (registers its periodic job, as the worker does at start)
from app.extensions import db
from app.models import Package, PurchaseOrder, Quote, Requisition
from app.queues import enqueue, redis_connection
from app.services.db import committed
from app.services.errors import Conflict, ValidationFailed
from app.services.inbound.requisitions import (
    accept_quote,
    propose_requisitions,
    quote_requisition,
    set_reorder_point,
)
from app.services.planning import plan_order
from app.worker import PERIODIC
from tests import factories
from tests.services.inbound.helpers import SUPERVISOR, purchase_order, supplier, warehouse
from tests.services.planning.network import order, scenario


def _lines() -> dict[str, dict[str, tuple[int, str]]]:
    db.session.expire_all()
    return {r.location.code: {line.product.sku: (line.quantity, line.reason) for line in r.lines}
            for r in db.session.scalars(select(Requisition).where(Requisition.state == "open"))}


@pytest.fixture
def wh_tea(app):
    wh = warehouse()
    tea = factories.product("TEA")
    supplier()
    db.session.commit()
    return wh, tea


def test_the_scheduled_job_proposes_a_line_when_stock_plus_inbound_falls_below_the_reorder_point(wh_tea):
    wh, tea = wh_tea
    factories.stock(wh, tea, 3)
    committed(set_reorder_point, {"location": "WH-01", "sku": "TEA", "reorder_point": 10, "reorder_quantity": 24,
                                  "supplier": "ACME"}, SUPERVISOR)
    assert any(p.func == "app.tasks.inbound.propose_requisitions" for p in PERIODIC)

    enqueue("default", "app.tasks.inbound.propose_requisitions")
    conn = redis_connection()
    SimpleWorker([Queue("default", connection=conn)], connection=conn).work(burst=True)

    assert _lines() == {"WH-01": {"TEA": (24, "reorder_point")}}
    committed(propose_requisitions)  # again: already requested, nothing added
    assert _lines() == {"WH-01": {"TEA": (24, "reorder_point")}}


def test_open_inbound_counts_as_cover(wh_tea):
    wh, tea = wh_tea
    factories.stock(wh, tea, 3)
    purchase_order(wh, [(tea, 8)], state="confirmed")
    committed(set_reorder_point, {"location": "WH-01", "sku": "TEA", "reorder_point": 10, "reorder_quantity": 5},
              SUPERVISOR)
    committed(propose_requisitions)
    assert _lines() == {}


def test_parked_out_of_stock_demand_no_inbound_covers_is_proposed(wh_tea):
    wh, tea = wh_tea
    scenario(wh, [{}])
    db.session.commit()
    for qty in (3, 2):
        plan_order(order([(tea, qty)]).id)
    assert {p.state for p in db.session.scalars(select(Package))} == {"out_of_stock"}
    purchase_order(wh, [(tea, 1)], state="sent")

    committed(propose_requisitions)

    assert _lines() == {"WH-01": {"TEA": (4, "out_of_stock")}}


def test_a_requisition_becomes_a_quote_and_the_quote_a_draft_purchase_order(wh_tea):
    wh, tea = wh_tea
    committed(set_reorder_point, {"location": "WH-01", "sku": "TEA", "reorder_point": 5, "reorder_quantity": 12},
              SUPERVISOR)
    committed(propose_requisitions)
    requisition = db.session.scalars(select(Requisition)).one()
    with pytest.raises(ValidationFailed):
        committed(quote_requisition, requisition.id, {"supplier": "NOPE", "lines": [{"sku": "TEA", "quantity": 1}]},
                  SUPERVISOR)

    quote = committed(quote_requisition, requisition.id, {"supplier": "ACME", "lead_time_days": 10,
                                                          "lines": [{"sku": "TEA", "quantity": 12, "unit_price": "3.10"}]},
                      SUPERVISOR)
    po = committed(accept_quote, quote.id, SUPERVISOR)

    po = db.session.get(PurchaseOrder, po.id)
    assert (po.state, po.supplier.code, po.destination.code) == ("draft", "ACME", "WH-01")
    assert [(line.product.sku, line.quantity, str(line.unit_cost)) for line in po.lines] == [("TEA", 12, "3.10")]
    assert (db.session.get(Quote, quote.id).state, db.session.get(Requisition, requisition.id).state) == (
        "accepted", "ordered")
    with pytest.raises(Conflict):
        committed(accept_quote, quote.id, SUPERVISOR)


def test_propose_now_adds_to_the_jobs_open_list_instead_of_opening_a_second(wh_tea):
    wh, tea = wh_tea
    scenario(wh, [{}])
    db.session.commit()
    plan_order(order([(tea, 2)]).id)
    committed(propose_requisitions)  # the scheduled job
    plan_order(order([(tea, 3)]).id)  # more demand parks meanwhile
    committed(propose_requisitions, "user:supervisor")  # a supervisor presses "Propose now"
    assert db.session.scalar(select(func.count()).select_from(Requisition)) == 1
    assert _lines() == {"WH-01": {"TEA": (5, "out_of_stock")}}
    committed(propose_requisitions, "user:supervisor")
    assert _lines() == {"WH-01": {"TEA": (5, "out_of_stock")}}
