"""The stock ledger explorer and stock at a past moment, for supervisors (their locations) and admins."""

from __future__ import annotations

from flask import request

from app.models.base import utcnow
from app.services import ledger_explorer as ledger
from app.services import listing, local_times
from app.services.actors import Actor
from app.views.htmx import render
from app.views.reports import LIST_PAGES, MANAGERS, bp, current_actor
from app.views.security import role_required


def ledger_page(actor: Actor, earlier: listing.Problems | None = None):
    problems = earlier or listing.Problems()
    filters = ledger.read_filters(request.args, actor, problems)
    size = listing.page_size(request.args, problems)
    cursor = listing.decode_cursor(request.args.get("after"), ledger.CURSOR_KINDS, problems)
    page = None if problems else ledger.page(actor, filters, cursor, size)
    return render("reports/ledger.html", "reports/_ledger_table.html", status=422 if problems else 200,
                  filters=filters, size=size, results=page, problems=problems.found, paged=cursor is not None,
                  locations=ledger.visible_locations(actor))


LIST_PAGES["ledger"] = ledger_page


@bp.get("/ledger/")
@role_required(*MANAGERS)
def ledger_list():
    return ledger_page(current_actor())


@bp.get("/ledger/at")
@role_required(*MANAGERS)
def stock_at():
    """On-hand and reserved of one (location, SKU) at a past moment; the empty form first."""
    actor = current_actor()
    problems = listing.Problems()
    asked = any(request.args.get(k) for k in ("location", "sku", "at"))
    found = ledger.stock_at(actor, request.args, problems, local=True) if asked else None
    return render("reports/stock_at.html", status=422 if asked and problems else 200, found=found,
                  problems=problems.found if asked else {}, args=request.args,
                  locations=ledger.visible_locations(actor),
                  zone=local_times.zone_name(found.location) if found else None,
                  future=bool(found) and found.at > utcnow())
