"""Inventory out (SPEC §13): available-to-promise per channel and SKU = Σ available at the
channel's locations − safety stock, never below 0, pushed in the channel's own (batch) call.

Which SKUs changed is read from the stock ledger — every change of on_hand or reserved writes
a ledger row in its own transaction (reservations, releases, imports, adjustments, receiving,
batch planning alike) — from a stored cursor, so no hot path carries an extra statement and no
writer can forget to mark a SKU. Many changes of one SKU since the last run become one push,
and only a quantity that differs from what the channel last acknowledged is sent. The sync
delay (first change committed → channel acknowledged) is recorded per SKU. A nightly full
resync pushes every SKU whatever was sent before.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from redis.exceptions import RedisError
from sqlalchemy import func, select

from app.extensions import db
from app.models import Channel, ChannelCursor, ChannelStockSync, Product, Stock, StockLocation
from app.models.base import utcnow
from app.models.stock import StockLedger
from app.queues import redis_connection
from app.services.channels import CONNECTORS, ChannelError, connector_for
from app.services.channels.mappings import channel_skus
from app.services.db import begin_write

log = logging.getLogger("packline.channels")

LEDGER_CURSOR = "stock_ledger"
CATALOG_SECONDS = 600
MAX_PRODUCTS_PER_RUN = 50_000
LOCK_SECONDS = 600


def stock_channels() -> list[Channel]:
    pushing = [name for name, c in CONNECTORS.items() if c.pushes_stock]
    return [c for c in db.session.scalars(select(Channel).where(Channel.adapter.in_(pushing)).order_by(Channel.id))
            if (c.config or {}).get("stock_sync", True)]


def available_to_promise(channel: Channel, product_ids: Iterable[int]) -> dict[int, int]:
    """{product id: ATP} for the channel (0 for products without stock)."""
    ids = list(product_ids)
    config = channel.config or {}
    codes = config.get("locations") or []
    safety = int(config.get("safety_stock") or 0)
    result = dict.fromkeys(ids, 0)
    for start in range(0, len(ids), 1000):
        chunk = ids[start:start + 1000]
        statement = (select(Stock.product_id, func.sum(Stock.on_hand - Stock.reserved))
                     .join(StockLocation, StockLocation.id == Stock.location_id)
                     .where(Stock.product_id.in_(chunk), StockLocation.active.is_(True))
                     .group_by(Stock.product_id))
        if codes:
            statement = statement.where(StockLocation.code.in_(codes))
        for product_id, available in db.session.execute(statement):
            result[product_id] = max(0, int(available or 0) - safety)
    return result


def _catalog(channel: Channel, connector) -> dict[str, Any]:
    """The channel's SKU -> id table (Shopify inventory items, WooCommerce products), cached."""
    if type(connector).catalog is CONNECTORS["api"].catalog:
        return {}
    key = f"packline:channels:catalog:{channel.id}"
    try:
        cached = redis_connection().get(key)
        if cached:
            return json.loads(cached)
    except RedisError:
        pass
    table = connector.catalog()
    try:
        redis_connection().set(key, json.dumps(table), ex=CATALOG_SECONDS)
    except RedisError:
        pass
    return table


def forget_catalog(channel_id: int) -> None:
    try:
        redis_connection().delete(f"packline:channels:catalog:{channel_id}")
    except RedisError:
        pass


def _changed_since_cursor() -> tuple[dict[int, datetime], int | None]:
    cursor = db.session.get(ChannelCursor, LEDGER_CURSOR)
    last = int(cursor.value) if cursor and cursor.value.isdigit() else 0
    if cursor is None:  # the first run starts now: the nightly resync covers what came before
        last = db.session.scalar(select(func.max(StockLedger.id))) or 0
        _save_cursor(last)
        return {}, None
    rows = db.session.execute(select(StockLedger.product_id, func.min(StockLedger.created_at), func.max(StockLedger.id))
                              .where(StockLedger.id > last).group_by(StockLedger.product_id)
                              .limit(MAX_PRODUCTS_PER_RUN)).all()
    if not rows:
        return {}, None
    return {product_id: first for product_id, first, _ in rows}, max(newest for _, _, newest in rows)


def _save_cursor(value: int) -> None:
    begin_write()
    try:
        cursor = db.session.get(ChannelCursor, LEDGER_CURSOR, with_for_update=True)
        if cursor is None:
            db.session.add(ChannelCursor(key=LEDGER_CURSOR, value=str(value), updated_at=utcnow()))
        elif not cursor.value.isdigit() or int(cursor.value) < value:
            cursor.value, cursor.updated_at = str(value), utcnow()
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


def _lock(name: str) -> bool:
    try:
        return bool(redis_connection().set(f"packline:channels:{name}", "1", nx=True, ex=LOCK_SECONDS))
    except RedisError:
        return True


def _unlock(name: str) -> None:
    try:
        redis_connection().delete(f"packline:channels:{name}")
    except RedisError:
        pass


