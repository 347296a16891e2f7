"""Webhook subscriptions, one delivery per (event, subscription), and every attempt."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db
from app.models.base import Timestamped, one_of, utcnow
from app.models.events import OutboxEvent

RETRY_STRATEGIES = ("fixed", "linear", "exponential")
DELIVERY_STATUSES = ("pending", "retrying", "succeeded", "failed")


class WebhookSubscription(Timestamped, db.Model):
    __tablename__ = "webhook_subscriptions"
    __table_args__ = (
        one_of("retry_strategy", RETRY_STRATEGIES, "retry_strategy"),
        CheckConstraint("max_attempts >= 1", name="max_attempts_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    events: Mapped[list] = mapped_column(JSON, default=list)  # event types or ["*"]
    secret: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    retry_strategy: Mapped[str] = mapped_column(String(16), default="exponential")
    max_attempts: Mapped[int] = mapped_column(Integer, default=10)
    headers: Mapped[dict] = mapped_column(JSON, default=dict)
    description: Mapped[str | None] = mapped_column(String(300))

    deliveries: Mapped[list[WebhookDelivery]] = relationship(
        back_populates="subscription", cascade="all, delete-orphan", lazy="dynamic"
    )


class WebhookDelivery(db.Model):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("subscription_id", "event_id", name="uq_webhook_deliveries_subscription_event"),
        one_of("status", DELIVERY_STATUSES, "status"),
        Index("ix_webhook_deliveries_status_next", "status", "next_attempt_at"),
        # A subscription's line of first attempts: its oldest pending delivery, found by a seek (0017).
        Index("ix_webhook_deliveries_subscription_status_event", "subscription_id", "status", "event_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    subscription_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"), index=True
    )
    event_id: Mapped[int] = mapped_column(ForeignKey("outbox_events.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(1000))
    # The same sentence as a catalogue message, said in the reader's language (services/said.py).
    last_error_message: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))  # no message: SQL NULL
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime)

    subscription: Mapped[WebhookSubscription] = relationship(back_populates="deliveries")
    event: Mapped[OutboxEvent] = relationship()
    attempt_log: Mapped[list[WebhookAttempt]] = relationship(
        back_populates="delivery", cascade="all, delete-orphan", order_by="WebhookAttempt.id"
    )


class WebhookAttempt(db.Model):
    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    status_code: Mapped[int | None] = mapped_column(Integer)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    response_excerpt: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(String(1000))
    error_message: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))  # the same, said in the reader's language; none: SQL NULL
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    delivery: Mapped[WebhookDelivery] = relationship(back_populates="attempt_log")
