"""A channel as a master-data record with its connection: the API's write path (create and
PATCH through `services.records`), with the adapter's config validated and secrets kept
write-only. The admin's plain channel form keeps using `masterdata.CHANNELS`, which leaves the
connection alone."""

from __future__ import annotations

from typing import Any

from flask import current_app, has_request_context, request

from app.models import Channel
from app.schemas.channels import ChannelIn, ChannelPatch
from app.services import records
from app.services.channels import CONNECTORS, config_problems
from app.services.channels.config import keep_secrets, masked
from app.services.records import Kind


def secret_fields(adapter: str) -> tuple[str, ...]:
    connector = CONNECTORS.get(adapter)
    return connector.secret_fields if connector else ()


def _record(channel: Channel) -> dict[str, Any]:
    return {"code": channel.code, "name": channel.name, "provides_shipping_label": channel.provides_shipping_label,
            "adapter": channel.adapter or "api", "config": dict(channel.config or {})}


def _check(body: dict[str, Any]) -> dict[str, str]:
    return config_problems(body.get("adapter") or "api", body.get("config") or {})


CHANNEL_CONNECTIONS = Kind(Channel, "code", ChannelIn, ChannelPatch, "channel", _record, check=_check)


def webhook_url(channel: Channel) -> str | None:
    """The absolute URL to paste into the channel's webhook settings (push channels only)."""
    connector = CONNECTORS.get(channel.adapter or "api")
    if connector is None or not connector.receives_webhooks:
        return None
    base = current_app.config.get("PUBLIC_URL") or (request.url_root if has_request_context() else "")
    return f"{str(base).rstrip('/')}/channels/{channel.code}/webhooks"


def public_dict(channel: Channel) -> dict[str, Any]:
    """The channel as the API and admin show it: secrets masked, the webhook URL added."""
    adapter = channel.adapter or "api"
    return {"code": channel.code, "name": channel.name, "provides_shipping_label": channel.provides_shipping_label,
            "adapter": adapter, "config": masked(channel.config, secret_fields(adapter)),
            "webhook_url": webhook_url(channel)}


def create(data: Any, actor) -> Channel:
    return records.create(CHANNEL_CONNECTIONS, data, actor)


def update(code: str, data: Any, actor) -> Channel:
    """PATCH a channel; secrets left out, empty or masked keep their stored values (only when
    the adapter stays the same: another adapter's secrets mean nothing)."""
    if isinstance(data, dict) and "config" in data:
        channel = records.get(CHANNEL_CONNECTIONS, code)
        adapter = data.get("adapter") or channel.adapter
        if adapter == channel.adapter:
            data = {**data, "config": keep_secrets(channel.config, data["config"], secret_fields(adapter))}
    return records.update(CHANNEL_CONNECTIONS, code, data, actor)


def connection_changed(channel: Channel) -> None:
    """After a channel's connection was saved (committed): forget the shop's cached catalog and
    send every SKU's quantity to a stock-taking channel, so a newly connected shop starts right."""
    from app.services.channels.inventory import forget_catalog
    from app.services.package_commands.common import safe_enqueue

    forget_catalog(channel.id)
    connector = CONNECTORS.get(channel.adapter or "api")
    if connector is not None and connector.pushes_stock:
        safe_enqueue("channels", "app.tasks.channels.full_resync", channel.id, job_id=f"channel-resync-{channel.id}")
