"""/api/v1/stock/ledger, /api/v1/stock/at and /api/v1/audit: the stock ledger, stock at a past
moment and the audit log, with the filters of their screens (services/ledger_explorer.py,
services/audit_log.py). Lists follow the API's paging contract; `before_id` walks a long history
newest first without deep pages. A bad filter is a 422 naming the parameter."""

from __future__ import annotations

from flask import jsonify, request
from flask_babel import gettext as _
from sqlalchemy import func, select

from app.extensions import db
from app.models import AuditEntry, StockLedger
from app.models.base import iso
from app.schemas.reports import AuditEntryOut, LedgerEntryOut, StockAtOut
from app.services import audit_log, listing
from app.services import ledger_explorer as ledger
from app.services.audit import KINDS
from app.services.errors import ValidationFailed
from app.services.pagination import PageArgs
from app.views.api.access import actor, require_admin
from app.views.api.lists import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, _page_url
from app.views.api.routing import QueryParam, api_route

DATES = (QueryParam("from", "date", "First day (YYYY-MM-DD, the brand's time zone; 2000 to 2100)"),
         QueryParam("to", "date", "Last day (YYYY-MM-DD), included; not before `from`"))
BEFORE_ID = QueryParam("before_id", "integer", "Only rows older than this id (walk newest first)",
                       maximum=2_147_483_647)


def _refuse(problems: listing.Problems) -> None:
    if problems:
        first = next(iter(problems.found.values()))
        raise ValidationFailed(first, dict(problems.found))


def _not_empty(*names: str) -> None:
    """A date or a choice sent empty is not "no filter" for the API (the screens' forms send empty
    fields; integrations send what they mean)."""
    empty = {name: _("Leave the parameter out or give a value.") for name in names if request.args.get(name) == ""}
    if empty:
        raise ValidationFailed(_("%(name)s is empty.", name=next(iter(empty))), empty)


def _before_id(query, column):
    raw = request.args.get("before_id")
    if raw is None:
        return query
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw[:11]) <= 2_147_483_647 or len(raw) > 11:
        raise ValidationFailed(_("before_id must be a whole number of at least 1."), {"before_id": _("Must be an id.")})
    return query.where(column < int(raw))


def _page(query, count_query, serialize):
    args = PageArgs.strict(request.args, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    total = db.session.scalar(select(func.count()).select_from(count_query.order_by(None).subquery())) or 0
    rows = db.session.execute(query.limit(args.size).offset(args.offset)).all()
    more = args.page * args.size < total
    return jsonify(count=total, next=_page_url(args.page + 1) if more else None,
                   previous=_page_url(args.page - 1) if args.page > 1 else None,
                   results=[serialize(row) for row in rows])


@api_route("/v1/stock/ledger", "GET", summary="The stock ledger: every change of on-hand or reserved, newest first",
           tag="Stock", response=LedgerEntryOut, many=True,
           query=(QueryParam("location", description="Location code"), QueryParam("sku"),
                  QueryParam("reason"), QueryParam("actor"), QueryParam("reference"), *DATES, BEFORE_ID))
def stock_ledger():
    _not_empty("from", "to")
    problems = listing.Problems()
    filters = ledger.read_filters(request.args, actor(), problems)
    _refuse(problems)
    query = _before_id(ledger.ledger_query(actor(), filters), StockLedger.id)
    return _page(query.order_by(StockLedger.id.desc()), query,
                 lambda row: ledger.row_dict(ledger.LedgerRow(*row)))


@api_route("/v1/stock/at", "GET", summary="On-hand and reserved of one location and SKU at a past moment",
           tag="Stock", response=StockAtOut,
           query=(QueryParam("location", required=True, description="Location code"),
                  QueryParam("sku", required=True),
                  QueryParam("at", "date-time", required=True, description="The moment, ISO 8601 (UTC if no offset)")))
def stock_at():
    problems = listing.Problems()
    found = ledger.stock_at(actor(), request.args, problems)
    _refuse(problems)
    return jsonify(location=found.location.code, sku=found.product.sku, at=iso(found.at), on_hand=found.on_hand,
                   reserved=found.reserved, available=found.available,
                   ledger_id=found.entry.id if found.entry else None)


@api_route("/v1/audit", "GET", summary="The audit log: who changed which configuration, newest first (admins)",
           tag="Audit", response=AuditEntryOut, many=True,
           query=(QueryParam("kind", enum=KINDS), QueryParam("action", enum=audit_log.ACTIONS),
                  QueryParam("actor", description="Who: part of 'user:name' or 'token:name#id'"),
                  QueryParam("q", description="Part of the record's name (a code, a username, a URL)"),
                  *DATES, BEFORE_ID))
def audit_entries():
    require_admin()
    _not_empty("from", "to", "kind", "action")
    problems = listing.Problems()
    filters = audit_log.read_filters(request.args, actor(), problems)
    _refuse(problems)
    query = _before_id(audit_log.audit_query(actor(), filters), AuditEntry.id)
    return _page(query.order_by(AuditEntry.id.desc()), query, lambda row: audit_log.entry_dict(row[0]))
