"""The audit log for admins: who changed which configuration, when, from what to what."""

from __future__ import annotations

from flask import request

from app.services import audit_log, listing
from app.services.actors import Actor
from app.services.audit import KINDS
from app.views.htmx import render
from app.views.reports import LIST_PAGES, bp, current_actor
from app.views.security import role_required


def audit_page(actor: Actor, earlier: listing.Problems | None = None):
    problems = earlier or listing.Problems()
    filters = audit_log.read_filters(request.args, actor, problems)
    size = listing.page_size(request.args, problems)
    cursor = listing.decode_cursor(request.args.get("after"), audit_log.CURSOR_KINDS, problems)
    page = None if problems else audit_log.page(actor, filters, cursor, size)
    return render("reports/audit.html", "reports/_audit_table.html", status=422 if problems else 200,
                  filters=filters, size=size, results=page, problems=problems.found, paged=cursor is not None,
                  kinds=KINDS, actions=audit_log.ACTIONS, changes_text=audit_log.changes_text,
                  kind_label=audit_log.kind_label)


LIST_PAGES["audit"] = audit_page


@bp.get("/audit/")
@role_required("admin")
def audit():
    return audit_page(current_actor())
