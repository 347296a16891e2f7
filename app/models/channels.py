"""Channel connections (SPEC §13): mappings, the inbox of everything a channel sent us, the
status pushes back to it, the stock quantities pushed to it, and small cursors.

The connection itself (`adapter` + `config`) lives on `catalog.Channel`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.base import Timestamped, one_of, utcnow

CHANNEL_ADAPTERS = ("api", "shopify", "woocommerce", "trendyol")
MAPPING_KINDS = ("sku", "location", "payment", "delivery", "cargo", "status")
INBOX_OUTCOMES = ("pending", "imported", "updated", "duplicate", "needs_attention", "ignored", "returned", "failed")
PUSH_KINDS = ("shipped", "delivered", "refused", "cancelled", "refund")
PUSH_STATUSES = ("pending", "done", "failed")


class ChannelMapping(Timestamped, db.Model):
    """One channel value ↔ one of ours, e.g. Shopify variant SKU "TS-M-RED" ↔ our SKU "TSHIRT-M"."""

    __tablename__ = "channel_mappings"
    __table_args__ = (
        UniqueConstraint("channel_id", "kind", "channel_value", name="uq_channel_mappings_value"),
        one_of("kind", MAPPING_KINDS, "ck_channel_mappings_kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    channel_value: Mapped[str] = mapped_column(String(200))
    our_value: Mapped[str] = mapped_column(String(200))


class ChannelInboxEntry(db.Model):
    """Everything a channel sent (a webhook body or one pulled order), raw, with its outcome."""

    __tablename__ = "channel_inbox"
    __table_args__ = (
        # Replays of one delivery are refused by the database itself, whoever receives them.
        UniqueConstraint("channel_id", "delivery_id", name="uq_channel_inbox_delivery"),
        Index("ix_channel_inbox_outcome", "channel_id", "outcome", "id"),
        Index("ix_channel_inbox_order", "channel_id", "channel_order_id"),
        one_of("outcome", INBOX_OUTCOMES, "ck_channel_inbox_outcome"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(8), default="push")  # push | pull
    topic: Mapped[str] = mapped_column(String(100))
    delivery_id: Mapped[str | None] = mapped_column(String(200))
    channel_order_id: Mapped[str | None] = mapped_column(String(100))
    headers: Mapped[dict] = mapped_column(JSON, default=dict)
    body: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    outcome: Mapped[str] = mapped_column(String(20), default="pending")
    reason: Mapped[str | None] = mapped_column(Text)  # English, for logs and the API
    # The same reason as a catalogue message (services/said.py), said in the reader's language.
    reason_message: Mapped[dict | None] = mapped_column(JSON(none_as_null=True))  # no message: SQL NULL
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="SET NULL"))
    return_id: Mapped[int | None] = mapped_column(ForeignKey("returns.id", ondelete="SET NULL"))  # a return it made
    processed_at: Mapped[datetime | None] = mapped_column(DateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class ChannelPush(Timestamped, db.Model):
    """One status change told back to a channel (a package shipped, delivered, refused,
    cancelled), or a return's refund (`refund`, with `return_id` and no package); unique per
    package and kind, or per return and kind, so telling it twice is impossible."""

    __tablename__ = "channel_pushes"
    __table_args__ = (
        UniqueConstraint("package_id", "kind", name="uq_channel_pushes_package_kind"),
        UniqueConstraint("return_id", "kind", name="uq_channel_pushes_return_kind"),
        Index("ix_channel_pushes_order", "order_id"),
        Index("ix_channel_pushes_status", "status", "id"),
        one_of("kind", PUSH_KINDS, "ck_channel_pushes_kind"),
        one_of("status", PUSH_STATUSES, "ck_channel_pushes_status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    package_id: Mapped[int | None] = mapped_column(ForeignKey("packages.id", ondelete="CASCADE"))
    return_id: Mapped[int | None] = mapped_column(ForeignKey("returns.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    # Every attempt: [{"at", "status_code", "ms", "error", "retry_after"}], newest last (capped).
    log: Mapped[list] = mapped_column(JSON, default=list)
    done_at: Mapped[datetime | None] = mapped_column(DateTime)


class ChannelStockSync(db.Model):
    """What a channel was last told about one SKU's available-to-promise quantity."""

    __tablename__ = "channel_stock_syncs"
    __table_args__ = (UniqueConstraint("channel_id", "product_id", name="uq_channel_stock_syncs"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"))
    quantity: Mapped[int | None] = mapped_column(Integer)  # last acknowledged push
    pushed_at: Mapped[datetime | None] = mapped_column(DateTime)
    delay_ms: Mapped[int | None] = mapped_column(Integer)  # stock change committed -> channel acknowledged
    error: Mapped[str | None] = mapped_column(Text)
    error_at: Mapped[datetime | None] = mapped_column(DateTime)


class ChannelCursor(db.Model):
    """A named position: the last outbox event read for status pushes, a channel's pull cursor."""

    __tablename__ = "channel_cursors"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[str] = mapped_column(String(200), default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
