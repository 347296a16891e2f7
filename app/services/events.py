"""The outbox: domain events written in the same transaction as the change (SPEC §7).

`emit` only adds rows; after the public service function commits, the relay (webhooks issue)
publishes them. Event `data` is the object as the API returns it.
"""

from __future__ import annotations

from typing import Any

from app.extensions import db
from app.models.events import EVENT_TYPES, OutboxEvent, TransitionLog
from app.services import deferred_rows


def emit(event_type: str, aggregate_type: str, aggregate_id: int, data: dict[str, Any],
         previous: dict[str, Any] | None = None) -> OutboxEvent | None:
    """Add the event to the outbox; its ORM object, or None while `deferred_rows` takes it."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {event_type}")
    row = {"type": event_type, "aggregate_type": aggregate_type, "aggregate_id": aggregate_id,
           "data": data, "previous": previous or {}}
    if deferred_rows.defer(OutboxEvent.__table__, row):
        return None
    event = OutboxEvent(**row)
    db.session.add(event)
    return event


def log_transition(entity_type: str, entity_id: int, from_state: str | None, to_state: str, command: str,
                   params: dict[str, Any] | None, actor: str) -> TransitionLog | None:
    row = {"entity_type": entity_type, "entity_id": entity_id, "from_state": from_state, "to_state": to_state,
           "command": command, "params": _loggable(params or {}), "actor": actor}
    if deferred_rows.defer(TransitionLog.__table__, row):
        return None
    log = TransitionLog(**row)
    db.session.add(log)
    return log


def _loggable(params: dict[str, Any]) -> dict[str, Any]:
    """Parameters as logged: documents are summarised, never stored twice."""
    out = {}
    for key, value in params.items():
        if key == "document_base64" and isinstance(value, str):
            out[key] = f"<{len(value)} base64 chars>"
        elif key == "otp":
            out[key] = "***"
        else:
            out[key] = value
    return out
