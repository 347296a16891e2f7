"""JSON API v1 under /api/v1, authenticated by `Authorization: Token <token>`.

Every request passes the same edge, in this order: token authentication, impossible URLs,
the Idempotency-Key of a write; at the end, the keyed write's answer is stored and the token's
last use stamped (both ride on the request's own write transaction when it has one).
"""

from __future__ import annotations

from flask import Blueprint, g, request
from redis.exceptions import RedisError
from werkzeug.wrappers import Response

from app.extensions import csrf
from app.schemas import strict_json_input
from app.services import idempotency as idempotency_service
from app.services import token_use
from app.services.actors import Actor
from app.services.db import discard_write_hooks
from app.services.users import user_for_token
from app.views.errors import api_error

bp = Blueprint("api", __name__, url_prefix="/api")
csrf.exempt(bp)  # token-authenticated, no cookies: CSRF does not apply

PUBLIC_ENDPOINTS = {"api.openapi"}


@bp.before_request
def json_types_are_strict() -> None:
    strict_json_input(True)  # `true` is not 1 and "2" is not 2 in an API body (app/schemas)


@bp.before_request
def authenticate_token():
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    header = request.headers.get("Authorization", "")
    scheme, _, raw = header.partition(" ")
    if scheme.lower() != "token" or not raw.strip():
        return api_error(401, "not_authenticated", "Send your API token as 'Authorization: Token <token>'.")
    found = user_for_token(raw.strip())
    if found is None:
        return api_error(401, "invalid_token", "The API token is invalid, revoked, or its user is disabled.")
    user, token = found
    g.api_user = user
    g.actor = Actor.for_user(user, via_token_id=token.id)
    token_use.note_use(token)
    return None


def current_actor() -> Actor:
    return g.actor


from app.views.api.bodies import reject_impossible_urls  # noqa: E402
from app.views.api.idempotency import finish_keyed_write, key_taken_meanwhile, start_keyed_write  # noqa: E402
from app.views.api.routing import refuse_repeated_query_parameters  # noqa: E402

bp.before_request(reject_impossible_urls)
bp.before_request(refuse_repeated_query_parameters)
bp.before_request(start_keyed_write)
bp.register_error_handler(idempotency_service.KeyInUse, key_taken_meanwhile)


@bp.errorhandler(RedisError)
def job_queue_unreachable(_exc: RedisError):
    return api_error(503, "queue_unavailable", "The job queue is not reachable right now; nothing was started. "
                     "Try again in a minute.")


@bp.after_request
def end_of_request(response: Response) -> Response:
    response = finish_keyed_write(response)
    token_use.stamp_now()
    return response


@bp.after_app_request
def never_cached(response: Response) -> Response:
    # API answers (errors for unknown URLs under /api too) carry customers' data and live states:
    # no browser or proxy keeps a copy.
    if request.path.startswith(bp.url_prefix + "/"):
        response.headers.setdefault("Cache-Control", "no-store")
    return response


@bp.teardown_request
def forget_request_state(_exc: BaseException | None) -> None:
    strict_json_input(False)
    idempotency_service.discard()
    discard_write_hooks()


from app.views.api import (  # noqa: E402,F401
    catalog,
    channels,  # noqa: E402,F401
    imports,
    inbound,  # noqa: E402,F401
    jobs,
    labels,  # noqa: E402,F401
    locations,
    me,  # noqa: E402,F401  (routes register on bp)
    openapi,
    orders,
    packages,
    planning,  # noqa: E402,F401
    reports,
    returns,  # noqa: E402,F401
    settings,
    stock,
    transfers,
    webhooks,  # noqa: E402,F401
)
