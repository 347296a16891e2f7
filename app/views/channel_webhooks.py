"""`POST /channels/<code>/webhooks[/<topic>]`: where Shopify and WooCommerce deliver their
signed order webhooks. No session and no CSRF (the channel's signature is the credential); its
own body-size and rate limits; it answers fast — mapping runs as a job."""

from __future__ import annotations

import time

from flask import Blueprint, current_app, jsonify, request
from redis.exceptions import RedisError

from app.extensions import csrf
from app.queues import redis_connection
from app.services.channels import intake

bp = Blueprint("channel_webhooks", __name__, url_prefix="/channels")
csrf.exempt(bp)

DEFAULT_MAX_BYTES = 2 * 1024 * 1024  # Shopify's and WooCommerce's order bodies are a few kB
DEFAULT_RATE_PER_SECOND = 100


def _too_fast(code: str) -> bool:
    """At most CHANNEL_WEBHOOK_RATE deliveries per second per channel (Redis counter); a Redis
    outage lets deliveries through rather than dropping orders."""
    limit = int(current_app.config.get("CHANNEL_WEBHOOK_RATE") or DEFAULT_RATE_PER_SECOND)
    key = f"packline:channels:webhook-rate:{code[:64]}:{int(time.time())}"
    try:
        conn = redis_connection()
        count = conn.incr(key)
        if count == 1:
            conn.expire(key, 2)
    except RedisError:
        return False
    return count > limit


@bp.post("/<code>/webhooks", defaults={"topic": None})
@bp.post("/<code>/webhooks/<path:topic>")
def receive(code: str, topic: str | None):
    limit = int(current_app.config.get("CHANNEL_WEBHOOK_MAX_BYTES") or DEFAULT_MAX_BYTES)
    if request.content_length is not None and request.content_length > limit:
        return jsonify(error=f"The body is larger than {limit // 1024} kB; Packline refuses it."), 413
    body = request.stream.read(limit + 1)
    if len(body) > limit:
        return jsonify(error=f"The body is larger than {limit // 1024} kB; Packline refuses it."), 413
    if _too_fast(code):
        response = jsonify(error="Too many webhooks at once; try again in a second.")
        response.headers["Retry-After"] = "1"
        return response, 429
    receipt = intake.receive_webhook(code, topic, dict(request.headers), body)
    return jsonify(receipt.body), receipt.status
