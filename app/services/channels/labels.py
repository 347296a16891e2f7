"""Labels printed by the marketplace (channels with `provides_shipping_label`): the package's
label fetched from the channel's connector — Trendyol's common label (ZPL) today."""

from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import Channel
from app.services.channels import ChannelError, connector_for


def fetch_channel_label(channel_code: str, tracking_number: str) -> tuple[str, str]:
    """(format, content) of the channel's label for `tracking_number`, e.g. ("ZPL", "^XA...^XZ").
    Raises ChannelError: transient when the channel has no label yet or did not answer (try
    again), permanent when the channel's connector prints no labels or is not configured.
    Makes an HTTP call: never call it inside a transaction."""
    channel = db.session.scalar(select(Channel).where(Channel.code == channel_code))
    if channel is None:
        raise ChannelError(f"There is no channel {channel_code}.", transient=False)
    connector = connector_for(channel.adapter or "api", channel.config)
    db.session.commit()
    return connector.fetch_label(tracking_number)
