"""GET /api/openapi.json: the OpenAPI 3.1 document, generated from the route registry and the
same pydantic models that validate requests (so the document cannot drift from the code)."""

from __future__ import annotations

import re
from typing import Any

from flask import current_app, jsonify
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from app.schemas.common import ErrorResponse
from app.views.api import bp
from app.views.api.routing import REGISTRY, Operation, QueryParam

REF = "#/components/schemas/{model}"
ERROR_STATUSES = {400: "Malformed request", 401: "Missing or invalid token", 403: "Not allowed for this role",
                  404: "Not found (or outside this token's locations)", 409: "State conflict or duplicate",
                  422: "Validation failed; details name each field"}
_RULE_PARAM = re.compile(r"<(?:(?P<conv>[^:<>]+):)?(?P<name>[^<>]+)>")


_cache: dict[tuple[int, int, int], dict[str, Any]] = {}


@bp.get("/openapi.json")
def openapi():
    # Routes are fixed once the app is built; generating the schemas takes a few hundred ms.
    key = (id(current_app._get_current_object()), len(REGISTRY), len(list(current_app.url_map.iter_rules())))
    if key not in _cache:
        _cache.clear()
        _cache[key] = build_document()
    response = jsonify(_cache[key])
    response.headers["Cache-Control"] = "public, max-age=300"
    return response


def openapi_path(rule: str) -> str:
    """Flask's /api/v1/packages/<int:package_id> as OpenAPI's /api/v1/packages/{package_id}."""
    return _RULE_PARAM.sub(lambda m: "{" + m["name"] + "}", rule)


def build_document() -> dict[str, Any]:
    operations = _expanded(REGISTRY)
    wanted: list[tuple[type[BaseModel], str]] = [(ErrorResponse, "serialization")]
    for op, _path, body in operations:
        if body is not None:
            wanted.append((body, "validation"))
        if op.response is not None:
            wanted.append((op.response, "serialization"))
    wanted = list(dict.fromkeys(wanted))
    refs, top = models_json_schema(wanted, ref_template=REF)
    paths: dict[str, dict[str, Any]] = {}
    for op, path, body in operations:
        paths.setdefault(path, {})[op.method.lower()] = _operation(op, path, body, refs)
    _add_unregistered(paths)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Packline API", "version": "1",
                 "description": "Orders, stock and work orders of Packline. Authenticate with "
                                "`Authorization: Token <token>` (`flask --app wsgi tokens create USERNAME`)."},
        "servers": [{"url": "/"}],
        "security": [{"token": []}],
        "paths": dict(sorted(paths.items())),
        "components": {
            "schemas": top.get("$defs", {}),
            "securitySchemes": {"token": {"type": "apiKey", "in": "header", "name": "Authorization",
                                          "description": "`Token <token>`"}},
        },
    }


def _expanded(registry: list[Operation]) -> list[tuple[Operation, str, type[BaseModel] | None]]:
    """One operation per route, and one per command for `.../commands/<command>` routes."""
    result = []
    for op in registry:
        if op.commands is None:
            result.append((op, openapi_path(op.rule), op.body))
            continue
        for command, model in op.commands().items():
            path = openapi_path(op.rule.replace("<command>", command))
            result.append((op, path, model))
    return result


def _operation(op: Operation, path: str, body: type[BaseModel] | None, refs) -> dict[str, Any]:
    suffix = path.rsplit("/", 1)[-1] if op.commands is not None else ""
    spec: dict[str, Any] = {
        "operationId": op.endpoint.replace("api.", "", 1) + (f"_{suffix}" if suffix else ""),
        "summary": f"{op.summary}: {suffix}" if suffix else op.summary,
        "tags": [op.tag],
        "parameters": _parameters(op, path),
    }
    if body is not None:
        required = op.body_required if op.commands is None else any(
            f.is_required() for f in body.model_fields.values())
        spec["requestBody"] = {"required": required,
                               "content": {"application/json": {"schema": refs[(body, "validation")]}}}
    success = refs[(op.response, "serialization")] if op.response is not None else {"type": "object"}
    if op.many:
        success = {"type": "object", "required": ["count", "next", "previous", "results"], "properties": {
            "count": {"type": "integer"}, "next": {"type": ["string", "null"], "format": "uri"},
            "previous": {"type": ["string", "null"], "format": "uri"},
            "results": {"type": "array", "items": success}}}
    responses: dict[str, Any] = {str(op.status): {"description": "OK" if op.status == 200 else "Created",
                                                  "content": {"application/json": {"schema": success}}}}
    if op.status == 201:
        responses["200"] = {"description": "Already existed: the same body as when it was created",
                            "content": {"application/json": {"schema": success}}}
    error = {"content": {"application/json": {"schema": refs[(ErrorResponse, "serialization")]}}}
    for status, description in ERROR_STATUSES.items():
        if op.method == "GET" and status in (400, 409):
            continue
        responses[str(status)] = {"description": description, **error}
    spec["responses"] = responses
    return spec


def _parameters(op: Operation, path: str) -> list[dict[str, Any]]:
    params = []
    for match in _RULE_PARAM.finditer(op.rule):
        if match["name"] == "command" and op.commands is not None:
            continue
        kind = "integer" if match["conv"] == "int" else "string"
        params.append({"name": match["name"], "in": "path", "required": True, "schema": {"type": kind}})
    for q in op.query:
        params.append(_query(q))
    if op.method in ("POST", "PUT", "PATCH"):
        params.append({"name": "Idempotency-Key", "in": "header", "required": False,
                       "description": "The same key and body within 24 h replays the first response; "
                                      "the same key with another body answers 409.",
                       "schema": {"type": "string", "maxLength": 200}})
    if op.commands is not None:
        params.append({"name": "If-Match", "in": "header", "required": False,
                       "description": "The ETag (version) you last saw; 409 `stale` if it changed since.",
                       "schema": {"type": "string"}})
    return params


def _query(q: QueryParam) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "integer", "minimum": 1} if q.type == "integer" else {"type": "string"}
    if q.type == "date-time":
        schema["format"] = "date-time"
    if q.repeatable:
        return {"name": q.name, "in": "query", "required": False, "description": q.description,
                "schema": {"type": "array", "items": schema}, "style": "form", "explode": True}
    return {"name": q.name, "in": "query", "required": False, "description": q.description, "schema": schema}


def _add_unregistered(paths: dict[str, dict[str, Any]]) -> None:
    """Routes added with plain @bp.get/@bp.post still appear, described by their docstring."""
    known = {op.endpoint for op in REGISTRY}
    for rule in current_app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.endpoint in known:
            continue
        view = current_app.view_functions.get(rule.endpoint)
        doc = (view.__doc__ or "").strip().splitlines() if view else []
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            params = [{"name": m["name"], "in": "path", "required": True,
                       "schema": {"type": "integer" if m["conv"] == "int" else "string"}}
                      for m in _RULE_PARAM.finditer(rule.rule)]
            paths.setdefault(openapi_path(rule.rule), {})[method.lower()] = {
                "operationId": rule.endpoint.replace("api.", "", 1),
                "summary": doc[0] if doc else rule.endpoint,
                "tags": ["Other"], "parameters": params,
                "responses": {"200": {"description": "OK"}},
            }
