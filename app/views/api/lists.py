"""Paged lists: `{"count", "next", "previous", "results"}` with absolute links."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from flask import Response, current_app, jsonify, request
from sqlalchemy import select

from app.models import TransitionLog
from app.models.base import iso
from app.services.pagination import PageArgs
from app.services.pagination import paginate as page_of

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


def _page_url(page: int) -> str:
    """The link to another page. Never built from an unchecked Host header: from PUBLIC_URL, else
    from the request's host when Flask checked it against TRUSTED_HOSTS (or outside production),
    else relative to this server."""
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "page"] + [("page", str(page))]
    query = urlencode(args)
    config = current_app.config
    if config.get("PUBLIC_URL"):
        return f"{config['PUBLIC_URL'].rstrip('/')}{request.path}?{query}"
    if config.get("TRUSTED_HOSTS") or config.get("ENV_NAME") != "production":
        return f"{request.base_url}?{query}"
    return f"{request.path}?{query}"


def paginate(stmt, serialize: Callable[[Any], dict[str, Any]]) -> Response:
    """{"count", "next", "previous", "results"} for a select() of ORM rows (already ordered)."""
    page = page_of(stmt, PageArgs.strict(request.args, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE))
    return jsonify(
        count=page.total,
        next=_page_url(page.next_num) if page.has_next else None,
        previous=_page_url(page.prev_num) if page.has_prev else None,
        results=[serialize(row) for row in page.items],
    )


def history_page(entity_type: str, entity_id: int) -> Response:
    """The transition log of one work order, oldest first, as a page of TransitionOut."""
    stmt = (select(TransitionLog).where(TransitionLog.entity_type == entity_type,
                                        TransitionLog.entity_id == entity_id).order_by(TransitionLog.id))
    return paginate(stmt, lambda row: {
        "id": row.id, "from_state": row.from_state, "to_state": row.to_state, "command": row.command,
        "params": row.params or {}, "actor": row.actor, "at": iso(row.created_at)})
