"""The demo brand's `web` channel as a simulated Shopify shop (SPEC §13): `make run` starts the
channel simulator with `--place-orders <webhook URL> --secret <secret> --skus ...` and calls
`connect_demo_channel` once, so a new user sees orders arrive, get planned, shipped and synced."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import Channel, StockLocation

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
