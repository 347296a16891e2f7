"""The order page for supervisors and admins: items, work orders, history and 'why this location',
and the order's own actions: plan now, cancel the order, cancel some units.

Each action is a real form (CSRF, htmx-enhanced, works without JavaScript) that calls one service:
`planning.plan_order` or `orders.cancel_order`. Cancelling asks first: the first post answers with
the question (nothing changes), the confirming post carries `confirm=1` and what the question
showed (`seen`), so a second tap or a colleague's change in between is never applied blindly.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from app.models import Order
from app.services import admin_queries, planning
from app.services import orders as orders_service
from app.services.errors import Conflict, Forbidden, ValidationFailed
from app.services.human_input import field_label, say
from app.services.said import text as said_text
from app.services.state_labels import item_state_label, state_label, trigger_label
from app.services.transitions import NOT_HOLDING_ITEM_STATES, SHIPPED_OR_LATER
from app.views import whole_number
from app.views.htmx import render, wants_fragment
from app.views.security import role_required
from app.views.store_packages import MISSING_REASONS
from app.views.supervisor import MANAGERS, bp, current_actor

MISSING_REASON_LABELS = dict(MISSING_REASONS)
# A package line's state: "cancelled with the package", not "open", once its package ended.
bp.add_app_template_filter(item_state_label, "item_state_label")
# An order in these statuses has nothing left to plan or to cancel.
FINISHED_ORDER_STATUSES = ("cancelled", "shipped", "delivered")
CHANGED_MEANWHILE = _l("This order changed meanwhile (another tab or a colleague): here it is as it is now.")
PLANNED_TEXT = {  # the planning outcome (services/planning/trace.py OUTCOME_TEXT), whole sentences
    "planned": _l("Order %(number)s was planned: Planned as one package."),
    "split": _l("Order %(number)s was planned: Split over several locations."),
    "transfer": _l("Order %(number)s was planned: Packed at one location; the missing units come by transfer."),
    "click_and_collect": _l("Order %(number)s was planned: Click & collect: packed at the pickup location."),
    "out_of_stock": _l("Order %(number)s was planned: No rule could supply the order: parked as out of stock at "
                       "the default location."),
    "no_scenario": _l("Order %(number)s was planned: No active scenario matches this order, so it was not planned."),
    "nothing_to_plan": _l("Order %(number)s was planned: Nothing was left to plan."),
    "on_hold": _l("Order %(number)s was planned: On hold: the order's source status is not accepted by "
                  "ORDER_FILTERING."),
}


# A history row's parameters by name, as people read them (other names through human_input's
# field labels, "some_name" -> "Some name").
PARAM_LABELS = {"error": _l("Error"), "version": _l("Version"), "tracking_number": _l("Tracking number"),
                "reason": _l("Reason"), "cargo_company": _l("Cargo company"),
                # an address change: what it was and what it is now
                "from": _l("Was"), "to": _l("Now"), "line": _l("Address line"), "postcode": _l("Postcode"),
                "country": _l("Country"),
                # the commands' own parameters (schemas/commands.py), as their history rows say them
                "assignments": _l("Planned at"), "items": _l("Items"), "lines": _l("Received"),
                "whole_package": _l("Whole package"), "trigger": _l("Why"), "barcode": _l("Barcode"),
                "boxes": _l("Boxes"), "unscanned": _l("Units not scanned"), "label_url": _l("Label link"),
                "tracking_url": _l("Tracking link"), "status": _l("Status"), "document_base64": _l("Document"),
                "quote": _l("Quote")}
# Never shown: a pickup code is the customer's secret.
HIDDEN_PARAMS = ("error_message", "otp")


@bp.app_template_filter("history_params")
def history_params(params: Any) -> list[tuple[str, str]]:
    """A history row's parameters as (name, value) in the reader's language, never raw key=value
    nor a raw dict or list: an error kept as a message too (`error_message`) is said in the
    reader's language; units as "2 × SKU" (`admin_queries.shown_params` puts the SKUs in)."""
    if not isinstance(params, dict):
        return []
    shown = []
    for name, value in params.items():
        if name in HIDDEN_PARAMS or value is None:
            continue
        if name == "error" and params.get("error_message"):
            value = said_text(params["error_message"]) or value
        elif name == "assignments" and isinstance(value, list):
            value = ", ".join(_assignment(a) for a in value)
        elif name == "items" and isinstance(value, list):
            value = ", ".join(_units(i) for i in value)
        elif name == "lines" and isinstance(value, list):
            value = "; ".join(_received(line) for line in value)
        elif name in ("trigger", "status") and isinstance(value, str):
            value = trigger_label(value) if name == "trigger" else state_label(value)
        elif name == "document_base64":
            value = _("attached")
        else:
            value = _value(value)
        shown.append((_param_label(name), str(value)))
    return shown


