"""The demo brand's `web` channel as a simulated Shopify shop (SPEC §13): `make run` starts the
channel simulator with `--place-orders <webhook URL> --secret <secret> --skus ...` and calls
`connect_demo_channel` once, so a new user sees orders arrive, get planned, shipped and synced."""

from __future__ import annotations

from urllib.parse import urlsplit

from sqlalchemy import select

from app.extensions import db
from app.models import Channel, Product, Stock, StockLocation
from app.services.db import begin_write

DEMO_SECRET = "demo-webhook-secret"
DEMO_SHOPIFY_LOCATION = 1


def connect_demo_channel(code: str, simulator_url: str, secret: str = DEMO_SECRET) -> Channel | None:
    """Point channel `code` at the simulator's Shopify shop (idempotent; commits). Returns the
    channel, or None when it does not exist."""
    channel = db.session.scalar(select(Channel).where(Channel.code == code))
    if channel is None:
        return None
    locations = list(db.session.scalars(select(StockLocation.code).where(StockLocation.active.is_(True))
                                        .order_by(StockLocation.code)))
    channel.adapter = "shopify"
    channel.config = {"base_url": simulator_url.rstrip("/"), "access_token": "shpat_demo", "webhook_secret": secret,
                      "location_id": DEMO_SHOPIFY_LOCATION, "locations": locations, "safety_stock": 0,
                      "default_cargo_company": (channel.config or {}).get("default_cargo_company") or "demo"}
    db.session.commit()
    return channel


def connect_demo_shop(code: str, simulator_url: str, limit: int = 12) -> list[str]:
    """`make run`'s demo shop: connect channel `code` to the simulator at `simulator_url` and return
    up to `limit` SKUs with stock at the demo's locations for its orders. Leaves alone (and
    returns []) a database that is not the demo brand (no location tagged `demo`, as
    `services/demo.py` seeds them), without that channel, or whose channel is connected to
    anything but a simulator on this machine, so a brand's own data never gets demo orders.
    Reads and writes in one write transaction: `make run`'s worker is busy planning the demo's
    orders at that moment, and on SQLite a read transaction cannot become a writer then."""
    begin_write()
    skus = _demo_skus(code, limit)
    if not skus:
        db.session.rollback()  # ends the write transaction: nothing to change
        return []
    connect_demo_channel(code, simulator_url)  # commits
    return skus


def _demo_skus(code: str, limit: int) -> list[str]:
    channel = db.session.scalar(select(Channel).where(Channel.code == code))
    demo_locations = [loc.id for loc in db.session.scalars(select(StockLocation).where(StockLocation.active.is_(True)))
                      if "demo" in (loc.tags or [])]
    if channel is None or not demo_locations:
        return []
    if channel.adapter not in (None, "api"):
        host = urlsplit(str((channel.config or {}).get("base_url") or "")).hostname
        if channel.adapter != "shopify" or host not in ("127.0.0.1", "localhost"):
            return []
    return list(db.session.scalars(
        select(Product.sku).join(Stock, Stock.product_id == Product.id)
        .where(Stock.on_hand > Stock.reserved, Stock.location_id.in_(demo_locations))
        .group_by(Product.sku).order_by(Product.sku).limit(limit)))
