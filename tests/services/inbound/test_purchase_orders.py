"""Purchase orders: creation, the lifecycle table (every allowed and every refused move), drafts
are the only editable ones, and every move is logged with an event."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import OutboxEvent, PurchaseOrder, TransitionLog
from app.models.inbound import PURCHASE_ORDER_STATES
from app.services.errors import Conflict, Forbidden, NotFound, ValidationFailed
from app.services.inbound.purchase_orders import create_purchase_order, run_purchase_order_command
from app.services.transitions import PURCHASE_ORDER_TRANSITIONS, RECEIPT
from tests import factories
from tests.services.inbound.helpers import SUPERVISOR, purchase_order, staff_of, warehouse_tea_mug

PARAMS = {"edit": None, "send": {}, "confirm": {"expected_at": "2026-12-20T09:00:00Z"}, "mark_in_transit": {},
          "close_short": {"reason": "Supplier ran out"}, "cancel": {"reason": "Ordered by mistake"}}


def _body(**kw) -> dict:
    body = {"number": "PO-100", "supplier": "ACME", "destination": "WH-01", "expected_at": "2026-12-15T10:00:00+03:00",
            "lines": [{"sku": "TEA", "quantity": 10, "unit_cost": "2.50"}, {"sku": "MUG", "quantity": 4}]}
    body.update(kw)
    return body


@pytest.fixture
def setup(app):
    return warehouse_tea_mug()


def test_a_purchase_order_is_created_as_a_draft_with_its_lines_logged_and_announced(setup):
    po = create_purchase_order(_body(), SUPERVISOR)
    assert po.state == "draft"
    assert [(line.product.sku, line.quantity, line.received, line.damaged, str(line.unit_cost) if line.unit_cost else None)
            for line in po.lines] == [("TEA", 10, 0, 0, "2.50"), ("MUG", 4, 0, 0, None)]
    assert po.expected_at.isoformat() == "2026-12-15T07:00:00"  # stored in UTC
    assert db.session.scalar(select(OutboxEvent.type).where(OutboxEvent.aggregate_id == po.id)) == "purchase_order.created"


@pytest.mark.parametrize(("change", "field"), [
    ({"supplier": "NOPE"}, "supplier"), ({"destination": "NOPE"}, "destination"),
    ({"lines": [{"sku": "GHOST", "quantity": 1}]}, "lines.0.sku"),
    ({"lines": [{"sku": "TEA", "quantity": 0}]}, "lines.0.quantity"),
    ({"lines": [{"sku": "TEA", "quantity": -3}]}, "lines.0.quantity"),
    ({"lines": [{"sku": "TEA", "quantity": 1, "unit_cost": "-1"}]}, "lines.0.unit_cost"),
    ({"lines": []}, "lines"),
])
def test_bad_purchase_orders_are_refused_naming_the_field_and_nothing_is_saved(setup, change, field):
    with pytest.raises(ValidationFailed) as exc:
        create_purchase_order(_body(**change), SUPERVISOR)
    assert any(key.startswith(field) for key in exc.value.details), exc.value.details
    assert db.session.scalar(select(PurchaseOrder.id)) is None


def test_a_taken_number_is_a_conflict_and_staff_cannot_create(setup):
    wh = setup[0]
    create_purchase_order(_body(), SUPERVISOR)
    with pytest.raises(Conflict):
        create_purchase_order(_body(), SUPERVISOR)
    with pytest.raises(Forbidden):
        create_purchase_order(_body(number="PO-101"), staff_of(wh))


ALLOWED = [(c, s) for c, t in PURCHASE_ORDER_TRANSITIONS.items() for s in t.sources if c not in ("receive", "edit")]


@pytest.mark.parametrize(("command", "state"), ALLOWED)
def test_every_allowed_move_reaches_its_target_with_a_log_row_and_an_event(setup, command, state):
    wh, tea, _ = setup
    po = purchase_order(wh, [(tea, 5)], state=state)
    moved = run_purchase_order_command(po.id, command, PARAMS[command], SUPERVISOR)
    target = PURCHASE_ORDER_TRANSITIONS[command].target
    assert moved.state == target
    log = db.session.scalars(select(TransitionLog).where(TransitionLog.entity_type == "purchase_order")).all()
    assert [(r.from_state, r.to_state, r.command) for r in log] == [(state, target, command)]
    event = db.session.scalars(select(OutboxEvent).where(OutboxEvent.aggregate_id == po.id)).one()
    assert (event.type, event.previous, event.data["state"]) == ("purchase_order.state_changed", {"state": state}, target)


@pytest.mark.parametrize("command", list(PURCHASE_ORDER_TRANSITIONS))
def test_every_refused_move_is_a_conflict_naming_the_state_and_changes_nothing(setup, command):
    wh, tea, _ = setup
    for state in [s for s in PURCHASE_ORDER_STATES if s not in PURCHASE_ORDER_TRANSITIONS[command].sources]:
        po = purchase_order(wh, [(tea, 5)], state=state)
        params = {"lines": [{"sku": "TEA", "quantity": 1}]} if command == "receive" else PARAMS[command]
        if command == "edit":
            params = _body(number=po.number)
        with pytest.raises(Conflict) as exc:
            run_purchase_order_command(po.id, command, params, SUPERVISOR)
        assert exc.value.code == "command_not_allowed"
        assert exc.value.details["state"] == state
        db.session.expire_all()
        assert db.session.get(PurchaseOrder, po.id).state == state
        assert db.session.get(PurchaseOrder, po.id).lines[0].received == 0
    assert RECEIPT == PURCHASE_ORDER_TRANSITIONS["receive"].target


def test_only_a_draft_is_edited_and_its_number_never_changes(setup):
    po = create_purchase_order(_body(), SUPERVISOR)
    edited = run_purchase_order_command(po.id, "edit", _body(lines=[{"sku": "MUG", "quantity": 9}]), SUPERVISOR)
    assert [(line.product.sku, line.quantity) for line in edited.lines] == [("MUG", 9)]
    with pytest.raises(ValidationFailed):
        run_purchase_order_command(po.id, "edit", _body(number="PO-999"), SUPERVISOR)
    run_purchase_order_command(po.id, "send", {}, SUPERVISOR)
    with pytest.raises(Conflict):
        run_purchase_order_command(po.id, "edit", _body(), SUPERVISOR)


def test_close_short_needs_a_reason_and_staff_run_only_receive(setup):
    wh, tea, _ = setup
    po = purchase_order(wh, [(tea, 5)], state="partially_received")
    with pytest.raises(ValidationFailed):
        run_purchase_order_command(po.id, "close_short", {}, SUPERVISOR)
    with pytest.raises(Forbidden):
        run_purchase_order_command(po.id, "close_short", {"reason": "enough"}, staff_of(wh))
    assert run_purchase_order_command(po.id, "close_short", {"reason": "enough"}, SUPERVISOR).close_reason == "enough"


def test_another_locations_staff_cannot_see_the_purchase_order_and_unknown_commands_are_404(setup):
    wh, tea, _ = setup
    other = factories.location("IST-09")
    po = purchase_order(wh, [(tea, 5)], state="sent")
    with pytest.raises(NotFound):
        run_purchase_order_command(po.id, "receive", {"lines": [{"sku": "TEA", "quantity": 1}]}, staff_of(other))
    with pytest.raises(NotFound):
        run_purchase_order_command(po.id, "teleport", {}, SUPERVISOR)


def test_a_stale_version_is_refused(setup):
    wh, tea, _ = setup
    po = purchase_order(wh, [(tea, 5)], state="sent")
    with pytest.raises(Conflict) as exc:
        run_purchase_order_command(po.id, "confirm", {}, SUPERVISOR, expected_version=po.version + 1)
    assert exc.value.code == "stale"