def _value(value: Any) -> str:
    """Any other value in words: a dict as "Name: value", a list one after another."""
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, dict):
        return ", ".join(f"{_param_label(k)}: {_value(v) if v not in (None, '') else '—'}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return " / ".join(_value(v) for v in value)
    return str(value)


def _units(line: Any) -> str:
    """`{"sku": "SKU-A", "quantity": 2, "reason": "not_found"}` -> "2 × SKU-A (Not found on the shelf)"."""
    if not isinstance(line, dict) or "sku" not in line:
        return _value(line)
    said = _("%(count)s × %(sku)s", count=line.get("quantity"), sku=line["sku"])
    reason = line.get("reason")
    if reason:
        said = _("%(units)s (%(reason)s)", units=said, reason=MISSING_REASON_LABELS.get(reason, reason))
    return said


def _assignment(assignment: Any) -> str:
    """A manual plan's assignment: "2 × SKU-A + 1 × SKU-B → IST-KDK"."""
    if not isinstance(assignment, dict):
        return _value(assignment)
    units = " + ".join(_units(u) for u in assignment.get("units") or [])
    return f"{units} → {assignment.get('location') or '—'}"


def _received(line: Any) -> str:
    """A transfer receiving's count of one SKU, with the damaged units and the note when given."""
    if not isinstance(line, dict) or "sku" not in line:
        return _value(line)
    if line.get("damaged"):
        said = _("%(sku)s: %(received)s arrived, %(damaged)s damaged", sku=line["sku"],
                 received=line.get("received"), damaged=line["damaged"])
    else:
        said = _("%(sku)s: %(received)s arrived", sku=line["sku"], received=line.get("received"))
    return f"{said} “{line['note']}”" if line.get("note") else said


def _param_label(name: str) -> str:
    label = PARAM_LABELS.get(name)
    return str(label) if label is not None else field_label(name)


@bp.get("/orders/")
@role_required(*MANAGERS)
def orders():
    number = (request.args.get("number") or "").strip()
    found = admin_queries.find_order(current_actor(), number) if number else []
    if len(found) == 1:
        return redirect(url_for("supervisor.order", order_id=found[0].id))
    return render("supervisor/orders.html", number=number, found=found)


@bp.get("/orders/<int:order_id>/")
@role_required(*MANAGERS)
def order(order_id: int):
    return _order_page(order_id)


def _order_page(order_id: int, *, status: int = 200, notice: dict | None = None, question: dict | None = None,
                errors: dict[str, str] | None = None, typed: dict[str, str] | None = None):
    view = admin_queries.order_view(current_actor(), order_id)
    order = view["order"]
    open_order = order.status not in FINISHED_ORDER_STATUSES
    cancellable = cancellable_units(order)
    # The whole order can be cancelled while none of it has shipped; after that, units only.
    nothing_shipped = all(cancellable[i.id] == i.quantity - i.cancelled_quantity for i in order.items)
    return render("supervisor/order.html", "supervisor/_order.html", status=status, **view,
                  can_plan=open_order, can_cancel=open_order, can_cancel_order=open_order and nothing_shipped,
                  cancellable=cancellable,
                  seen=fingerprint(order), notice=notice, question=question, errors=errors or {},
                  typed=typed or {})


def cancellable_units(order: Order) -> dict[int, int]:
    """Order item id -> units that can still be cancelled (not cancelled yet, not shipped)."""
    shipped: dict[int, int] = {}
    for package in order.packages:
        if package.state in SHIPPED_OR_LATER:
            for item in package.items:
                if item.state not in NOT_HOLDING_ITEM_STATES:
                    shipped[item.order_item_id] = shipped.get(item.order_item_id, 0) + item.quantity
    return {i.id: max(0, i.quantity - i.cancelled_quantity - shipped.get(i.id, 0)) for i in order.items}


def fingerprint(order: Order) -> str:
    """What a cancel question was asked about: the status and every item's cancelled units."""
    return order.status + ":" + ",".join(f"{i.id}-{i.cancelled_quantity}" for i in order.items)


def _done(order_id: int, message: str):
    """htmx: the order re-rendered with the message. Plain POST: flash + 303 back to the order."""
    if wants_fragment():
        return _order_page(order_id, notice={"text": message, "category": "ok"})
    flash(message, "ok")
    return redirect(url_for("supervisor.order", order_id=order_id), 303)


def _refused(order_id: int, message: str, status: int, **context: Any):
    return _order_page(order_id, status=status, notice={"text": message, "category": "error"}, **context)


@bp.post("/orders/<int:order_id>/plan")
@role_required(*MANAGERS)
def plan_order(order_id: int):
    actor = current_actor()
    number = admin_queries.order_view(actor, order_id)["order"].number  # 404 outside the actor's scope
    try:
        planning.plan_order(order_id, trigger="manual", actor=actor)
    except (Conflict, Forbidden) as exc:
        return _refused(order_id, exc.message, 409 if isinstance(exc, Conflict) else 403)
    traces = admin_queries.order_view(actor, order_id)["traces"]
    outcome = traces[-1][0].outcome if traces else ""
    return _done(order_id, str(PLANNED_TEXT.get(outcome, _l("Order %(number)s was planned: done."))) % {"number": number})


@bp.post("/orders/<int:order_id>/cancel")
@role_required(*MANAGERS)
def cancel_order(order_id: int):
    """Cancel the whole order: ask first, then cancel with the reason."""
    actor = current_actor()
    order = admin_queries.order_view(actor, order_id)["order"]
    if request.form.get("confirm") == "1" and request.form.get("seen") != fingerprint(order):
        return _refused(order_id, CHANGED_MEANWHILE, 409)
    reason = (request.form.get("reason") or "").strip()
    typed = {"reason": reason}
    if not reason:
        return _refused(order_id, _("Give a reason to cancel the order."), 422, typed=typed,
                        errors={"reason": _("Give a reason: the customer service team reads it.")})
    if len(reason) > 500:
        return _refused(order_id, _("The reason is too long."), 422, typed=typed,
                        errors={"reason": _("Keep the reason under 500 characters.")})
    if request.form.get("confirm") != "1":
        return _order_page(order_id, question={"kind": "order", "reason": reason}, typed=typed)
    try:
        orders_service.cancel_order(order_id, {"reason": reason}, actor)
    except (Conflict, Forbidden, ValidationFailed) as exc:
        return _refused(order_id, exc.message, 409 if isinstance(exc, Conflict) else 422, typed=typed)
    return _done(order_id, _("Order %(number)s is cancelled; its stock is released.", number=order.number))


@bp.post("/orders/<int:order_id>/cancel-units")
@role_required(*MANAGERS)
def cancel_units(order_id: int):
    """Cancel some units of some items: each field names how many units of one item to cancel."""
    actor = current_actor()
    order = admin_queries.order_view(actor, order_id)["order"]
    if request.form.get("confirm") == "1" and request.form.get("seen") != fingerprint(order):
        return _refused(order_id, CHANGED_MEANWHILE, 409)
    left = cancellable_units(order)
    reason = (request.form.get("reason") or "").strip()
    typed = {"units-reason": reason} | {f"units-{i.id}": (request.form.get(f"units-{i.id}") or "").strip()
                                         for i in order.items}
    errors: dict[str, str] = {}
    lines: list[dict[str, int]] = []
    for item in order.items:
        raw = typed[f"units-{item.id}"]
        if not raw or raw == "0":
            continue
        if whole_number(raw, 6) is None:
            errors[f"units-{item.id}"] = _("Enter a whole number of units, 0 to %(most)s.", most=left[item.id])
        elif int(raw) > left[item.id]:
            errors[f"units-{item.id}"] = orders_service.units_left_to_cancel(item.sku, left[item.id])
        else:
            lines.append({"item_id": item.id, "quantity": int(raw)})
    if len(reason) > 500:
        errors["units-reason"] = _("Keep the reason under 500 characters.")
    if not lines and not errors:
        errors["units"] = _("Enter how many units to cancel of at least one item.")
    if errors:
        return _refused(order_id, _("Check the units to cancel."), 422, errors=errors, typed=typed)
    if request.form.get("confirm") != "1":
        by_id = {i.id: i for i in order.items}
        what = ", ".join(f"{line['quantity']} × {by_id[line['item_id']].sku}" for line in lines)
        return _order_page(order_id, question={"kind": "units", "what": what, "lines": lines, "reason": reason},
                           typed=typed)
    try:
        orders_service.cancel_order(order_id, {"items": lines, "reason": reason or None}, actor)
    except ValidationFailed as exc:
        return _refused(order_id, _("Check the units to cancel."), 422, errors=_fields(exc.details, lines),
                        typed=typed)
    except Conflict as exc:
        item_id = (exc.details or {}).get("item_id")
        return _refused(order_id, exc.message, 409, typed=typed,
                        errors={f"units-{item_id}": exc.message} if item_id else None)
    except Forbidden as exc:
        return _refused(order_id, exc.message, 403)
    count = sum(line["quantity"] for line in lines)
    return _done(order_id, ngettext("%(num)s unit of order %(number)s is cancelled; its stock is released.",
                                    "%(num)s units of order %(number)s are cancelled; their stock is released.",
                                    count, number=order.number))


def _fields(details: dict[str, Any] | None, lines: list[dict[str, int]]) -> dict[str, str]:
    """The service's problems ("items.0.quantity": ...) next to the form's fields ("units-<item id>"),
    in plain words; the reason's on the reason field, anything else above the items."""
    fields: dict[str, str] = {}
    for key, message in (details or {}).items():
        parts = str(key).split(".")
        if parts[0] == "items" and len(parts) > 1 and parts[1].isdigit() and int(parts[1]) < len(lines):
            name = f"units-{lines[int(parts[1])]['item_id']}"
        else:
            name = "units-reason" if parts[0] == "reason" else "units"
        fields.setdefault(name, str(say(message, str(key))))
    return fields