def sync_changes() -> dict[str, Any]:
    """Push the ATP of every SKU whose stock changed since the last run (and of SKUs whose last
    push failed) to every connected channel. Returns counts per channel."""
    if not _lock("stock-sync-lock"):
        return {"skipped": "another worker is syncing"}
    try:
        changed, newest = _changed_since_cursor()
        report: dict[str, Any] = {}
        for channel in stock_channels():
            retry = dict(db.session.execute(select(ChannelStockSync.product_id, ChannelStockSync.error_at).where(
                ChannelStockSync.channel_id == channel.id, ChannelStockSync.error.is_not(None))).all())
            wanted = {**retry, **changed}
            if wanted:
                report[channel.code] = push(channel.id, wanted, only_changed=True)
        if newest is not None:
            _save_cursor(newest)
        return report
    finally:
        _unlock("stock-sync-lock")


def full_resync(channel_id: int | None = None) -> dict[str, Any]:
    """Push every product's ATP to every connected channel (or one), whatever was sent before."""
    report = {}
    for channel in stock_channels():
        if channel_id is not None and channel.id != channel_id:
            continue
        ids = list(db.session.scalars(select(Product.id).order_by(Product.id)))
        report[channel.code] = push(channel.id, dict.fromkeys(ids), only_changed=False)
    return report


def push(channel_id: int, products: dict[int, datetime | None], *, only_changed: bool) -> dict[str, int]:
    """Compute and push the ATP of `products` ({product id: first change time or None}) to one
    channel; record what was acknowledged (and the delay) or why not."""
    channel = db.session.get(Channel, channel_id)
    try:
        connector = connector_for(channel.adapter, channel.config)
    except ChannelError as exc:
        return _record_failures(channel_id, list(products), exc.message)
    atp = available_to_promise(channel, products)
    skus = dict(db.session.execute(select(Product.id, Product.sku).where(Product.id.in_(list(products)))).all()) \
        if len(products) <= 30_000 else dict(db.session.execute(select(Product.id, Product.sku)).all())
    last = dict(db.session.execute(select(ChannelStockSync.product_id, ChannelStockSync.quantity).where(
        ChannelStockSync.channel_id == channel_id, ChannelStockSync.error.is_(None))).all()) if only_changed else {}
    targets = channel_skus(channel_id, [skus[p] for p in products if p in skus])
    quantities: dict[str, int] = {}
    owner: dict[str, int] = {}
    for product_id in products:
        sku = skus.get(product_id)
        if sku is None or (only_changed and last.get(product_id) == atp[product_id]):
            continue
        for theirs in targets.get(sku, [sku]):
            quantities[theirs] = atp[product_id]
            owner[theirs] = product_id
    if not quantities:
        db.session.commit()
        return {"pushed": 0, "failed": 0}
    db.session.commit()  # nothing held while the channel answers
    try:
        result = connector.push_stock(quantities, catalog=_catalog(channel, connector))
    except ChannelError as exc:
        return _record_failures(channel_id, sorted(set(owner.values())), exc.message)
    acknowledged_at = utcnow()
    failed_products = {owner[s]: reason for s, reason in result.failed.items() if s in owner}
    done = {owner[s] for s in result.acknowledged if s in owner} - set(failed_products)
    _record(channel_id, {p: atp[p] for p in done}, failed_products, products, acknowledged_at)
    if result.failed and any("no variant" in r or "no product" in r for r in result.failed.values()):
        forget_catalog(channel_id)  # the shop may have new products since the table was read
    return {"pushed": len(done), "failed": len(failed_products)}


def _record_failures(channel_id: int, product_ids: list[int], message: str) -> dict[str, int]:
    _record(channel_id, {}, dict.fromkeys(product_ids, message), {}, utcnow())
    return {"pushed": 0, "failed": len(product_ids)}


def _record(channel_id: int, done: dict[int, int], failed: dict[int, str], changed_at: dict[int, datetime | None],
            now: datetime) -> None:
    begin_write()
    try:
        rows = {row.product_id: row for row in db.session.scalars(select(ChannelStockSync).where(
            ChannelStockSync.channel_id == channel_id,
            ChannelStockSync.product_id.in_(list(done) + list(failed))).with_for_update())}
        for product_id in [*done, *failed]:
            if product_id not in rows:
                rows[product_id] = ChannelStockSync(channel_id=channel_id, product_id=product_id)
                db.session.add(rows[product_id])
        for product_id, quantity in done.items():
            row = rows[product_id]
            row.quantity, row.pushed_at, row.error, row.error_at = quantity, now, None, None
            first = changed_at.get(product_id)
            row.delay_ms = int((now - first).total_seconds() * 1000) if isinstance(first, datetime) else None
        for product_id, message in failed.items():
            row = rows[product_id]
            row.error, row.error_at = message[:1000], now
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
