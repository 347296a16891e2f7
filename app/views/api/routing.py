"""The API's route registry: `@api_route` adds a Flask route and records the operation, from
which openapi.py builds the OpenAPI document."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pydantic import BaseModel

from app.views.api import bp
from app.views.api.lists import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE


@dataclass(frozen=True)
class QueryParam:
    name: str
    type: str = "string"  # string | integer | date-time
    description: str = ""
    repeatable: bool = False


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


REGISTRY: list[Operation] = []
PAGINATION = (QueryParam("page", "integer", "Page number, from 1."),
              QueryParam("page_size", "integer", f"Rows per page (default {DEFAULT_PAGE_SIZE}, max {MAX_PAGE_SIZE})."))


def api_route(rule: str, method: str, *, summary: str, tag: str, body: type[BaseModel] | None = None,
              response: type[BaseModel] | None = None, status: int = 200, many: bool = False,
              query: Sequence[QueryParam] = (), body_required: bool = True,
              commands: Callable[[], dict[str, type[BaseModel] | None]] | None = None,
              produces: tuple[str, ...] = ("application/json",)):
    """Register a view on the API blueprint and record it for the OpenAPI document."""

    def decorator(view):
        endpoint = view.__name__
        bp.add_url_rule(rule, endpoint=endpoint, view_func=view, methods=[method])
        REGISTRY.append(Operation(rule=bp.url_prefix + rule, method=method, endpoint=f"{bp.name}.{endpoint}",
                                  summary=summary, tag=tag, body=body, response=response, status=status,
                                  many=many, query=tuple(query) + (PAGINATION if many else ()),
                                  body_required=body_required, commands=commands, produces=produces))
        return view

    return decorator
