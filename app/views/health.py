"""GET /healthz for load balancers: database and Redis reachable."""

from __future__ import annotations

from flask import Blueprint, jsonify
from sqlalchemy import text

from app.extensions import db
from app.queues import redis_connection

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    checks: dict[str, str] = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # any driver error means "not healthy", never a 500
        checks["database"] = f"error: {type(exc).__name__}"
    finally:
        db.session.rollback()
    try:
        redis_connection().ping()
        checks["redis"] = "ok"
    except Exception as exc:
        checks["redis"] = f"error: {type(exc).__name__}"
    healthy = all(v == "ok" for v in checks.values())
    return jsonify(status="ok" if healthy else "unavailable", checks=checks), 200 if healthy else 503
