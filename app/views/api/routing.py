"""The API's route registry: `@api_route` adds a Flask route and records the operation, from
which openapi.py builds the OpenAPI document."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache

from flask import request
from pydantic import BaseModel

from app.services.errors import ValidationFailed
from app.services.pagination import MAX_PAGE
from app.views.api import bp
from app.views.api.lists import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE


@dataclass(frozen=True)
class QueryParam:
    name: str
    type: str = "string"  # string | integer | date-time | date
    description: str = ""
    repeatable: bool = False
    required: bool = False
    enum: tuple[str, ...] = ()  # the only values the server takes
    maximum: int | None = None  # integers


@dataclass
class Operation:
    rule: str
    method: str
    endpoint: str
    summary: str
    tag: str
    body: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    many: bool = False  # a paginated list of `response`
    query: Sequence[QueryParam] = ()
    body_required: bool = True
    # Per-command request models for ".../commands/<command>" routes, resolved when the document is built.
    commands: Callable[[], dict[str, type[BaseModel] | None]] | None = None
    produces: tuple[str, ...] = ("application/json",)
    finds_existing: bool = False  # a create that answers 200 with the record when it already exists
    multipart: dict | None = None  # a multipart/form-data body (a file upload): its JSON schema


REGISTRY: list[Operation] = []
PAGINATION = (QueryParam("page", "integer", "Page number, from 1.", maximum=MAX_PAGE),
              QueryParam("page_size", "integer", f"Rows per page (default {DEFAULT_PAGE_SIZE}).",
                         maximum=MAX_PAGE_SIZE))


def api_route(rule: str, method: str, *, summary: str, tag: str, body: type[BaseModel] | None = None,
              response: type[BaseModel] | None = None, status: int = 200, many: bool = False,
              query: Sequence[QueryParam] = (), body_required: bool = True,
              commands: Callable[[], dict[str, type[BaseModel] | None]] | None = None,
              produces: tuple[str, ...] = ("application/json",), finds_existing: bool = False,
              multipart: dict | None = None):
    """Register a view on the API blueprint and record it for the OpenAPI document."""

    def decorator(view):
        endpoint = view.__name__
        bp.add_url_rule(rule, endpoint=endpoint, view_func=view, methods=[method])
        REGISTRY.append(Operation(rule=bp.url_prefix + rule, method=method, endpoint=f"{bp.name}.{endpoint}",
                                  summary=summary, tag=tag, body=body, response=response, status=status,
                                  many=many, query=tuple(query) + (PAGINATION if many else ()),
                                  body_required=body_required, commands=commands, produces=produces,
                                  finds_existing=finds_existing, multipart=multipart))
        return view

    return decorator


def refuse_repeated_query_parameters() -> None:
    """A query parameter the document takes once (`page`, a date, `format`) must come once: which
    of two values would count is a guess, so it is a 422 naming the parameter."""
    op = _by_endpoint().get((request.endpoint, "GET" if request.method == "HEAD" else request.method))
    if op is None:
        return
    repeated = {q.name: "Give this parameter once." for q in op.query
                if not q.repeatable and len(request.args.getlist(q.name)) > 1}
    if repeated:
        raise ValidationFailed(f"{', '.join(repeated)} may be given only once.", repeated)


@cache
def _by_endpoint() -> dict[tuple[str, str], Operation]:
    return {(op.endpoint, op.method): op for op in REGISTRY}
