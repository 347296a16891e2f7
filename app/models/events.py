"""The outbox of domain events and the transition log of every state change."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, DateTime, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import utcnow

EVENT_TYPES = (
    "order.created",
    "order.status_changed",
    "order.cancelled",
    "order.items_changed",
    "package.created",
    "package.state_changed",
    "package.refused",
    "package.shipped",
    "package.delivered",
    "package.items_changed",
    "shipment.created",
    "shipment.label_ready",
    "shipment.status_changed",
    "transfer.created",
    "transfer.state_changed",
    "stock_location.created",
    "stock_location.updated",
    "purchase_order.created",
    "purchase_order.updated",
    "purchase_order.state_changed",
    "purchase_order.received",
    "inbound_shipment.created",
    "inbound_shipment.status_changed",
    "return.created",
    "return.state_changed",
    "return.refund_ready",
)


def new_event_id() -> str:
    return str(uuid.uuid4())


class OutboxEvent(db.Model):
    """Written in the same transaction as the change; published to RQ after commit (SPEC §7)."""

    __tablename__ = "outbox_events"
    __table_args__ = (
        Index("ix_outbox_events_unpublished", "published_at", "id"),
        Index("ix_outbox_events_aggregate", "aggregate_type", "aggregate_id"),
    )

    # Monotonic sequence for ordering; `event_id` is the public UUID receivers de-duplicate by.
    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_event_id)
    type: Mapped[str] = mapped_column(String(64))
    aggregate_type: Mapped[str] = mapped_column(String(32))
    aggregate_id: Mapped[int] = mapped_column(Integer)
    occurred_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    previous: Mapped[dict] = mapped_column(JSON, default=dict)
    published_at: Mapped[datetime | None] = mapped_column(DateTime)


class TransitionLog(db.Model):
    """Every state change of a package, transfer, shipment or order, with who did it."""

    __tablename__ = "transition_log"
    __table_args__ = (Index("ix_transition_log_entity", "entity_type", "entity_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entity_type: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[int] = mapped_column(Integer)
    from_state: Mapped[str | None] = mapped_column(String(32))
    to_state: Mapped[str] = mapped_column(String(32))
    command: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    actor: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
