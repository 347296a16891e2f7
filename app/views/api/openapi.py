"""GET /api/openapi.json: the OpenAPI 3.1 document, generated from the route registry and the
same pydantic models that validate requests (so the document cannot drift from the code)."""

from __future__ import annotations

import copy
import re
from typing import Any

from flask import current_app, jsonify
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema
from werkzeug.exceptions import HTTPException

from app.schemas.common import DocumentedSchema, ErrorResponse
from app.views.api import bp
from app.views.api.idempotency import KEY_PATTERN, MAX_KEY_LENGTH
from app.views.api.routing import REGISTRY, Operation, QueryParam
from app.views.api.versions import IF_MATCH_PATTERN

REF = "#/components/schemas/{model}"
ERROR_STATUSES = {400: "Malformed request: not JSON, a bad Idempotency-Key, NUL in the URL",
                  401: "Missing or invalid token", 403: "Not allowed for this role",
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
    refs, top = models_json_schema(wanted, ref_template=REF, schema_generator=DocumentedSchema)
    paths: dict[str, dict[str, Any]] = {}
    for op, path, body in operations:
        paths.setdefault(path, {})[op.method.lower()] = _operation(op, path, body, refs)
    _add_unregistered(paths, refs)
    _add_shadowed(paths)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Packline API", "version": "1",
                 "description": "Orders, stock and work orders of Packline. Authenticate with "
                                "`Authorization: Token <token>` (`flask --app wsgi tokens create USERNAME`). "
                                "Texts are trimmed of surrounding spaces before they are checked, and never "
                                "contain NUL (\\u0000), in a body or in the URL."},
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
        "parameters": _parameters(op),
    }
    if body is not None:
        required = op.body_required if op.commands is None else any(
            f.is_required() for f in body.model_fields.values())
        spec["requestBody"] = {"required": required,
                               "content": {"application/json": {"schema": refs[(body, "validation")]}}}
    if op.multipart is not None:
        spec["requestBody"] = {"required": True, "content": {"multipart/form-data": {"schema": op.multipart}}}
    spec["responses"] = {**_success(op, refs), **_errors(op.method, refs)}
    return spec


def _success(op: Operation, refs) -> dict[str, Any]:
    if op.status == 204:
        return {"204": {"description": "Done; no content"}}
    if op.produces != ("application/json",):
        # Documents (labels, slips): the bytes themselves, each type as the server sends it.
        content = {media: {"schema": {"type": "string", "contentMediaType": media}} for media in op.produces}
        return {str(op.status): {"description": "The document", "content": content}}
    schema = refs[(op.response, "serialization")] if op.response is not None else {"type": "object"}
    if op.many:
        schema = {"type": "object", "required": ["count", "next", "previous", "results"], "properties": {
            "count": {"type": "integer"}, "next": {"type": ["string", "null"], "format": "uri-reference"},
            "previous": {"type": ["string", "null"], "format": "uri-reference"},
            "results": {"type": "array", "items": schema}}}
    content = {"application/json": {"schema": schema}}
    descriptions = {200: "OK", 201: "Created", 202: "Accepted: a background job runs it"}
    responses = {str(op.status): {"description": descriptions.get(op.status, "OK"), "content": content}}
    if op.finds_existing:
        responses["200"] = {"description": "Already existed: the same body as when it was created",
                            "content": content}
    return responses


def _errors(method: str, refs) -> dict[str, Any]:
    error = {"content": {"application/json": {"schema": refs[(ErrorResponse, "serialization")]}}}
    return {str(status): {"description": description, **error} for status, description in ERROR_STATUSES.items()
            if not (method == "GET" and status == 409)}


def _parameters(op: Operation) -> list[dict[str, Any]]:
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
                       "description": "Up to 200 printable ASCII characters. The same key and body within "
                                      "24 h replays the first response; the same key with another body "
                                      "answers 409.",
                       "schema": {"type": "string", "maxLength": MAX_KEY_LENGTH, "pattern": KEY_PATTERN}})
    if op.commands is not None:
        params.append({"name": "If-Match", "in": "header", "required": False,
                       "description": "The ETag (version) you last saw; 409 `stale` if it changed since.",
                       "schema": {"type": "string", "pattern": IF_MATCH_PATTERN}})
    return params


def _query(q: QueryParam) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    if q.type == "integer":
        schema = {"type": "integer", "minimum": 1}
        if q.maximum is not None:
            schema["maximum"] = q.maximum
    elif q.type in ("date-time", "date"):
        schema["format"] = q.type
    if q.enum:
        schema["enum"] = list(q.enum)
    param: dict[str, Any] = {"name": q.name, "in": "query", "required": q.required, "description": q.description,
                             "schema": schema}
    if q.repeatable:
        param["schema"] = {"type": "array", "items": schema, **({"minItems": 1} if q.required else {})}
        param.update(style="form", explode=True)
    return param


def _add_unregistered(paths: dict[str, dict[str, Any]], refs) -> None:
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
                "responses": {"200": {"description": "OK"}, **_errors(method, refs)},
            }


def _add_shadowed(paths: dict[str, dict[str, Any]]) -> None:
    """A fixed path is also a value of a templated one for other methods: GET /products/bulk is the
    product whose SKU is "bulk". List those methods too, as the server's `Allow` header does."""
    by_id = {(spec["operationId"], method): spec for ops in paths.values() for method, spec in ops.items()}
    adapter = current_app.url_map.bind("localhost")
    for path, operations in list(paths.items()):
        if "{" in path:
            continue
        for method in ("get", "put", "patch", "delete", "post"):
            if method in operations:
                continue
            try:
                endpoint, args = adapter.match(path, method=method.upper())
            except HTTPException:
                continue
            found = by_id.get((endpoint.replace("api.", "", 1), method))
            if found is None:
                continue
            spec = copy.deepcopy(found)
            spec["operationId"] += "_" + "_".join(str(v) for v in args.values())
            spec["summary"] += " (" + ", ".join(f"{k} {v!r}" for k, v in args.items()) + ")"
            spec["parameters"] = [p for p in spec["parameters"] if not (p["in"] == "path" and p["name"] in args)]
            operations[method] = spec
