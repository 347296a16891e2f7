"""Store transfer screens: Expected (incoming) and Dispatch (outgoing) lists, transfer page, commands."""

from __future__ import annotations

from typing import Any

from flask import abort, request, url_for
from flask_login import login_required

from app.models import StockLocation, Transfer
from app.services import queues_store
from app.services.errors import Conflict, ServiceError
from app.services.pagination import PageArgs
from app.services.transfers import run_transfer_command
from app.services.transitions import TRANSFER_TRANSITIONS, allowed_transfer_commands
from app.views.htmx import render
from app.views.store import (
    after_command,
    bp,
    current_actor,
    error_message,
    form_version,
    location_or_404,
)
from app.views.store_actions import Submitted, build_actions, params_from_form

# Which side of a transfer does the work: the sender packs and dispatches, the receiver receives.
SENDER_COMMANDS = ("ready_for_dispatch", "dispatch", "report_missing", "out_of_stock")
RECEIVER_COMMANDS = ("receive",)
DIRECTIONS = (("expected", "Expected"), ("dispatch", "Dispatch"))


def transfer_or_404(location: StockLocation, transfer_id: int) -> Transfer:
    transfer = queues_store.transfer_at(location.id, transfer_id)
    if transfer is None:
        abort(404)
    return transfer


def other_side_commands(location: StockLocation, transfer: Transfer) -> tuple[str, ...]:
    """Commands that belong to the other store of this transfer."""
    return RECEIVER_COMMANDS if transfer.source_id == location.id else SENDER_COMMANDS


def transfer_context(location: StockLocation, transfer: Transfer, submitted: Submitted | None = None) -> dict[str, Any]:
    hidden = other_side_commands(location, transfer)
    allowed = [c for c in allowed_transfer_commands(transfer.state, manager=current_actor().is_manager) if c not in hidden]
    return {
        "location": location,
        "transfer": transfer,
        "outgoing": transfer.source_id == location.id,
        "actions": build_actions(TRANSFER_TRANSITIONS, allowed, submitted=submitted),
        "can_report_missing": "report_missing" in allowed,
    }


@bp.get("/<code>/transfers")
@login_required
def transfers(code: str):
    location = location_or_404(code)
    direction = request.args.get("direction", "expected")
    direction = direction if direction in queues_store.TRANSFER_DIRECTIONS else "expected"
    listing = queues_store.transfer_list(location.id, direction,
                                         PageArgs.lenient(request.args, queues_store.PAGE_SIZE))
    return render("store/transfers/list.html", "store/transfers/_list.html", location=location,
                  direction=direction, directions=DIRECTIONS, listing=listing,
                  counts=queues_store.transfer_counts(location.id))


@bp.get("/<code>/transfers/<int:transfer_id>")
@login_required
def transfer(code: str, transfer_id: int):
    location = location_or_404(code)
    return render("store/transfers/transfer.html", "store/transfers/_transfer.html",
                  **transfer_context(location, transfer_or_404(location, transfer_id)))


def _finish(location: StockLocation, transfer_id: int, message: str, category: str, status: int = 200,
            submitted: Submitted | None = None):
    transfer = transfer_or_404(location, transfer_id)
    back = url_for("store.transfer", code=location.code, transfer_id=transfer.id)
    return after_command(back, message, category, "store/transfers/transfer.html", "store/transfers/_transfer.html",
                         status=status, **transfer_context(location, transfer, submitted))


def _run(location: StockLocation, transfer: Transfer, command: str, params: dict[str, Any]):
    try:
        if command in other_side_commands(location, transfer):
            raise Conflict("The other store does this step for this transfer.", code="other_side")
        run_transfer_command(transfer.id, command, params, current_actor(), expected_version=form_version())
    except ServiceError as exc:
        if exc.code == "stale":
            return _finish(location, transfer.id, error_message(exc), "info")
        return _finish(location, transfer.id, error_message(exc), "error", exc.status,
                       Submitted(command, request.form, exc.details or {}))
    label = TRANSFER_TRANSITIONS[command].label.lower() if command in TRANSFER_TRANSITIONS else command
    return _finish(location, transfer.id, f"Done: {label}.", "success")


@bp.post("/<code>/transfers/<int:transfer_id>/commands/<command>")
@login_required
def transfer_command(code: str, transfer_id: int, command: str):
    location = location_or_404(code)
    transfer = transfer_or_404(location, transfer_id)
    transition = TRANSFER_TRANSITIONS.get(command)
    params = params_from_form(transition, request.form) if transition and command != "report_missing" else {}
    if command == "report_missing":
        params = {"items": [
            {"item_id": item.id, "quantity": int(raw) if raw.isdigit() else raw}
            for item in transfer.items
            if (raw := request.form.get(f"quantity-{item.id}", "").strip()) and raw != "0"
        ]}
    return _run(location, transfer, command, params)
