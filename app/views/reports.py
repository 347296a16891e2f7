"""Reports for supervisors and admins: the order explorer and its bulk actions, CSV exports (streamed,
or a background run with a progress bar when large), the stock ledger explorer and stock at a past
moment (reports_ledger.py) and, for admins, the audit log (reports_audit.py).

Every page reads its filters with `services.listing` (bad input is named on the page with a 422,
never a 500) and pages with keysets (`?after=`); a supervisor limited to some locations sees
only theirs. Exports take the very parameters of the page they were started from.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlencode

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.services import export_runs, listing
from app.services import order_explorer as explorer
from app.services.actors import Actor
from app.services.errors import Forbidden, NotFound
from app.services.exports import csv_response, text_response
from app.views.htmx import render
from app.views.security import role_required

bp = Blueprint("reports", __name__, url_prefix="/reports")
MANAGERS = ("supervisor", "admin")
MAX_REASON = 500
# The page that shows an export's filter problems: the list it was started from.
LIST_PAGES: dict[str, Callable[[Actor, listing.Problems], Any]] = {}


@bp.before_request
def managers_only():
    # A safety net under the per-route decorators: nothing here is for staff.
    return role_required(*MANAGERS)(lambda: None)()


def current_actor() -> Actor:
    return Actor.for_user(current_user)


# ------------------------------------------------------------------------------------ order explorer

def _explorer(actor: Actor, earlier: listing.Problems | None = None):
    problems = earlier or listing.Problems()
    filters = explorer.read_filters(request.args, actor, problems)
    size = listing.page_size(request.args, problems)
    cursor = listing.decode_cursor(request.args.get("after"), explorer.CURSOR_KINDS, problems)
    page = None if problems else explorer.page(actor, filters, cursor, size)
    return render("reports/orders.html", "reports/_orders_table.html", status=422 if problems else 200,
                  filters=filters, size=size, results=page, problems=problems.found, paged=cursor is not None,
                  **explorer.choices(actor))


@bp.get("/orders/")
@role_required(*MANAGERS)
def orders():
    return _explorer(current_actor())


LIST_PAGES.update(orders=_explorer, packages=_explorer)


@bp.get("/<what>.csv")
@role_required(*MANAGERS)
def export(what: str):
    """The CSV of a list with the page's filters: streamed now, or a background run when large."""
    actor = current_actor()
    try:
        export_kind = export_runs.kind_for(what, actor)
    except NotFound:
        abort(404)
    except Forbidden:
        abort(403)
    problems = listing.Problems()
    filters = export_kind.read(request.args, actor, problems)
    if problems:
        return _refused_export(what, problems)
    args = {k: v for k, v in request.args.items() if k not in ("after", "size")}
    if export_kind.count(actor, filters) > export_runs.stream_limit():
        run = export_runs.start_export(export_kind, args, actor)
        return redirect(url_for("reports.export_run", run_id=run.id), 303)
    return csv_response(f"{export_kind.filename}.csv", export_kind.header, export_kind.rows(actor, filters))


def _refused_export(kind: str, problems: listing.Problems):
    return LIST_PAGES.get(kind, _explorer)(current_actor(), problems)


@bp.get("/exports/<int:run_id>/")
@role_required(*MANAGERS)
def export_run(run_id: int):
    run = export_runs.get_run(run_id, current_actor())
    return render("reports/export.html", "reports/_export_progress.html", run=run)


@bp.get("/exports/<int:run_id>/file")
@role_required(*MANAGERS)
def export_file(run_id: int):
    run = export_runs.get_run(run_id, current_actor())
    if run.status != "finished":
        flash(_("The export is not finished yet."), "error")
        return redirect(url_for("reports.export_run", run_id=run_id), 303)
    kind = export_runs.KINDS[run.kind]
    return text_response(f"{kind.filename}-{run.id}.csv", export_runs.file_blocks(run))


# ------------------------------------------------------------------------------------ bulk actions

def _fingerprint(orders) -> str:
    return ",".join(f"{o.id}:{o.status}" for o in orders)


@bp.post("/orders/bulk")
@role_required(*MANAGERS)
def bulk():
    """Ask first (the selected orders and what will happen to them), then run the action on each."""
    actor = current_actor()
    action = request.form.get("action") or ""
    reason = (request.form.get("reason") or "").strip()
    # The explorer's filters to return to, re-encoded: whatever was posted, the redirect is a plain URL.
    back_args = urlencode(parse_qsl((request.form.get("back") or "")[:2000]))
    back = url_for("reports.orders") + ("?" + back_args if back_args else "")
    if action not in explorer.BULK_ACTIONS:
        flash(_("Choose what to do with the selected orders."), "error")
        return redirect(back, 303)
    orders, problem = explorer.selection(actor, request.form.getlist("order"))
    if problem:
        flash(problem, "error")
        return redirect(back, 303)
    if not orders:
        flash(_("None of the selected orders is yours to change."), "error")
        return redirect(back, 303)
    errors = {}
    if action in ("block", "cancel") and not reason:
        errors["reason"] = _("Give a reason: the store and the customer service team read it.")
    elif len(reason) > MAX_REASON:
        errors["reason"] = _("Keep the reason under %(max)s characters.", max=MAX_REASON)
    seen = _fingerprint(orders)
    changed = request.form.get("confirm") == "1" and request.form.get("seen") != seen
    if errors or changed or request.form.get("confirm") != "1":
        return render("reports/bulk_confirm.html", status=422 if errors else (409 if changed else 200),
                      action=action, orders=orders, reason=reason, errors=errors, seen=seen, back=back,
                      back_args=back_args, changed=changed)
    outcomes = explorer.run_bulk(actor, action, [(o.id, o.number) for o in orders], reason)
    done = [o for o in outcomes if o.ok]
    flash(_("%(done)s of %(count)s orders done.", done=len(done), count=len(outcomes)), "ok" if done else "error")
    for outcome in outcomes:
        if not outcome.ok:
            flash(_("Order %(number)s: %(message)s", number=outcome.number, message=outcome.message), "error")
    return redirect(back, 303)


from app.views import reports_audit, reports_ledger  # noqa: E402, F401
