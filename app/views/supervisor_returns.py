"""Supervisor screens for customer returns (SPEC §14, docs/inbound.md): the list, filtered by
state, location, channel, where the return came from, the day it was opened and a text search
(return number, order number, customer name — Turkish-aware, `services/text_search.py`); and one
return with its items, reasons, inspection outcome, state log and the stock ledger rows it wrote.

Returns are received and inspected on the store's receiving screen, and created at a counter, by
the API, by a channel or by a failed delivery; here a supervisor can cancel one that will not come
back (the customer kept the goods), with a reason — the same `cancel` command as the API's.
Scoped to the supervisor's locations: another location's return is a 404.
"""

from __future__ import annotations

from flask import abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.extensions import db
from app.forms.supervisor import ReasonForm
from app.models import Channel
from app.models.returns import RETURN_SOURCES, RETURN_STATES
from app.services import admin_queries, listing
from app.services.errors import Conflict, NotFound, ValidationFailed
from app.services.pagination import paginate
from app.services.returns import run_return_command
from app.services.returns.browse import ReturnFilters, ledger_rows, returns_query, state_log, visible_return
from app.services.returns.states import allowed_return_commands
from app.views.htmx import render
from app.views.security import role_required
from app.views.supervisor import MANAGERS, bp, current_actor, page_arg

# Where a return came from, in the words a supervisor reads.
SOURCE_LABELS = {"counter": _l("Store counter"), "api": _l("API (shop or ERP)"), "channel": _l("Sales channel"),
                 "delivery_failed": _l("Failed delivery coming back")}
LEDGER_REASONS = {"return_restock": _l("Back on the shelf"), "write_off": _l("Written off")}
assert set(SOURCE_LABELS) == set(RETURN_SOURCES)


@bp.get("/returns/")
@role_required(*MANAGERS)
def returns():
    actor = current_actor()
    problems = listing.Problems()
    args = request.args
    locations = admin_queries.visible_locations(actor, active_only=False)
    channels = list(db.session.scalars(select(Channel).order_by(Channel.code)))
    state = listing.choice(args, "state", RETURN_STATES, problems)
    source = listing.choice(args, "source", RETURN_SOURCES, problems)
    location_code = listing.choice(args, "location", [loc.code for loc in locations], problems)
    channel_code = listing.choice(args, "channel", [c.code for c in channels], problems)
    first, last = listing.date_range(args, problems)
    start, end = listing.utc_bounds(first, last)
    text = listing.text(args, "q", problems)
    filters = ReturnFilters(
        state=state, source=source, text=text, start=start, end=end,
        location_id=next((loc.id for loc in locations if loc.code == location_code), None),
        channel_id=next((c.id for c in channels if c.code == channel_code), None))
    page = None if problems else paginate(returns_query(actor, filters), page_arg())
    return render("supervisor/returns/list.html", status=422 if problems else 200, results=page,
                  problems=problems.found, states=RETURN_STATES, sources=SOURCE_LABELS, locations=locations,
                  channels=channels, typed=args)


def _visible(return_id: int):
    try:
        return visible_return(current_actor(), return_id)
    except NotFound:
        abort(404)


def _page(ret, cancel_form=None, error: str | None = None, status: int = 200):
    return render("supervisor/returns/return.html", status=status, ret=ret, history=state_log(ret),
                  ledger=ledger_rows(ret), sources=SOURCE_LABELS, ledger_reasons=LEDGER_REASONS,
                  allowed=allowed_return_commands(ret.state, manager=True), error=error,
                  cancel_form=cancel_form or ReasonForm(formdata=None, version=ret.version))


@bp.get("/returns/<int:return_id>/")
@role_required(*MANAGERS)
def return_page(return_id: int):
    return _page(_visible(return_id))


@bp.post("/returns/<int:return_id>/cancel")
@role_required(*MANAGERS)
def cancel_return(return_id: int):
    """Cancel a return that will not come back; a stale page or a return received meanwhile is
    answered on the page (409), a missing reason next to its field (422)."""
    ret = _visible(return_id)
    form = ReasonForm()
    if not form.validate_on_submit():
        return _page(ret, cancel_form=form, status=422)
    try:
        version = int(form.version.data)
    except (TypeError, ValueError):  # a page without its version is as good as a stale one
        return _page(ret, error=_('This return changed meanwhile: look at it again, then cancel.'), status=409)
    try:
        run_return_command(return_id, "cancel", {"reason": form.reason.data.strip()}, current_actor(),
                           expected_version=version)
    except (Conflict, ValidationFailed) as exc:
        db.session.rollback()
        return _page(_visible(return_id), cancel_form=form, error=exc.message, status=exc.status)
    flash(_('Return %(number)s is cancelled.', number=ret.number), "ok")
    return redirect(url_for("supervisor.return_page", return_id=return_id), 303)
